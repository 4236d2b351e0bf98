"""``dsgit restore --at TIME``: plan the values current at a time (DESIGN.md §8).

For each standard store restored (every declared one, or those named with ``--store``, declared
or not) and each of its scopes (the declared scopes, or all of them: ``-``), the keys are
listed, deleted ones included, and every key is read twice: as it is and as it was at TIME
(``@latest:<time>``). Then:

- existed at TIME                  -> write that value back (create it again if deleted since);
- did not exist at TIME, exists now -> delete it, with the usual destructive diagnostics (DSP001
  per entry, DSP003 mass delete) unless ``--allow-deletes REASON`` suppresses DSP001; when the
  entry was created before TIME the delete also carries a DSP048 warning (it may have existed
  then, its version overwritten later in its hour);
- a failed listing or read         -> an error diagnostic: nothing in that scope is guessed.

Roblox keeps revisions for 30 days, so TIME must be within them; ordered data stores keep no
revisions and are left out (DSP044).

Roblox keeps only one version per key per UTC hour (the hour's last write), so the value found
is the last one *kept* at or before TIME, which may be older than what was live at TIME. Each
change's reason says how long before TIME its value was written, and one DSP047 note gives the
nearest and farthest of those (over the entries the plan changes), so a reviewer sees how
close to TIME the restore really gets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from dsgit.crypto import Keyring
from dsgit.errors import ConfigError, DsgitError, RateLimitedError, RunFatal
from dsgit.model.declaration import Declaration, Suppression
from dsgit.model.entry import RESERVED_STORE, Address, LiveEntry, StoreKind
from dsgit.model.overrides import for_environment
from dsgit.plan.build import DEFAULT_EXPIRY, PlanSettings, build_plan
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.desired import DesiredEntry, DesiredState, Removal, StoreSpec
from dsgit.plan.live import LiveValue, ScopeKey, ScopeListing
from dsgit.plan.model import Action, Diagnostic, Plan, PlanKind, format_time, parse_time
from dsgit.plan.targets import AddressFilter
from dsgit.planning.read import fix_for
from dsgit.remote.api import OpenCloudApi
from dsgit.undo.desired import (
    desired_entry,
    kept_note,
    kept_ownership,
    store_spec,
    undo_policy,
)
from dsgit.undo.finish import finish_plan, schema_warnings
from dsgit.undo.reading import read_at, read_now

__all__ = ["REVISION_WINDOW", "RestoreRequest", "plan_restore"]

REVISION_WINDOW = timedelta(days=30)  # how long Open Cloud keeps revisions
ALL_SCOPES = "-"


@dataclass(frozen=True)
class RestoreRequest:
    """What the user asked: the time, the stores (empty: every declared one) and filters."""

    at: datetime
    environment: str
    universe_id: int
    stores: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    allow_deletes: str | None = None
    expires_in: timedelta = DEFAULT_EXPIRY
    now: datetime | None = field(default=None)


def _scopes(declaration: Declaration, store: str) -> tuple[str, ...]:
    found = declaration.stores.get((StoreKind.STANDARD, store))
    if found is None:
        return (ALL_SCOPES,)
    return found.managed_scopes() or (ALL_SCOPES,)


def _chosen_stores(
    declaration: Declaration, request: RestoreRequest
) -> tuple[list[str], list[Diagnostic]]:
    """Standard stores to restore, and DSP044 notes for ordered ones left out."""
    notes: list[Diagnostic] = []
    declared_standard = {n for (k, n) in declaration.stores if k is StoreKind.STANDARD}
    declared_ordered = {n for (k, n) in declaration.stores if k is StoreKind.ORDERED}
    if request.stores:
        names = sorted(set(request.stores))
        skipped = [n for n in names if n in declared_ordered and n not in declared_standard]
        names = [n for n in names if n not in skipped]
    else:
        names = sorted(declared_standard)
        skipped = sorted(declared_ordered)
    for name in skipped:
        notes.append(
            diagnostic(
                DiagnosticCode.ORDERED_NOT_RESTORABLE,
                f"ordered:{name}: ordered data stores keep no revisions and are not restored",
                store=f"ordered:{name}",
            )
        )
    return [n for n in names if n != RESERVED_STORE], notes


def _exact(at: datetime) -> str:
    """RFC 3339 UTC, with the fraction of a second when there is one (the plan records the
    exact time it read at)."""
    if at.microsecond:
        return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return format_time(at)


def _check_time(at: datetime, now: datetime) -> None:
    if at.tzinfo is None:
        raise ConfigError(f"--at {at.isoformat()}: give a time zone (e.g. Z for UTC)")
    if at > now:
        raise ConfigError(f"--at {format_time(at)} is in the future (now {format_time(now)})")
    if now - at > REVISION_WINDOW:
        raise ConfigError(
            f"--at {format_time(at)} is more than 30 days ago: Open Cloud keeps revisions for "
            "30 days, so older values cannot be read (revert an apply from its pre-images "
            "with `dsgit revert APPLY` instead)"
        )


def _age_text(delta: timedelta) -> str:
    """``0s``, ``42s``, ``5m 3s``, ``1h 5m``, ``2d 3h``: two units at most."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    shown = [f"{n}{unit}" for n, unit in parts if n][:2]
    return " ".join(shown) or "0s"


def _ages(found: Mapping[Address, LiveValue | None], at: datetime) -> dict[Address, timedelta]:
    """How long before ``at`` each value found was written (its revision time)."""
    ages: dict[Address, timedelta] = {}
    for address, entry in found.items():
        if isinstance(entry, LiveEntry) and entry.revision_create_time:
            try:
                written = parse_time(entry.revision_create_time)
            except ValueError:
                continue
            ages[address] = max(timedelta(0), at - written)
    return ages


def _created_by(entry: LiveEntry, at: datetime) -> bool:
    """True when the entry was created at or before ``at``: with no version kept from then, it
    was deleted by then or its version was overwritten later in its hour."""
    if not entry.create_time:
        return False
    try:
        return parse_time(entry.create_time) <= at
    except ValueError:
        return False


def _unreadable(address: Address, entry: LiveEntry, when: str) -> Diagnostic:
    """DSP048: a delete planned for an entry created before TIME, which may have existed then."""
    return diagnostic(
        DiagnosticCode.RESTORE_DELETE_MAY_HAVE_EXISTED,
        f"{address}: created {entry.create_time}, before {when}, but no version of it is kept "
        "at or before that time: it was deleted by then, or (Roblox keeps only each UTC "
        "hour's last write) its value of that time was overwritten later in its hour; if so, "
        "this delete removes an entry that existed at that time",
        address=str(address),
    )


def _closeness(ages: Mapping[Address, timedelta], when: str) -> Diagnostic | None:
    """DSP047: the nearest and farthest distance from TIME of the values found."""
    if not ages:
        return None
    farthest = max(ages, key=lambda address: (ages[address], str(address)))
    nearest = min(ages.values())
    if len(ages) == 1:
        span = f"the value found was written {_age_text(ages[farthest])} before it ({farthest})"
    else:
        span = (
            f"the {len(ages)} values found were written {_age_text(nearest)} to "
            f"{_age_text(ages[farthest])} before it (farthest: {farthest})"
        )
    return diagnostic(
        DiagnosticCode.RESTORE_VALUE_AGE,
        f"restore to {when}: {span}. Roblox keeps one version per key per UTC hour (its last "
        f"write), so a value live at {when} but overwritten later in its hour cannot be read; "
        "the value kept before it is used",
        count=len(ages),
    )


def _list(
    api: OpenCloudApi, store: str, scope: str, select: AddressFilter
) -> tuple[dict[ScopeKey, set[str]], set[Address], Diagnostic | None]:
    """Live keys per scope (not deleted) and every selected address, deleted ones included."""
    live: dict[ScopeKey, set[str]] = defaultdict(set)
    addresses: set[Address] = set()
    try:
        for item in api.list_keys(store, scope, show_deleted=True):
            address = Address.standard(store, item.key, item.scope)
            if not item.deleted:
                live[(StoreKind.STANDARD, store, item.scope)].add(item.key)
            if select.selects(address):
                addresses.add(address)
    except RunFatal:
        raise  # the run is over (unreachable, key refused): one error, no plan
    except DsgitError as exc:
        code = (
            DiagnosticCode.LISTING_THROTTLED
            if isinstance(exc, RateLimitedError)
            else DiagnosticCode.LISTING_FAILED
        )
        label = f"standard:{store}"
        return (
            {},
            set(),
            diagnostic(
                code,
                f"{label}/{scope}: listing failed ({exc}); nothing in this scope is restored",
                store=label,
                fix=fix_for(exc, None),
            ),
        )
    return live, addresses, None


def plan_restore(
    api: OpenCloudApi,
    request: RestoreRequest,
    *,
    declaration: Declaration,
    keyring: Keyring | None = None,
    erased: Callable[[Address], bool] | None = None,
) -> Plan:
    """The plan that puts the chosen stores back to what they held at ``request.at``.

    ``erased`` tells the entries a right-to-erasure request erased: Roblox keeps their earlier
    revisions for up to 30 days, and a restore must never write them back (DSP049)."""
    declaration = for_environment(declaration, request.environment)
    now = request.now or datetime.now(UTC)
    _check_time(request.at, now)
    at = request.at.astimezone(UTC)
    select = AddressFilter(request.targets, request.excludes)
    names, notes = _chosen_stores(declaration, request)
    listings: dict[ScopeKey, ScopeListing] = {}
    addresses: set[Address] = set()
    scopes_of: dict[str, set[str]] = defaultdict(set)
    for name in names:
        if not select.may_select_store(StoreKind.STANDARD, name):
            continue
        for scope in _scopes(declaration, name):
            live_keys, found, failure = _list(api, name, scope, select)
            if failure is not None:
                notes.append(failure)
                if scope != ALL_SCOPES:
                    listings[(StoreKind.STANDARD, name, scope)] = ScopeListing.failed()
                continue
            if scope != ALL_SCOPES:
                live_keys.setdefault((StoreKind.STANDARD, name, scope), set())
            for key, keys in live_keys.items():
                listings[key] = ScopeListing(ok=True, keys=frozenset(keys))
                scopes_of[name].add(key[2])
            addresses |= found
    then = read_at(api, addresses, at)
    current = read_now(api, addresses - then.failed)
    when = _exact(at)
    reason = f"did not exist at {when}"
    allow = (
        (Suppression(DiagnosticCode.ENTRY_DELETE, request.allow_deletes),)
        if request.allow_deletes
        else ()
    )
    entries: dict[Address, DesiredEntry | Removal | None] = {}
    unsure: dict[Address, list[Diagnostic]] = {}
    left_erased = 0
    for address in sorted(addresses - then.failed - current.failed):
        old = then.entries.get(address)
        if isinstance(old, LiveEntry) and erased is not None and erased(address):
            left_erased += 1
            continue
        if isinstance(old, LiveEntry):
            policy = undo_policy(declaration, address)
            entries[address] = desired_entry(address, old.data, policy, keyring)
        elif (now_entry := current.entries.get(address)) is not None:
            kept = kept_ownership((declaration,), address)
            if kept is not None:
                notes.append(kept_note(address, kept, reason))
                continue
            if isinstance(now_entry, LiveEntry) and _created_by(now_entry, at):
                unsure[address] = [_unreadable(address, now_entry, when)]
                entries[address] = Removal(f"no version kept at {when}, created before", allow)
                continue
            entries[address] = Removal(reason, allow)
    if left_erased:
        notes.append(
            diagnostic(
                DiagnosticCode.RESTORE_LEAVES_ERASED,
                f"{left_erased} entr{'y' if left_erased == 1 else 'ies'} erased by a "
                f"right-to-erasure request left out: Roblox still keeps their revisions at "
                f"{when}, but a restore never writes an erased user's data back",
                count=left_erased,
            )
        )
    stores: dict[tuple[StoreKind, str], StoreSpec] = {
        (StoreKind.STANDARD, name): store_spec(
            declaration, StoreKind.STANDARD, name, scopes_of.get(name, ())
        )
        for name in names
    }
    live = current.live_state(listings)
    live = replace(
        live, unread=live.unread | then.failed, diagnostics=(*then.diagnostics, *live.diagnostics)
    )
    settings = PlanSettings(
        environment=request.environment,
        universe_id=request.universe_id,
        now=now,
        kind=PlanKind.RESTORE,
        expires_in=request.expires_in,
        select=select,
        context={"at": when, "stores": ",".join(names)},
    )
    plan = build_plan(DesiredState(entries, stores, declaration.source), live, settings)
    warnings = schema_warnings(declaration, entries)
    for address, doubts in unsure.items():
        warnings.setdefault(address, []).extend(doubts)
    reasons = {
        Action.CREATE: f"existed at {when}, deleted since",
        Action.UPDATE: f"back to its value at {when}",
    }
    changed = {change.address for change in plan.changes if change.action is not Action.NOOP}
    ages = _ages({a: v for a, v in then.entries.items() if a in changed}, at)
    address_reasons = {
        address: {
            Action.CREATE: f"existed at {when} (written {_age_text(age)} before it), deleted since",
            Action.UPDATE: f"back to its value at {when} (written {_age_text(age)} before it)",
        }
        for address, age in ages.items()
    }
    closeness = _closeness(ages, when)
    return finish_plan(
        plan,
        kind=PlanKind.RESTORE,
        change_diagnostics=warnings,
        plan_diagnostics=[*notes, *([closeness] if closeness is not None else [])],
        reasons=reasons,
        address_reasons=address_reasons,
    )
