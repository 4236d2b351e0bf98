"""The ledger records of an apply run (DESIGN.md §7).

Each run appends one ``change`` record per change it finished that the ledger does not hold yet
for this apply id (so a resumed apply never records a change twice) and one ``apply`` record
with the run's status; a run killed after writing its records does not write them again.

The records are part of the apply's atomic end: they are appended (and fsync'd) *before* the
journal's ``end`` line, so a journal that says "finished" always has its records, and a resume
that finds the work done asks the ledger (:func:`dsgit.ledger.query.recorded_apply`) and
writes only what is missing. :func:`unrecorded_applies` finds applies that left pre-images or a
journal but no ledger record (``audit verify`` reports them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dsgit.apply.execute import Step
from dsgit.apply.journal import JOURNAL_DIR
from dsgit.apply.preimages import PREIMAGE_DIR, apply_ids
from dsgit.apply.result import ApplyStatus, ChangeResult
from dsgit.ledger.canonical import user_digest
from dsgit.ledger.file import Ledger
from dsgit.ledger.query import recorded_apply
from dsgit.ledger.records import ApplyRecord, ApprovalRecord, Body, ChangeOutcome, ChangeRecord
from dsgit.plan.model import Plan

__all__ = ["Unrecorded", "append_apply_records", "unrecorded_applies"]


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
    approvals: Sequence[ApprovalRecord] = (),
    *,
    any_status: bool = False,
) -> None:
    """Append the records of ``changes`` the ledger lacks, and an apply record of ``status``.

    Idempotent: running it again with the same arguments appends nothing. ``any_status``
    (recording a dead run): no apply record is added when the ledger already holds one of
    this apply and every change, whatever its status.
    """
    held = recorded_apply(ledger.root, apply_id)
    recorded, statuses = held.addresses, held.statuses
    approved: set[tuple[str, str | None]] = {
        (body.plan_digest, body.signature_digest)
        for record in ledger.records(skip_malformed=True)
        if isinstance(body := record.body, ApprovalRecord)
    }
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
    if not bodies and (str(status) in statuses or (any_status and statuses)):
        return  # this run's records are there already (a run killed after writing them)
    # The approvals relied on, once each, just before the apply record (apply/approval_records).
    bodies.extend(a for a in approvals if (a.plan_digest, a.signature_digest) not in approved)
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
    ledger.append(bodies, actor=actor)


def _summary(changes: Sequence[ChangeResult]) -> dict[str, int]:
    counts = {"written": 0, "skipped": 0, "conflict": 0, "pending": 0}
    for change in changes:
        counts[str(change.outcome) if change.outcome is not None else "pending"] += 1
    return counts


@dataclass(frozen=True)
class Unrecorded:
    """An apply that left evidence on disk (``where``) but no record in the ledger."""

    apply_id: str
    where: str

    def __str__(self) -> str:
        return (
            f"apply {self.apply_id} has {self.where} but no record in the ledger: run "
            "`dsgit apply` with its plan again to record it (it writes the missing records)"
        )


def unrecorded_applies(root: Path) -> tuple[Unrecorded, ...]:
    """Applies whose pre-images (``audit/preimages/ID``) or journal exist without a ledger
    record: a run killed before its records, whose plan was not run again."""
    evidence: dict[str, str] = {}
    for apply_id in apply_ids(root):
        evidence[apply_id] = f"pre-images in {PREIMAGE_DIR}/{apply_id}"
    folder = root / JOURNAL_DIR
    if folder.is_dir():
        for path in sorted(folder.glob("*.jsonl")):
            found = _journal_apply_id(path)
            if found is not None and found not in evidence:
                evidence[found] = f"a journal ({JOURNAL_DIR}/{path.name})"
    return tuple(
        Unrecorded(apply_id, where)
        for apply_id, where in sorted(evidence.items())
        if not recorded_apply(root, apply_id).known
    )


def _journal_apply_id(path: Path) -> str | None:
    """The apply id of a journal that got as far as a change (an intent or a completion), read
    without locking it. A run refused before any change (the lock was held) did nothing."""
    apply_id: str | None = None
    try:
        with path.open("rb") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except ValueError:
                    return apply_id  # a torn last line
                if not isinstance(record, dict):
                    continue
                kind = record.get("t")
                if kind == "begin" and apply_id is None:
                    found = record.get("apply_id")
                    apply_id = found if isinstance(found, str) else None
                elif kind in ("intent", "done") and apply_id is not None:
                    return apply_id
    except OSError:
        return None
    return None
