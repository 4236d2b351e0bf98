"""The record types of the audit ledger (DESIGN.md §7) and their JSON form.

One line of ``audit/ledger.jsonl`` is one :class:`LedgerRecord`: the common envelope (``v``,
``seq``, ``type``, ``time``, ``actor``, ``prev``, ``hash``, optional ``sig``) with the fields of
its body flattened beside it. Bodies hold addresses, digests, revision ids and counts, never a
value: a ledger is committed to git and must not carry anything sensitive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeAlias

from dsgit.errors import ConfigError, Location

__all__ = [
    "FORMAT_VERSION",
    "ApplyRecord",
    "ApprovalRecord",
    "Body",
    "ChangeOutcome",
    "ChangeRecord",
    "EntryState",
    "ErasureRecord",
    "LedgerRecord",
    "LockBreakRecord",
    "RecordType",
    "Signature",
    "body_from_json",
    "body_to_json",
    "record_from_json",
]

FORMAT_VERSION = 1


class RecordType(StrEnum):
    """What a record is about."""

    APPLY = "apply"  # one run of `dsgit apply` over a plan (one per run: resumes add another)
    CHANGE = "change"  # one entry written (or refused as a conflict) by an apply
    APPROVAL = "approval"  # one approval of a plan
    ERASURE = "erasure"  # one right-to-erasure request carried out
    LOCK_BREAK = "lock-break"  # an environment lock held by another apply was released by force


class ChangeOutcome(StrEnum):
    """What happened to one planned change."""

    WRITTEN = "written"  # this apply wrote it
    CONFLICT = "conflict"  # the live entry had changed since the plan; nothing was written
    SKIPPED = "skipped"  # a no-op, or already in the planned state


@dataclass(frozen=True)
class EntryState:
    """An entry before or after a change, by digest: never the value itself."""

    exists: bool
    etag: str | None = None
    revision_id: str | None = None
    value_digest: str | None = None  # sha256 of canonical {value, attributes, users}

    def to_json(self) -> dict[str, Any]:
        return {
            "exists": self.exists,
            "etag": self.etag,
            "revision_id": self.revision_id,
            "value_digest": self.value_digest,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EntryState:
        return cls(
            exists=bool(data["exists"]),
            etag=_opt_str(data.get("etag")),
            revision_id=_opt_str(data.get("revision_id")),
            value_digest=_opt_str(data.get("value_digest")),
        )


@dataclass(frozen=True)
class ApplyRecord:
    """One run of an apply. ``status`` is complete, conflict, partial or interrupted."""

    apply_id: str
    plan_digest: str
    plan_kind: str
    environment: str
    universe_id: int
    source_commit: str | None
    source_digest: str
    status: str
    summary: Mapping[str, int] = field(default_factory=dict)
    conflicts: tuple[str, ...] = ()
    snapshot_time: str | None = None
    started: str | None = None

    type: RecordType = field(default=RecordType.APPLY, init=False)


@dataclass(frozen=True)
class ChangeRecord:
    """One planned change as carried out. ``users`` are hashed user ids (:func:`user_digest`)."""

    apply_id: str
    address: str
    action: str
    outcome: ChangeOutcome
    before: EntryState
    after: EntryState
    users: tuple[str, ...] = ()
    increment: int | None = None

    type: RecordType = field(default=RecordType.CHANGE, init=False)


@dataclass(frozen=True)
class ApprovalRecord:
    """One approval of a plan (``method``: ``signature`` or ``github-review``)."""

    plan_digest: str
    environment: str
    universe_id: int
    approver: str
    method: str
    signature_digest: str | None = None
    expires: str | None = None

    type: RecordType = field(default=RecordType.APPROVAL, init=False)


@dataclass(frozen=True)
class ErasureRecord:
    """One erasure request carried out: the user only as a hash, the entries only as a count."""

    user: str  # user_digest(user id)
    entries: int
    addresses_digest: str  # sha256 of the canonical sorted list of erased addresses
    apply_id: str | None = None
    plan_digest: str | None = None
    notification_id: str | None = None

    type: RecordType = field(default=RecordType.ERASURE, init=False)


@dataclass(frozen=True)
class LockBreakRecord:
    """Someone released an environment lock that another apply held (``dsgit lock release
    --break-lock``): whose lease it was, and whether it had expired."""

    environment: str
    universe_id: int
    holder: str
    apply_id: str
    lease_actor: str
    host: str
    expires: str
    expired: bool

    type: RecordType = field(default=RecordType.LOCK_BREAK, init=False)


Body: TypeAlias = ApplyRecord | ChangeRecord | ApprovalRecord | ErasureRecord | LockBreakRecord


@dataclass(frozen=True)
class Signature:
    """An Ed25519 signature over the record's ``hash`` string, by the key with ``key_id``."""

    key_id: str
    value: str  # base64


@dataclass(frozen=True)
class LedgerRecord:
    """One line of the ledger: the envelope around one body."""

    seq: int
    time: str
    actor: str
    prev: str
    body: Body
    hash: str
    signature: Signature | None = None

    @property
    def type(self) -> RecordType:
        return self.body.type

    def unsigned_json(self) -> dict[str, Any]:
        """Everything ``hash`` covers: the record without ``hash`` and ``sig``."""
        data: dict[str, Any] = {
            "v": FORMAT_VERSION,
            "seq": self.seq,
            "type": str(self.body.type),
            "time": self.time,
            "actor": self.actor,
            "prev": self.prev,
        }
        data.update(body_to_json(self.body))
        return data

    def to_json(self) -> dict[str, Any]:
        data = self.unsigned_json()
        data["hash"] = self.hash
        if self.signature is not None:
            data["sig"] = {"key": self.signature.key_id, "value": self.signature.value}
        return data


def body_to_json(body: Body) -> dict[str, Any]:
    match body:
        case ApplyRecord():
            return {
                "apply_id": body.apply_id,
                "plan_digest": body.plan_digest,
                "plan_kind": body.plan_kind,
                "environment": body.environment,
                "universe_id": body.universe_id,
                "source_commit": body.source_commit,
                "source_digest": body.source_digest,
                "status": body.status,
                "summary": dict(sorted(body.summary.items())),
                "conflicts": list(body.conflicts),
                "snapshot_time": body.snapshot_time,
                "started": body.started,
            }
        case ChangeRecord():
            return {
                "apply_id": body.apply_id,
                "address": body.address,
                "action": body.action,
                "outcome": str(body.outcome),
                "before": body.before.to_json(),
                "after": body.after.to_json(),
                "users": list(body.users),
                "increment": body.increment,
            }
        case ApprovalRecord():
            return {
                "plan_digest": body.plan_digest,
                "environment": body.environment,
                "universe_id": body.universe_id,
                "approver": body.approver,
                "method": body.method,
                "signature_digest": body.signature_digest,
                "expires": body.expires,
            }
        case ErasureRecord():
            return {
                "user": body.user,
                "entries": body.entries,
                "addresses_digest": body.addresses_digest,
                "apply_id": body.apply_id,
                "plan_digest": body.plan_digest,
                "notification_id": body.notification_id,
            }
        case LockBreakRecord():
            return {
                "environment": body.environment,
                "universe_id": body.universe_id,
                "holder": body.holder,
                "apply_id": body.apply_id,
                "lease_actor": body.lease_actor,
                "host": body.host,
                "expires": body.expires,
                "expired": body.expired,
            }


def body_from_json(kind: str, data: Mapping[str, Any]) -> Body:
    """The body of one record; ``KeyError``/``ValueError``/``TypeError`` on a malformed one."""
    match RecordType(kind):
        case RecordType.APPLY:
            return ApplyRecord(
                apply_id=_str(data["apply_id"]),
                plan_digest=_str(data["plan_digest"]),
                plan_kind=_str(data["plan_kind"]),
                environment=_str(data["environment"]),
                universe_id=_int(data["universe_id"]),
                source_commit=_opt_str(data.get("source_commit")),
                source_digest=_str(data["source_digest"]),
                status=_str(data["status"]),
                summary={str(k): _int(v) for k, v in dict(data.get("summary") or {}).items()},
                conflicts=tuple(_str(a) for a in data.get("conflicts") or ()),
                snapshot_time=_opt_str(data.get("snapshot_time")),
                started=_opt_str(data.get("started")),
            )
        case RecordType.CHANGE:
            increment = data.get("increment")
            return ChangeRecord(
                apply_id=_str(data["apply_id"]),
                address=_str(data["address"]),
                action=_str(data["action"]),
                outcome=ChangeOutcome(data["outcome"]),
                before=EntryState.from_json(data["before"]),
                after=EntryState.from_json(data["after"]),
                users=tuple(_str(u) for u in data.get("users") or ()),
                increment=None if increment is None else _int(increment),
            )
        case RecordType.APPROVAL:
            return ApprovalRecord(
                plan_digest=_str(data["plan_digest"]),
                environment=_str(data["environment"]),
                universe_id=_int(data["universe_id"]),
                approver=_str(data["approver"]),
                method=_str(data["method"]),
                signature_digest=_opt_str(data.get("signature_digest")),
                expires=_opt_str(data.get("expires")),
            )
        case RecordType.ERASURE:
            return ErasureRecord(
                user=_str(data["user"]),
                entries=_int(data["entries"]),
                addresses_digest=_str(data["addresses_digest"]),
                apply_id=_opt_str(data.get("apply_id")),
                plan_digest=_opt_str(data.get("plan_digest")),
                notification_id=_opt_str(data.get("notification_id")),
            )
        case RecordType.LOCK_BREAK:
            expired = data["expired"]
            if not isinstance(expired, bool):
                raise TypeError(f"expected a boolean, got {expired!r}")
            return LockBreakRecord(
                environment=_str(data["environment"]),
                universe_id=_int(data["universe_id"]),
                holder=_str(data["holder"]),
                apply_id=_str(data["apply_id"]),
                lease_actor=_str(data["lease_actor"]),
                host=_str(data["host"]),
                expires=_str(data["expires"]),
                expired=expired,
            )


def record_from_json(data: Any, *, file: str, line: int) -> LedgerRecord:
    """Parse one decoded line; a malformed one is a ``ConfigError`` naming file and line."""
    try:
        if not isinstance(data, dict):
            raise TypeError("a record must be a JSON object")
        if data.get("v") != FORMAT_VERSION:
            raise ValueError(f"unknown record version {data.get('v')!r}")
        sig = data.get("sig")
        signature = None
        if sig is not None:
            signature = Signature(_str(sig["key"]), _str(sig["value"]))
        return LedgerRecord(
            seq=_int(data["seq"]),
            time=_str(data["time"]),
            actor=_str(data["actor"]),
            prev=_str(data["prev"]),
            body=body_from_json(_str(data["type"]), data),
            hash=_str(data["hash"]),
            signature=signature,
        )
    except (KeyError, ValueError, TypeError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ConfigError(f"malformed ledger record: {detail}", Location(file, line)) from None


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value
