"""Read-side questions about the ledger: ``audit log`` filters, applies, last apply of an entry."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from dsgit.ledger.canonical import user_digest
from dsgit.ledger.file import Ledger
from dsgit.ledger.records import (
    ApplyRecord,
    ApprovalRecord,
    ChangeOutcome,
    ChangeRecord,
    ErasureRecord,
    LedgerRecord,
    LockBreakRecord,
    NotificationRecord,
)
from dsgit.model.entry import Address
from dsgit.model.times import parse_user_time

__all__ = [
    "AppliedRun",
    "LastApplied",
    "LogFilter",
    "RecordedApply",
    "describe",
    "diff_text",
    "filter_records",
    "last_applied",
    "list_applies",
    "parse_time",
    "recorded_apply",
]


class LastApplied(NamedTuple):
    """The last write dsgit made to one address: ``(revision_id, time)`` and more.

    ``value_digest`` is the entry digest written (ordered entries have no revisions: compare
    this), ``deleted`` is True when that write was a delete.
    """

    revision_id: str | None
    time: str
    apply_id: str
    value_digest: str | None = None
    deleted: bool = False


def last_applied(root: Path) -> Mapping[str, LastApplied]:
    """Per address (``str(Address)``), the revision and time of the last write by an apply.

    For the planner's "changed outside git since the last apply" warning: a live revision other
    than this one was written by someone else.
    """
    result: dict[str, LastApplied] = {}
    for record in Ledger(root).records():
        body = record.body
        if isinstance(body, ChangeRecord) and body.outcome is ChangeOutcome.WRITTEN:
            result[body.address] = LastApplied(
                body.after.revision_id,
                record.time,
                body.apply_id,
                body.after.value_digest,
                not body.after.exists,
            )
    return result


@dataclass(frozen=True)
class AppliedRun:
    """One apply id with its runs (a resumed apply has several) and the changes it wrote."""

    apply_id: str
    plan_digest: str
    plan_kind: str
    environment: str
    universe_id: int
    started: str
    finished: str
    status: str  # of the last run
    changes: tuple[ChangeRecord, ...]
    source_commit: str | None = None  # the commit its plan was made from (undo reads policy)


def list_applies(root: Path) -> tuple[AppliedRun, ...]:
    """Every apply recorded, oldest first (the undo helper lists and reverts these)."""
    runs: dict[str, list[tuple[LedgerRecord, ApplyRecord]]] = {}
    changes: dict[str, list[ChangeRecord]] = {}
    for record in Ledger(root).records():
        body = record.body
        if isinstance(body, ApplyRecord):
            runs.setdefault(body.apply_id, []).append((record, body))
        elif isinstance(body, ChangeRecord):
            changes.setdefault(body.apply_id, []).append(body)
    result = []
    for apply_id, items in runs.items():
        first_record, first = items[0]
        last_record, last = items[-1]
        result.append(
            AppliedRun(
                apply_id=apply_id,
                plan_digest=first.plan_digest,
                plan_kind=first.plan_kind,
                environment=first.environment,
                universe_id=first.universe_id,
                started=first.started or first_record.time,
                finished=last_record.time,
                status=last.status,
                changes=tuple(changes.get(apply_id, ())),
                source_commit=first.source_commit,
            )
        )
    return tuple(sorted(result, key=lambda run: run.started))


@dataclass(frozen=True)
class RecordedApply:
    """What the ledger holds of one apply id: the addresses of its change records and the
    statuses of its apply records (both empty when the ledger does not know the apply)."""

    addresses: frozenset[str]
    statuses: frozenset[str]

    @property
    def known(self) -> bool:
        return bool(self.statuses)


def recorded_apply(root: Path, apply_id: str) -> RecordedApply:
    """Does the ledger hold apply ``apply_id``, and which of its records?

    Apply asks this before appending, so a resume writes only the records that are missing
    (never one twice), and ``audit verify`` asks it for applies whose pre-images or journal
    exist. Malformed lines are passed over here (``audit verify`` reports them).
    """
    addresses: set[str] = set()
    statuses: set[str] = set()
    for record in Ledger(root).records(skip_malformed=True):
        body = record.body
        if isinstance(body, ChangeRecord) and body.apply_id == apply_id:
            addresses.add(body.address)
        elif isinstance(body, ApplyRecord) and body.apply_id == apply_id:
            statuses.add(body.status)
    return RecordedApply(frozenset(addresses), frozenset(statuses))


parse_time = parse_user_time  # `audit log --since/--until`


def _record_time(record: LedgerRecord) -> datetime:
    return parse_time(record.time)


@dataclass(frozen=True)
class LogFilter:
    """``audit log`` filters; every one given must hold."""

    store: str | None = None
    key: str | None = None
    user: int | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    environment: str | None = None
    apply_id: str | None = None
    erasure_user: str | None = None  # the user's salted hash (erasure records, docs/erasure.md)
    # (chain, seq, hash) of the records the user's erasures redacted: they name the user no
    # more, but they are the user's history (filter_records fills it in)
    redacted: frozenset[tuple[str | None, int, str]] = frozenset()

    def matches(self, record: LedgerRecord, environments: Mapping[str, str] | None = None) -> bool:
        """``environments`` maps apply ids to environments, for version 1 change records."""
        if self.actor is not None and record.actor != self.actor:
            return False
        if (
            self.environment is not None
            and _environment_of(record, environments or {}) != self.environment
        ):
            return False
        if self.apply_id is not None and getattr(record.body, "apply_id", None) != self.apply_id:
            return False
        if self.since is not None and _record_time(record) < self.since:
            return False
        if self.until is not None and _record_time(record) > self.until:
            return False
        if self.store is not None or self.key is not None:
            address = _address_of(record)
            if address is None:
                return False
            if self.store is not None and address.store != self.store:
                return False
            if self.key is not None and address.key != self.key:
                return False
        return (
            self.user is None
            or _mentions_user(record, self.user, self.erasure_user)
            or (record.chain, record.seq, record.hash) in self.redacted
        )


def _environment_of(record: LedgerRecord, environments: Mapping[str, str]) -> str | None:
    """The chain of a record; for version 1 records, the environment its body (or its apply's
    record) names."""
    if record.chain is not None:
        return record.chain
    named = getattr(record.body, "environment", None)
    if isinstance(named, str):
        return named
    apply_id = getattr(record.body, "apply_id", None)
    return environments.get(apply_id) if isinstance(apply_id, str) else None


def _address_of(record: LedgerRecord) -> Address | None:
    if not isinstance(record.body, ChangeRecord):
        return None
    try:
        return Address.parse(record.body.address)
    except ValueError:
        return None


def _mentions_user(record: LedgerRecord, user: int, erasure_user: str | None = None) -> bool:
    """A change touching the user's entry (``users`` metadata or the id in its key), an erasure
    (its ``user`` is the id hashed with the repository's salt: ``erasure_user``)."""
    digest = user_digest(user)
    body = record.body
    if isinstance(body, ErasureRecord):
        return body.user in (digest, erasure_user)
    if isinstance(body, ChangeRecord):
        if digest in body.users:
            return True
        address = _address_of(record)
        return address is not None and re.search(rf"(?<!\d){user}(?!\d)", address.key) is not None
    return False


def filter_records(records: Iterable[LedgerRecord], where: LogFilter) -> Iterator[LedgerRecord]:
    listed = list(records)
    environments = {
        record.body.apply_id: record.body.environment
        for record in listed
        if isinstance(record.body, ApplyRecord)
    }
    if where.user is not None:
        refs = frozenset(
            (ref.chain, ref.seq, ref.hash)
            for record in listed
            if isinstance(record.body, ErasureRecord)
            and _mentions_user(record, where.user, where.erasure_user)
            for ref in record.body.redacted
        )
        where = replace(where, redacted=refs)
    for record in listed:
        if where.matches(record, environments):
            yield record


def _short(digest: str | None) -> str:
    return "none" if digest is None else digest.removeprefix("sha256:")[:12]


def describe(record: LedgerRecord) -> str:
    """One line of ``audit log`` text output: when, where in the chain, who, what and why.

    Never a value: change lines show the old and new value digests (``--verbose`` adds the
    diff lines, see :func:`diff_of`).
    """
    body = record.body
    position = f"{record.chain}#{record.seq}" if record.chain else f"#{record.seq}"
    head = f"{record.time} {position} {record.actor}"
    if record.redacted_by is not None:
        head += f" [redacted by erasure {record.redacted_by[:19]}]"
    match body:
        case ApplyRecord():
            counts = ", ".join(f"{k} {v}" for k, v in sorted(body.summary.items()) if v)
            commit = body.source_commit[:12] if body.source_commit else "none"
            dirty = " (dirty)" if body.source_dirty else ""
            parts = [
                f"{head} {body.plan_kind} apply {body.apply_id} {body.status}",
                f"env={body.environment}",
                f"commit={commit}{dirty}",
                f"plan={body.plan_digest[:19]}",
                f"({counts or 'no changes'})",
            ]
            if body.approvals:
                parts.append(f"approvals={len(body.approvals)}")
            text = " ".join(parts)
            for item in body.suppressions:
                where = item.address or item.store or "plan"
                text += f"\n    suppressed {item.code} {where}: {item.reason}"
            return text
        case ChangeRecord():
            revision = body.after.revision_id or "-"
            digests = f"{_short(body.before.value_digest)}->{_short(body.after.value_digest)}"
            return (
                f"{head} {body.action} {body.address} {body.outcome} value={digests} rev={revision}"
            )
        case ApprovalRecord():
            return (
                f"{head} approval by {body.approver} ({body.kind}) env={body.environment}"
                f" plan={body.plan_digest[:19]} ref={body.reference[:19]}"
            )
        case ErasureRecord():
            text = f"{head} erasure user={body.user[:19]} entries={body.entries}"
            if body.conflicts:
                text += f" conflicts={body.conflicts} (not finished: erase again)"
            if body.redacted:
                text += f" redacted={len(body.redacted)} earlier record(s)"
            return text
        case LockBreakRecord():
            state = "expired" if body.expired else "live"
            return (
                f"{head} lock-break env={body.environment} {state} lease of {body.lease_actor}"
                f" on {body.host} (apply {body.apply_id or '-'}, until {body.expires})"
            )
        case NotificationRecord():
            return (
                f"{head} notification not delivered env={body.environment} sink={body.sink}"
                f" event={body.event} after {body.attempts} attempt(s): {body.problem}"
            )


def diff_text(body: ChangeRecord) -> list[str]:
    """The diff lines a change record carries, as the plan renders them (``~ /price: 1 -> 2``).

    Sensitive paths were masked before the record was written; nothing is unmasked here.
    """
    from dsgit.plan.model import DiffLine
    from dsgit.render.values import diff_lines

    lines: list[str] = []
    for item in body.diff:
        op = item.get("op")
        if op not in ("add", "remove", "replace"):
            continue
        line = DiffLine(str(item.get("pointer", "")), op, item.get("old"), item.get("new"))
        lines.extend(diff_lines(line))
    if body.diff_truncated:
        lines.append("… (more differences: see the plan or the pre-image)")
    return lines
