"""The ledger records of an apply run (docs/ledger.md).

Each run appends one ``change`` record per change it finished that the ledger does not hold yet
for this apply id (so a resumed apply never records a change twice) and one ``apply`` record
with the run's status; a run killed after writing its records does not write them again.

The records are part of the apply's atomic end: they are appended (and fsync'd) *before* the
journal's ``end`` line, so a journal that says "finished" always has its records, and a resume
that finds the work done asks the ledger (:func:`dsgit.ledger.query.recorded_apply`) and
writes only what is missing. :func:`unrecorded_applies` finds applies that left pre-images or a
journal but no ledger record (``audit verify`` reports them).

The ``apply`` record says who (the actor and where that name came from), what (plan kind,
digest, source commit, dirty flag and declaration digest, counts) and why (the suppressions the
plan carried, with their codes and reasons); each ``change`` record carries the old and new
value digests and the plan's readable diff of that change (sensitive paths masked), which
``audit log --verbose`` shows.

``approvals`` are the approvals the run relied on (the approvals check's verdict): each is
recorded once per apply as an ``approval`` record, and every ``apply`` record of the run cites
them by record hash. The caller builds them as :class:`~dsgit.ledger.records.ApprovalRecord`
(docs/ledger.md, "Approvals")::

    ApprovalRecord(plan_digest=plan.digest, environment=plan.environment,
                   universe_id=plan.universe_id, approver="alice",
                   method="signature", signature_digest=sha256_digest(signed_document),
                   expires="2026-12-04T09:12:00Z", approved_at="2026-12-03T09:12:00Z")
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dsgit.apply.execute import Step
from dsgit.apply.journal import JOURNAL_DIR
from dsgit.apply.preimages import PREIMAGE_DIR, apply_ids
from dsgit.apply.result import ApplyStatus, ChangeResult
from dsgit.erasure.proof import addresses_digest, hashed_address, repository_salt
from dsgit.errors import LedgerError
from dsgit.ledger.actor import Actor
from dsgit.ledger.canonical import canonical_json, user_digest
from dsgit.ledger.file import Ledger
from dsgit.ledger.query import recorded_apply
from dsgit.ledger.records import (
    ApplyRecord,
    ApprovalRecord,
    Body,
    ChangeOutcome,
    ChangeRecord,
    ErasureRecord,
    RedactionRef,
    Suppression,
)
from dsgit.ledger.redact import Redaction, reference
from dsgit.ledger.redactions import listable
from dsgit.model.pointers import parse_pointer
from dsgit.plan.masking import PointerPatterns
from dsgit.plan.model import MASK, Change, Plan, PlanKind, increment_of

__all__ = [
    "ERASURE_RECORDED",
    "MAX_DIFF_CHARS",
    "MAX_DIFF_LINES",
    "Unrecorded",
    "append_apply_records",
    "append_change_records",
    "erasure_salt",
    "planned_redactions",
    "suppressions_of",
    "unrecorded_applies",
]

# An erasure apply that ends in conflicts still records (and purges) what it erased; the
# erasure record counts the conflicts, and `dsgit erase` again plans what is left.
ERASURE_RECORDED = ("complete", "conflict")
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
    approvals: Sequence[ApprovalRecord] = (),
    *,
    any_status: bool = False,
    summary: Mapping[str, int] | None = None,
    erased: Sequence[str] | None = None,
) -> None:
    """Append the records of ``changes`` the ledger lacks, and an apply record of ``status``.

    ``erased``: the addresses a complete erasure wrote, when ``changes`` are not all of them
    (a segmented apply); else those of ``changes`` written.

    Idempotent: running it again with the same arguments appends nothing. ``any_status``
    (recording a dead run): no apply record is added when the ledger already holds one of
    this apply and every change, whatever its status. ``summary`` gives the apply record's
    counts when ``changes`` are not all of them (a segmented apply records its changes one
    segment at a time, :func:`append_change_records`).
    """
    _check_approvals(plan, approvals)
    recorded: set[str] = set()
    statuses: set[str] = set()
    cited: dict[tuple[str, str, str, str], str] = {}  # approval identity -> record hash
    for record in ledger.records_of_apply(apply_id):
        body = record.body
        if isinstance(body, ChangeRecord) and body.apply_id == apply_id:
            recorded.add(body.address)
        elif isinstance(body, ApplyRecord) and body.apply_id == apply_id:
            statuses.add(body.status)
        elif isinstance(body, ApprovalRecord) and body.apply_id == apply_id:
            cited.setdefault(_identity(body), record.hash)
    fresh = [
        replace(approval, apply_id=apply_id)
        for approval in dict.fromkeys(approvals)
        if _identity(approval) not in cited
    ]
    if fresh:
        # First, so the apply record below can cite them by hash (a run killed in between
        # finds them here next time and cites them then).
        for written in ledger.append(fresh, actor=str(actor), batch=apply_id):
            assert isinstance(written.body, ApprovalRecord)
            cited.setdefault(_identity(written.body), written.hash)
    citations = tuple(dict.fromkeys(cited[_identity(a)] for a in approvals))
    salt = erasure_salt(ledger.root, plan)
    bodies: list[Body] = list(_change_records(apply_id, changes, steps, recorded, salt))
    if not bodies and (str(status) in statuses or (any_status and statuses)):
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
            summary=dict(summary) if summary is not None else _summary(changes),
            conflicts=tuple(
                str(c.address) if salt is None else hashed_address(salt, str(c.address))
                for c in changes
                if c.outcome is ChangeOutcome.CONFLICT
            ),
            snapshot_time=snapshot_time,
            started=started,
            source_dirty=plan.source.dirty,
            suppressions=suppressions_of(plan, salt),
            approvals=citations,
            actor_source=actor.source if isinstance(actor, Actor) else None,
        )
    )
    if plan.kind is PlanKind.ERASURE and str(status) in ERASURE_RECORDED:
        assert salt is not None
        wrote = (
            erased
            if erased is not None
            else [str(c.address) for c in changes if c.outcome is ChangeOutcome.WRITTEN]
        )
        conflicts = (summary if summary is not None else _summary(changes)).get("conflict", 0)
        proof = _erasure_record(salt, plan, apply_id, wrote, conflicts, ledger.root)
        bodies.insert(len(bodies) - 1, proof)
    ledger.append(bodies, actor=str(actor), batch=apply_id)


def erasure_salt(root: Path, plan: Plan) -> str | None:
    """The repository's salt when ``plan`` is an erasure (its records then name addresses by
    their salted hash only), else None."""
    return repository_salt(root) if plan.kind is PlanKind.ERASURE else None


def _erasure_record(
    salt: str,
    plan: Plan,
    apply_id: str,
    erased: Sequence[str],
    conflicts: int,
    root: Path,
) -> ErasureRecord:
    """The proof of one erasure: the salted user hash, how many entries (and conflicts), their
    addresses' digest, and the earlier ledger records it redacts (docs/erasure.md, "Answering
    an auditor"). The redactions are carried out once this record is in the ledger."""
    return ErasureRecord(
        user=plan.context.get("erasure_user", ""),
        entries=len(erased),
        addresses_digest=addresses_digest(salt, erased),
        apply_id=apply_id,
        plan_digest=plan.digest,
        notification_id=plan.context.get("notification_id"),
        conflicts=conflicts,
        redacted=_references(root, planned_redactions(plan)),
    )


def _references(root: Path, items: list[Redaction]) -> tuple[RedactionRef, ...]:
    if not items:
        return ()
    may_list = listable(root)
    return tuple(ref for item in items if (ref := reference(root, item, may_list)) is not None)


def planned_redactions(plan: Plan) -> list[Redaction]:
    """The ledger redactions an erasure plan lists (its context's ``redact_ledger``)."""
    listed = json.loads(plan.context.get("redact_ledger", "[]"))
    return [Redaction.from_json(item) for item in listed]


def _change_records(
    apply_id: str,
    changes: Sequence[ChangeResult],
    steps: Sequence[Step],
    recorded: set[str],
    salt: str | None = None,
) -> list[ChangeRecord]:
    """The change records; ``salt`` given (an erasure): they name no address, user or value
    in clear, only the address's salted hash."""
    planned = {str(step.change.address): step.change for step in steps}
    bodies: list[ChangeRecord] = []
    for change in changes:
        address = str(change.address)
        shown = address if salt is None else hashed_address(salt, address)
        if change.outcome is None or address in recorded or shown in recorded:
            continue
        source = planned.get(address)
        diff, truncated = _diff_of(source) if source is not None else ((), False)
        if salt is not None:
            diff, truncated = (), False
        bodies.append(
            ChangeRecord(
                apply_id=apply_id,
                address=shown,
                action=str(change.action),
                outcome=change.outcome,
                before=change.before,
                after=change.after,
                users=() if salt is not None else tuple(user_digest(u) for u in change.users),
                increment=increment_of(source) if source is not None else None,
                diff=diff,
                diff_truncated=truncated,
            )
        )
    return bodies


def append_change_records(
    ledger: Ledger,
    actor: str,
    apply_id: str,
    changes: Sequence[ChangeResult],
    steps: Sequence[Step],
    salt: str | None = None,
) -> None:
    """Append the ``change`` records of finished ``changes`` the ledger lacks (idempotent);
    the apply record comes later, from :func:`append_apply_records` with its ``summary``.
    ``salt`` (an erasure): the records name addresses by their salted hash only."""
    recorded = {
        record.body.address
        for record in ledger.records_of_apply(apply_id)
        if isinstance(record.body, ChangeRecord) and record.body.apply_id == apply_id
    }
    bodies = _change_records(apply_id, changes, steps, recorded, salt)
    if bodies:
        ledger.append(bodies, actor=str(actor), batch=apply_id)


def _identity(approval: ApprovalRecord) -> tuple[str, str, str, str]:
    return (approval.plan_digest, approval.approver, str(approval.kind), approval.reference)


def _check_approvals(plan: Plan, approvals: Sequence[ApprovalRecord]) -> None:
    for approval in approvals:
        if (approval.plan_digest, approval.environment, approval.universe_id) != (
            plan.digest,
            plan.environment,
            plan.universe_id,
        ):
            raise LedgerError(
                f"the approval by {approval.approver} ({approval.kind}) is for plan "
                f"{approval.plan_digest[:19]}… in {approval.environment!r}, not this plan in "
                f"{plan.environment!r}: an apply records only approvals of its own plan"
            )


def suppressions_of(plan: Plan, salt: str | None = None) -> tuple[Suppression, ...]:
    """Every blocking diagnostic the plan let through, with its code, place and reason (an
    erasure's, with ``salt``: its address as the salted hash, and no store name)."""
    found: dict[tuple[str, str | None, str | None, str], Suppression] = {}
    for diag in plan.all_diagnostics:
        if diag.suppressed_reason is None:
            continue
        address, store = diag.address, diag.store
        if salt is not None:
            address = hashed_address(salt, address) if address is not None else None
            store = None
        item = Suppression(diag.code, diag.suppressed_reason, address, store)
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
