"""Build a plan: set algebra of desired and live addresses, then store-level checks.

Pure: takes a :class:`DesiredState` and a :class:`LiveState`, returns a :class:`Plan`.

- desired and live -> compare per ownership (:func:`dsgit.plan.compare.compare_entry`);
- desired, not live -> create (owned, seed); observed entries are only reported;
- live, not desired, in a pruned owned store -> delete (DSP002);
- ``Removal`` and live -> delete (DSP001);
- ``moved_from`` -> create at the new address and delete at the old one, linked;
- then renames without ``moved_from`` (DSP004), mass deletes (DSP003), store counts, and
  suppressions; changes sorted by kind, store, scope, key; unchanged entries only counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from dsgit import __version__
from dsgit.model.declaration import Ownership, StorePolicy, Suppression
from dsgit.model.entry import Address, LiveEntry, LiveOrderedEntry, StoreKind
from dsgit.plan.codes import diagnostic
from dsgit.plan.compare import (
    EntryFacts,
    SchemaCheck,
    check_declared,
    compare_entry,
    delete_change,
    live_data,
    precondition_of,
)
from dsgit.plan.desired import DesiredEntry, DesiredState, Removal, StoreSpec
from dsgit.plan.digest import canonical_json
from dsgit.plan.io import with_digest
from dsgit.plan.jsondiff import diff_data
from dsgit.plan.ledger import AppliedLookup, NoLedger
from dsgit.plan.live import UNKNOWN, LiveState, Unknown
from dsgit.plan.masking import PointerPatterns
from dsgit.plan.model import (
    PLAN_FORMAT_VERSION,
    Action,
    Change,
    Diagnostic,
    Plan,
    Severity,
    format_time,
    summarize,
)
from dsgit.plan.targets import AddressFilter

__all__ = ["RESERVED_STORE", "PlanSettings", "build_plan", "change_order"]

RESERVED_STORE = "_dsgit"  # the apply lock lives here: never listed, diffed or pruned
DEFAULT_EXPIRY = timedelta(hours=24)
_EXAMPLES = 5  # addresses named in a store-level count message


@dataclass(frozen=True)
class PlanSettings:
    """Everything a plan needs besides desired and live state."""

    environment: str
    universe_id: int
    now: datetime
    kind: str = "plan"
    expires_in: timedelta = DEFAULT_EXPIRY
    select: AddressFilter = field(default_factory=AddressFilter)
    ledger: AppliedLookup = field(default_factory=NoLedger)
    schema_check: SchemaCheck | None = None
    context: Mapping[str, str] = field(default_factory=dict)
    dsgit_version: str = __version__


def change_order(address: Address) -> tuple[int, str, str, str]:
    """Standard stores first, then ordered; by store, scope, key."""
    return (
        0 if address.kind is StoreKind.STANDARD else 1,
        address.store,
        address.scope,
        address.key,
    )


_SEVERITY_RANK = {Severity.ERROR: 0, Severity.BLOCKING: 1, Severity.WARNING: 2, Severity.INFO: 3}


def _diagnostic_order(diag: Diagnostic) -> tuple[int, str, str, str, str]:
    return (
        _SEVERITY_RANK[diag.severity],
        diag.code,
        diag.store or "",
        diag.address or "",
        diag.message,
    )


def _suppress(
    diag: Diagnostic, suppressions: tuple[Suppression, ...], *, count: int | None = None
) -> Diagnostic:
    """``diag`` with ``suppressed_reason`` set when a suppression of its code allows it."""
    if diag.severity is not Severity.BLOCKING:
        return diag
    for suppression in suppressions:
        if suppression.code != diag.code:
            continue
        if count is not None and (suppression.count is None or suppression.count < count):
            allowed = "no count" if suppression.count is None else f"count {suppression.count}"
            return replace(
                diag,
                message=f"{diag.message} (the suppression states {allowed}, "
                f"this plan deletes {count}: still blocked)",
            )
        return replace(diag, suppressed_reason=suppression.reason)
    return diag


def _substantial(value: object) -> bool:
    """Values distinctive enough that equality suggests a rename (not ``0``, ``{}`` or
    ``[0, false]``): strings of 8+ characters, containers of 16+ characters of JSON."""
    if isinstance(value, str):
        return len(value) >= 8
    return isinstance(value, dict | list) and len(canonical_json(value)) >= 16


@dataclass
class _StoreTally:
    seed_kept: list[str] = field(default_factory=list)
    observed_differs: list[str] = field(default_factory=list)
    observed_missing: list[str] = field(default_factory=list)
    live_fails_schema: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, desired: DesiredState, live: LiveState, settings: PlanSettings) -> None:
        self.desired = desired
        self.live = live
        self.settings = settings
        self.changes: dict[Address, Change] = {}
        self.diagnostics: list[Diagnostic] = list(live.diagnostics)
        self.unchanged = 0
        self.tallies: dict[tuple[StoreKind, str], _StoreTally] = defaultdict(_StoreTally)
        self.handled: set[Address] = set()
        self.suppressions: dict[Address, tuple[Suppression, ...]] = {}

    # --- helpers ---------------------------------------------------------------------------

    def policy(self, address: Address) -> StorePolicy:
        return self.desired.policy(address)

    def spec(self, address: Address) -> StoreSpec | None:
        return self.desired.stores.get((address.kind, address.store))

    def lookup(self, address: Address) -> LiveEntry | LiveOrderedEntry | Unknown | None:
        found = self.live.lookup(address)
        if found is UNKNOWN and not self._explained(address):
            self.diagnostics.append(
                diagnostic(
                    "DSP018",
                    f"{address}: its live state was not read",
                    address=str(address),
                )
            )
        return found

    def _explained(self, address: Address) -> bool:
        if address in self.live.unread:
            return True
        listing = self.live.listings.get((address.kind, address.store, address.scope))
        return listing is not None and not listing.ok

    def selected(self, address: Address) -> bool:
        if address.store == RESERVED_STORE:
            return False
        return self.settings.select.selects(address)

    # --- passes ----------------------------------------------------------------------------

    def renames(self) -> dict[Address, Address]:
        """Valid ``moved_from`` links (old -> new) whose either half is selected."""
        links: dict[Address, Address] = {}
        for address, want in sorted(self.desired.entries.items()):
            if not isinstance(want, DesiredEntry) or want.moved_from is None:
                continue
            old = want.moved_from
            if not (self.selected(address) or self.selected(old)):
                continue
            problem = None
            if old == address:
                problem = "moved_from names the entry itself"
            elif old.kind is not address.kind:
                problem = f"moved_from {old} is of another kind of data store"
            elif isinstance(self.desired.entries.get(old), DesiredEntry):
                problem = f"moved_from {old} is still declared (remove its file)"
            elif old in links:
                problem = f"moved_from {old} is also claimed by {links[old]}"
            if problem is not None:
                self.diagnostics.append(
                    diagnostic(
                        "DSP015",
                        f"{address}: {problem}",
                        address=str(address),
                        file=want.file,
                        line=want.line,
                    )
                )
                continue
            links[old] = address
        return links

    def entries(self, links: Mapping[Address, Address]) -> None:
        renamed_to = {new: old for old, new in links.items()}
        for address, want in sorted(self.desired.entries.items()):
            if address in links:
                continue  # a rename source: planned with its target
            if not (self.selected(address) or address in renamed_to):
                continue
            self.handled.add(address)
            if want is None or isinstance(want, Removal):
                self.removal(address, want or Removal())
                continue
            self.suppressions[address] = (*want.suppress, *want.policy.suppress)
            if want.problem is not None:
                self.diagnostics.append(want.problem)
                continue
            found = check_declared(want, self.settings.schema_check)
            live = self.lookup(address)
            if isinstance(live, Unknown):
                self.diagnostics.extend(found)
                continue
            change, facts = compare_entry(
                want, live, ledger=self.settings.ledger, schema_check=self.settings.schema_check
            )
            self.tally(address, facts)
            if change is None and found:
                change = self.noop(want, live)
            if change is not None:
                change = replace(change, diagnostics=(*found, *change.diagnostics))
                self.changes[address] = change
            if address in renamed_to:
                self.rename(renamed_to[address], address, want)

    def noop(self, want: DesiredEntry, live: LiveEntry | LiveOrderedEntry | None) -> Change:
        patterns = PointerPatterns((*want.policy.sensitive, *want.policy.encrypted))
        lines = diff_data(live_data(live), want.compare_data, patterns)[0] if live else []
        return Change(
            address=want.address,
            actions=(Action.NOOP,),
            reason=f"{want.policy.ownership.value}: not written",
            precondition=precondition_of(live),
            after=None,
            increment=None,
            diff=tuple(lines),
            sensitive=tuple(sorted(want.policy.sensitive)),
            encrypted=tuple(sorted(want.policy.encrypted)),
            diagnostics=(),
            ownership=want.policy.ownership.value,
        )

    def tally(self, address: Address, facts: EntryFacts) -> None:
        if facts.unchanged and not facts.live_fails_schema:
            self.unchanged += 1
            return
        tally = self.tallies[(address.kind, address.store)]
        text = str(address)
        if facts.unchanged:
            self.unchanged += 1
        for flag, found in (
            (facts.seed_kept, tally.seed_kept),
            (facts.observed_differs, tally.observed_differs),
            (facts.observed_missing, tally.observed_missing),
        ):
            if flag:
                found.append(text)
                self.unchanged += 1
        if facts.live_fails_schema:
            tally.live_fails_schema.append(text)

    def removal(self, address: Address, want: Removal) -> None:
        policy = self.policy(address)
        live = self.lookup(address)
        if live is None or isinstance(live, Unknown):
            return
        if policy.ownership is not Ownership.OWNED:
            self.unchanged += 1
            return
        self.suppressions[address] = (*want.suppress, *policy.suppress)
        diag = diagnostic(
            "DSP001",
            f"{address}: deletes the live entry ({want.reason})",
            address=str(address),
        )
        self.changes[address] = delete_change(
            address, live, policy, want.reason, (diag,), self.settings.ledger
        )

    def rename(self, old: Address, new: Address, want: DesiredEntry) -> None:
        self.handled.add(old)
        policy = self.policy(old)
        live = self.lookup(old)
        if isinstance(live, Unknown):
            return
        note = diagnostic(
            "DSP030",
            f"{new}: renamed from {old} (moved_from)"
            + ("" if live is not None else "; the old entry does not exist live"),
            address=str(new),
            file=want.file,
            line=want.line,
        )
        created = self.changes.get(new)
        if live is None or policy.ownership is not Ownership.OWNED:
            if created is not None:
                self.changes[new] = replace(created, diagnostics=(*created.diagnostics, note))
            return
        self.suppressions[old] = (*want.suppress, *policy.suppress)
        self.changes[old] = delete_change(
            old, live, policy, f"renamed to {new}", (note,), self.settings.ledger
        )
        if created is not None:
            self.changes[new] = replace(created, moved_from=old)

    def prune(self) -> None:
        for (kind, name), spec in sorted(self.desired.stores.items()):
            if name == RESERVED_STORE or not spec.policy.prune:
                continue
            for scope in spec.scopes:
                keys = self.live.listed_keys(kind, name, scope)
                if keys is None:
                    if (kind, name, scope) not in self.live.listings and (
                        self.settings.select.may_select_store(kind, name)
                    ):
                        self.diagnostics.append(
                            diagnostic(
                                "DSP018",
                                f"{spec.label}/{scope}: the scope was not listed, so keys to "
                                "prune are unknown",
                                store=spec.label,
                            )
                        )
                    continue
                for key in sorted(keys):
                    address = Address(kind, name, scope, key)
                    if address in self.desired.entries or address in self.handled:
                        continue
                    policy = spec.policy.for_key(key)
                    if not policy.prune or policy.ownership is not Ownership.OWNED:
                        continue
                    if not self.selected(address):
                        continue
                    live = self.lookup(address)
                    if live is None or isinstance(live, Unknown):
                        continue
                    self.suppressions[address] = policy.suppress
                    diag = diagnostic(
                        "DSP002",
                        f"{address}: live key has no file and {spec.label} has prune: true",
                        address=str(address),
                        file=spec.file,
                    )
                    self.changes[address] = delete_change(
                        address, live, policy, "no file (prune)", (diag,), self.settings.ledger
                    )

    def rename_heuristic(self) -> None:
        """Flag a delete whose live value is the value of exactly one create (DSP004).

        Values shared by several creates or several deletes (defaults, templates) are
        ambiguous and never flagged.
        """
        creates: dict[tuple[StoreKind, bytes], list[Address]] = defaultdict(list)
        for address, change in self.changes.items():
            want = self.desired.entries.get(address)
            if change.actions != (Action.CREATE,) or change.moved_from is not None:
                continue
            if not isinstance(want, DesiredEntry) or not _substantial(want.compare_data.value):
                continue
            creates[(address.kind, canonical_json(want.compare_data.value))].append(address)
        if not creates:
            return
        deletes: dict[tuple[StoreKind, bytes], list[Address]] = defaultdict(list)
        for address, change in self.changes.items():
            if change.actions != (Action.DELETE,) or "renamed to" in change.reason:
                continue
            live = self.live.lookup(address)
            if live is None or isinstance(live, Unknown):
                continue
            deletes[(address.kind, canonical_json(live_data(live).value))].append(address)
        for fingerprint, deleted in sorted(deletes.items()):
            created = creates.get(fingerprint, [])
            if len(deleted) != 1 or len(created) != 1:
                continue
            address, target = deleted[0], created[0]
            change = self.changes[address]
            want = self.desired.entries.get(target)
            extra = want.suppress if isinstance(want, DesiredEntry) else ()
            self.suppressions[address] = (*self.suppressions.get(address, ()), *extra)
            same_place = (address.store, address.scope) == (target.store, target.scope)
            moved = (
                address.key
                if same_place
                else f"{{store: {address.store}, scope: {address.scope}, key: {address.key}}}"
            )
            diag = diagnostic(
                "DSP004",
                f"{address}: deleted while {target} is created with the same value: if this "
                f"is a rename, declare `moved_from: {moved}` in {target}'s file",
                address=str(address),
                file=want.file if isinstance(want, DesiredEntry) else None,
                line=want.line if isinstance(want, DesiredEntry) else None,
            )
            self.changes[address] = replace(change, diagnostics=(*change.diagnostics, diag))

    def mass_delete(self) -> None:
        deletes: dict[tuple[StoreKind, str], int] = defaultdict(int)
        for address, change in self.changes.items():
            if Action.DELETE in change.actions:
                deletes[(address.kind, address.store)] += 1
        for (kind, name), count in sorted(deletes.items()):
            spec = self.desired.stores.get((kind, name))
            policy = spec.policy if spec is not None else StorePolicy()
            label = spec.label if spec is not None else f"{kind.value}:{name}"
            live_count = 0
            for scope in spec.scopes if spec is not None else ():
                keys = self.live.listed_keys(kind, name, scope)
                live_count += len(keys) if keys is not None else 0
            share = count / live_count if live_count else None
            over_share = share is not None and share > policy.mass_delete_threshold
            if count < 2 or not (count >= policy.mass_delete_min or over_share):
                continue
            of = f" of {live_count} live keys ({share:.0%})" if share is not None else ""
            diag = diagnostic(
                "DSP003",
                f"{label}: this plan deletes {count} entries{of}; the threshold is "
                f"{policy.mass_delete_threshold:.0%} of the store or {policy.mass_delete_min} "
                "entries",
                count=count,
                store=label,
                file=spec.file if spec is not None else None,
            )
            self.diagnostics.append(_suppress(diag, policy.suppress, count=count))

    def store_counts(self) -> None:
        for (kind, name), tally in sorted(self.tallies.items()):
            spec = self.desired.stores.get((kind, name))
            label = spec.label if spec is not None else f"{kind.value}:{name}"
            schema = spec.policy.schema if spec is not None else None
            for code, found, what in (
                ("DSP022", tally.live_fails_schema, f"fail the store's schema {schema} live"),
                ("DSP031", tally.seed_kept, "differ live and are kept (seed)"),
                ("DSP032", tally.observed_differs, "differ live from the declaration (observed)"),
                ("DSP033", tally.observed_missing, "are declared but missing live (observed)"),
            ):
                if not found:
                    continue
                shown = ", ".join(found[:_EXAMPLES]) + (", ..." if len(found) > _EXAMPLES else "")
                self.diagnostics.append(
                    diagnostic(
                        code,
                        f"{label}: {len(found)} entries {what}: {shown}",
                        count=len(found),
                        store=label,
                    )
                )

    def finish(self) -> Plan:
        changes = []
        for address in sorted(self.changes, key=change_order):
            change = self.changes[address]
            suppressions = self.suppressions.get(address, ())
            diags = tuple(_suppress(diag, suppressions) for diag in change.diagnostics)
            changes.append(replace(change, diagnostics=diags))
        settings = self.settings
        plan = Plan(
            format_version=PLAN_FORMAT_VERSION,
            dsgit_version=settings.dsgit_version,
            kind=settings.kind,
            created=format_time(settings.now),
            expires=format_time(settings.now + settings.expires_in),
            environment=settings.environment,
            universe_id=settings.universe_id,
            source=self.desired.source,
            changes=tuple(changes),
            diagnostics=tuple(sorted(_dedupe(self.diagnostics), key=_diagnostic_order)),
            summary=summarize(tuple(changes), unchanged=self.unchanged),
            digest="",
            context=dict(settings.context),
        )
        return with_digest(plan)


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[Diagnostic] = set()
    out = []
    for diag in diagnostics:
        if diag not in seen:
            seen.add(diag)
            out.append(diag)
    return out


def build_plan(desired: DesiredState, live: LiveState, settings: PlanSettings) -> Plan:
    """The plan that takes ``live`` to ``desired`` as ownership allows (pure, deterministic)."""
    builder = _Builder(desired, live, settings)
    links = builder.renames()
    builder.entries(links)
    builder.prune()
    builder.rename_heuristic()
    builder.mass_delete()
    builder.store_counts()
    return builder.finish()
