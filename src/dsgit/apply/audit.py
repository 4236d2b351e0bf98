"""The ledger records of an apply run (DESIGN.md §7).

Each run appends one ``change`` record per change it finished that the ledger does not hold yet
for this apply id (so a resumed apply never records a change twice) and one ``apply`` record
with the run's status; a run killed after writing its records does not write them again.

The ``apply`` record says who (the actor and where that name came from), what (plan kind,
digest, source commit, dirty flag and declaration digest, counts) and why (the suppressions the
plan carried, with their codes and reasons); each ``change`` record carries the old and new
value digests and the plan's readable diff of that change (sensitive paths masked), which
``audit log --verbose`` shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dsgit.apply.execute import Step
from dsgit.apply.result import ApplyStatus, ChangeResult
from dsgit.crypto.pointers import parse_pointer
from dsgit.ledger.actor import Actor
from dsgit.ledger.canonical import canonical_json, user_digest
from dsgit.ledger.file import Ledger
from dsgit.ledger.records import ApplyRecord, Body, ChangeOutcome, ChangeRecord, Suppression
from dsgit.plan.masking import PointerPatterns
from dsgit.plan.model import MASK, Change, Plan

__all__ = ["MAX_DIFF_CHARS", "MAX_DIFF_LINES", "append_apply_records", "suppressions_of"]

MAX_DIFF_LINES = 50  # per change record: the ledger is committed, keep records small
MAX_DIFF_CHARS = 4096


def append_apply_records(
    ledger: Ledger,
    actor: str,
    plan: Plan,
    apply_id: str,
    changes: Sequence[ChangeResult],
    status: ApplyStatus,
    snapshot_time: str | None,
    started: str,
    steps: Sequence[Step],
) -> None:
    recorded: set[str] = set()
    statuses: set[str] = set()
    for record in ledger.records_of_apply(apply_id):
        body = record.body
        if isinstance(body, ChangeRecord) and body.apply_id == apply_id:
            recorded.add(body.address)
        elif isinstance(body, ApplyRecord) and body.apply_id == apply_id:
            statuses.add(body.status)
    planned = {str(step.change.address): step.change for step in steps}
    bodies: list[Body] = []
    for change in changes:
        address = str(change.address)
        if change.outcome is None or address in recorded:
            continue
        source = planned.get(address)
        diff, truncated = _diff_of(source) if source is not None else ((), False)
        bodies.append(
            ChangeRecord(
                apply_id=apply_id,
                address=address,
                action=str(change.action),
                outcome=change.outcome,
                before=change.before,
                after=change.after,
                users=tuple(user_digest(user) for user in change.users),
                increment=source.increment if source is not None else None,
                diff=diff,
                diff_truncated=truncated,
            )
        )
    if not bodies and str(status) in statuses:
        # This run's records are there already (a run killed after writing them); make sure
        # the universe's chain head covers them.
        ledger.publish()
        return
    bodies.append(
        ApplyRecord(
            apply_id=apply_id,
            plan_digest=plan.digest,
            plan_kind=plan.kind,
            environment=plan.environment,
            universe_id=plan.universe_id,
            source_commit=plan.source.commit,
            source_digest=plan.source.digest,
            status=str(status),
            summary=_summary(changes),
            conflicts=tuple(str(c.address) for c in changes if c.outcome is ChangeOutcome.CONFLICT),
            snapshot_time=snapshot_time,
            started=started,
            source_dirty=plan.source.dirty,
            suppressions=suppressions_of(plan),
            actor_source=actor.source if isinstance(actor, Actor) else None,
        )
    )
    ledger.append(bodies, actor=str(actor), batch=apply_id)


def suppressions_of(plan: Plan) -> tuple[Suppression, ...]:
    """Every blocking diagnostic the plan let through, with its code, place and reason."""
    found: dict[tuple[str, str | None, str | None, str], Suppression] = {}
    for diag in plan.all_diagnostics:
        if diag.suppressed_reason is None:
            continue
        item = Suppression(diag.code, diag.suppressed_reason, diag.address, diag.store)
        found.setdefault((item.code, item.address, item.store, item.reason), item)
    return tuple(found.values())


def _diff_of(change: Change) -> tuple[tuple[Mapping[str, Any], ...], bool]:
    """The change's diff lines as JSON, masked again where a path is sensitive, bounded."""
    patterns = PointerPatterns((*change.sensitive, *change.encrypted))
    lines: list[Mapping[str, Any]] = []
    size = 0
    for line in change.diff:
        old, new = line.old, line.new
        if patterns and not line.pointer.startswith("@"):
            try:
                covered = patterns.touches(parse_pointer(line.pointer))
            except ValueError:
                covered = True
            if covered:
                old = MASK if old is not None else None
                new = MASK if new is not None else None
        item = {"pointer": line.pointer, "op": line.op, "old": old, "new": new}
        size += len(canonical_json(item))
        if len(lines) >= MAX_DIFF_LINES or size > MAX_DIFF_CHARS:
            return tuple(lines), True
        lines.append(item)
    return tuple(lines), False


def _summary(changes: Sequence[ChangeResult]) -> dict[str, int]:
    counts = {"written": 0, "skipped": 0, "conflict": 0, "pending": 0}
    for change in changes:
        counts[str(change.outcome) if change.outcome is not None else "pending"] += 1
    return counts
