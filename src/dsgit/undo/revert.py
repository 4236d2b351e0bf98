"""``dsgit revert APPLY``: plan the pre-images of one apply back into place (DESIGN.md §8).

For every entry the apply wrote (its ledger change records with outcome ``written``):

- it created the entry       -> delete it;
- it updated or deleted it   -> write the pre-image back (create it again if deleted);
- it incremented a counter   -> increment by the opposite amount, so increments made since
                                 (players' wins...) are kept (DSP043);
- the entry changed since the apply (its live revision, or value for ordered entries, is not
  the one the apply wrote) -> DSP040, blocking: a game server's later write is never lost
  silently. ``--exclude`` keeps the later value; ``--overwrite-changed REASON`` overwrites it,
  and the plan shows the reason.

Deleting an entry the apply created is a destructive change (DSP001), suppressed by the revert
itself when the entry is unchanged since (the value being deleted is exactly what the apply
wrote, so nothing is lost); the plan stays of the destructive class for approvals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dsgit.apply.preimages import PreImage, apply_ids, load_preimages
from dsgit.crypto import Keyring
from dsgit.erasure.preimage_scan import erased_addresses
from dsgit.erasure.proof import hashed_address, repository_salt
from dsgit.errors import ConfigError
from dsgit.ledger.query import AppliedRun, LastApplied, last_applied, list_applies
from dsgit.ledger.records import ChangeOutcome, ChangeRecord, EntryState
from dsgit.model.declaration import Declaration, Suppression
from dsgit.model.entry import (
    RESERVED_STORE,
    Address,
    EntryData,
    LiveEntry,
    LiveOrderedEntry,
    StoreKind,
)
from dsgit.model.overrides import for_environment
from dsgit.plan.build import DEFAULT_EXPIRY, PlanSettings, build_plan
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.desired import DesiredEntry, DesiredState, Removal, StoreSpec
from dsgit.plan.digest import entry_digest
from dsgit.plan.live import LiveValue
from dsgit.plan.model import Action, Diagnostic, Plan, PlanKind
from dsgit.plan.targets import AddressFilter
from dsgit.remote.api import OpenCloudApi
from dsgit.undo.desired import (
    desired_entry,
    kept_note,
    kept_ownership,
    store_spec,
    undo_policy,
)
from dsgit.undo.finish import finish_plan, schema_warnings
from dsgit.undo.reading import read_now

__all__ = ["RevertRequest", "changed_since", "find_apply", "plan_revert"]


@dataclass(frozen=True)
class RevertRequest:
    """What the user asked: which apply, where, which addresses, and whether to overwrite."""

    apply_id: str
    environment: str
    universe_id: int
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    overwrite_reason: str | None = None
    expires_in: timedelta = DEFAULT_EXPIRY
    now: datetime | None = field(default=None)


def find_apply(root: Path, text: str) -> AppliedRun:
    """The apply whose id is ``text`` or starts with it; a clear error otherwise."""
    runs = list_applies(root)
    exact = [run for run in runs if run.apply_id == text]
    if exact:
        return exact[0]
    found = [run for run in runs if run.apply_id.startswith(text)] if text else []
    if len(found) == 1:
        return found[0]
    if not found:
        known = ", ".join(run.apply_id for run in runs[-5:]) or "none yet"
        raise ConfigError(
            f"no apply {text!r} in the ledger (latest: {known}; `dsgit audit log` lists them)"
        )
    names = ", ".join(run.apply_id for run in found[:5])
    raise ConfigError(f"apply prefix {text!r} is ambiguous: {names}; give more characters")


def _written(run: AppliedRun) -> dict[Address, ChangeRecord]:
    """The last written change record per address of the apply (resumes add records)."""
    result: dict[Address, ChangeRecord] = {}
    for record in run.changes:
        if record.outcome is ChangeOutcome.WRITTEN and not record.redacted:
            result[Address.parse(record.address)] = record
    return result


def changed_since(after: EntryState, live: LiveValue | None) -> bool:
    """True when ``live`` is not what the apply left (``after``, from its change record).

    A later write that left the same value and metadata (same digest) is not a change: reverting
    over it loses nothing.
    """
    if not after.exists:
        return live is not None
    if live is None:
        return True
    if isinstance(live, LiveEntry) and live.revision_id == after.revision_id:
        return False
    if after.value_digest is None:
        return True  # nothing to compare with: assume the worst, never lose a write silently
    data = live.data if isinstance(live, LiveEntry) else EntryData(live.value)
    return entry_digest(data) != after.value_digest


def _opposite_increment(record: ChangeRecord, live: LiveValue | None) -> EntryData | None:
    """The data an opposite increment leads to, or None when it cannot be planned so."""
    amount = record.increment
    if amount is None or live is None:
        return None
    value = live.value
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    if isinstance(live, LiveOrderedEntry):
        return EntryData(value - amount)
    return EntryData(value - amount, live.attributes, live.users)


def plan_revert(
    root: Path,
    run: AppliedRun,
    api: OpenCloudApi,
    request: RevertRequest,
    *,
    declaration: Declaration,
    keyring: Keyring | None = None,
    applied: Declaration | None = None,
) -> Plan:
    """The plan that puts back what ``run`` overwrote, deleted or created.

    ``applied`` is the declaration at the apply's source commit: an entry that it, or the
    current ``declaration``, makes ``seed`` or ``observed`` is not deleted (DSP046).
    """
    if run.plan_kind == PlanKind.ERASURE:
        raise ConfigError(
            f"apply {run.apply_id} was an erasure: the user's data is gone by design (its "
            "pre-images were purged, its ledger records hold only hashes); it cannot be reverted"
        )
    declaration = for_environment(declaration, request.environment)
    if applied is not None:
        applied = for_environment(applied, request.environment)
    now = request.now or datetime.now(UTC)  # before the reads (apply compares revisions with it)
    select = AddressFilter(request.targets, request.excludes)
    written = {
        address: record
        for address, record in sorted(_written(run).items())
        if address.store != RESERVED_STORE and select.selects(address)
    }
    # No folder at all (pre-images deleted, or a ledger from another clone): every entry gets
    # DSP041 rather than the whole revert failing.
    kept = written and run.apply_id in apply_ids(root)
    images: Mapping[Address, PreImage] = load_preimages(root, run.apply_id, keyring) if kept else {}
    reads = read_now(api, written)
    salt = repository_salt(root, create=False)
    erased = erased_addresses(root, run.apply_id) if kept else frozenset()
    later = last_applied(root)
    overwrite = request.overwrite_reason
    entries: dict[Address, DesiredEntry | Removal | None] = {}
    stores: dict[tuple[StoreKind, str], StoreSpec] = {}
    notes: dict[Address, list[Diagnostic]] = {}
    plan_notes: list[Diagnostic] = []
    redacted = sum(1 for r in run.changes if r.redacted and r.outcome is ChangeOutcome.WRITTEN)
    if redacted:
        plan_notes.append(
            diagnostic(
                DiagnosticCode.NO_PREIMAGE,
                f"{redacted} change(s) of apply {run.apply_id} were redacted from the ledger by "
                "a right-to-erasure request (their addresses are salted digests now): they "
                "cannot be reverted (the user's data cannot be brought back)",
                count=redacted,
            )
        )
    for address, record in written.items():
        stores.setdefault(
            (address.kind, address.store), store_spec(declaration, address.kind, address.store)
        )
        image = images.get(address)
        if image is None and hashed_address(salt, str(address)) in erased:
            plan_notes.append(
                diagnostic(
                    DiagnosticCode.NO_PREIMAGE,
                    f"{address}: its pre-image from apply {run.apply_id} was purged by a "
                    "right-to-erasure request; it cannot be reverted (the user's data cannot "
                    "be brought back)",
                    address=str(address),
                )
            )
            continue
        if image is None or (image.exists and image.data is None):
            plan_notes.append(
                diagnostic(
                    DiagnosticCode.NO_PREIMAGE,
                    f"{address}: apply {run.apply_id} wrote this entry but kept no pre-image of "
                    "it; it cannot be reverted",
                    address=str(address),
                )
            )
            continue
        if address in reads.failed:
            continue  # the read failure is already an error diagnostic
        live = reads.entries.get(address)
        policy = undo_policy(declaration, address)
        if record.action == "increment" and image.exists:
            data = _opposite_increment(record, live)
            if data is not None:
                entries[address] = DesiredEntry(address, data, replace(policy, counters=("*",)))
                notes.setdefault(address, []).append(
                    diagnostic(
                        DiagnosticCode.INCREMENT_REVERTED,
                        f"{address}: apply {run.apply_id} incremented it by "
                        f"{record.increment:+d}; reverted by {-(record.increment or 0):+d}, "
                        "keeping increments made since",
                        address=str(address),
                    )
                )
                continue
        changed = changed_since(record.after, live)
        if changed:
            notes.setdefault(address, []).append(
                _changed_note(address, run, live, later.get(str(address)), overwrite)
            )
        if not image.exists:
            reason = f"created by apply {run.apply_id}"
            owner = kept_ownership((applied, declaration), address)
            if owner is not None:
                plan_notes.append(kept_note(address, owner, reason))
                continue
            suppress: tuple[Suppression, ...] = ()
            if overwrite is not None:
                suppress = (Suppression(DiagnosticCode.ENTRY_DELETE, overwrite),)
            elif not changed:
                suppress = (
                    Suppression(
                        DiagnosticCode.ENTRY_DELETE,
                        "the reverted apply created it, unchanged since",
                    ),
                )
            entries[address] = Removal(reason, suppress)
            continue
        assert image.data is not None
        entries[address] = desired_entry(
            address,
            image.data,
            policy,
            keyring,
            sealed_whole=image.encrypted and not (policy.sensitive or policy.encrypted),
        )
    desired = DesiredState(entries, stores, declaration.source)
    settings = PlanSettings(
        environment=request.environment,
        universe_id=request.universe_id,
        now=now,
        kind=PlanKind.REVERT,
        expires_in=request.expires_in,
        context={"apply_id": run.apply_id},
    )
    plan = build_plan(desired, reads.live_state(), settings)
    for address, found in schema_warnings(declaration, entries).items():
        notes.setdefault(address, []).extend(found)
    reasons = {
        Action.CREATE: f"re-created from the pre-image of apply {run.apply_id}",
        Action.UPDATE: f"back to the pre-image of apply {run.apply_id}",
    }
    return finish_plan(
        plan,
        kind=PlanKind.REVERT,
        change_diagnostics=notes,
        plan_diagnostics=plan_notes,
        reasons=reasons,
    )


def _changed_note(
    address: Address,
    run: AppliedRun,
    live: LiveValue | None,
    last: LastApplied | None,
    overwrite: str | None,
) -> Diagnostic:
    if live is None:
        what = "was deleted since"
    elif isinstance(live, LiveEntry):
        what = (
            f"changed since (live revision {live.revision_id}, written {live.revision_create_time}"
        )
        later = last is not None and last.apply_id != run.apply_id
        if later and last is not None and last.revision_id == live.revision_id:
            what += f" by apply {last.apply_id})"
        else:
            what += " outside dsgit)"
    else:
        what = f"changed since (live value {live.value})"
    return diagnostic(
        DiagnosticCode.CHANGED_SINCE_APPLY,
        f"{address}: {what}; reverting apply {run.apply_id} would overwrite that later write",
        address=str(address),
        suppressed_reason=overwrite,
    )
