"""The ledger records of an apply run (DESIGN.md §7).

Each run appends one ``change`` record per change it finished that the ledger does not hold yet
for this apply id (so a resumed apply never records a change twice) and one ``apply`` record
with the run's status; a run killed after writing its records does not write them again.
"""

from __future__ import annotations

from collections.abc import Sequence

from dsgit.apply.execute import Step
from dsgit.apply.result import ApplyStatus, ChangeResult
from dsgit.ledger.canonical import user_digest
from dsgit.ledger.file import Ledger
from dsgit.ledger.records import ApplyRecord, Body, ChangeOutcome, ChangeRecord
from dsgit.plan.model import Plan

__all__ = ["append_apply_records"]


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
    increments = {str(step.change.address): step.change.increment for step in steps}
    bodies: list[Body] = [
        ChangeRecord(
            apply_id=apply_id,
            address=str(change.address),
            action=str(change.action),
            outcome=change.outcome,
            before=change.before,
            after=change.after,
            users=tuple(user_digest(user) for user in change.users),
            increment=increments.get(str(change.address)),
        )
        for change in changes
        if change.outcome is not None and str(change.address) not in recorded
    ]
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
        )
    )
    ledger.append(bodies, actor=actor, batch=apply_id)


def _summary(changes: Sequence[ChangeResult]) -> dict[str, int]:
    counts = {"written": 0, "skipped": 0, "conflict": 0, "pending": 0}
    for change in changes:
        counts[str(change.outcome) if change.outcome is not None else "pending"] += 1
    return counts
