"""The record types of the audit ledger (docs/ledger.md) and their JSON form.

One line of a ledger file is one :class:`LedgerRecord`: the common envelope (``v``, ``chain``,
``seq``, ``type``, ``time``, ``actor``, ``prev``, ``hash``, optional ``sig``) with the fields of
its body flattened beside it. Bodies hold addresses, digests, revision ids and counts, and of
values only the plan's readable diff lines, which the planner masks where a path is sensitive:
a ledger is committed to git and must not carry anything sensitive.

Version 1 records (the single-file ledger of earlier releases) have no ``chain`` and none of the
fields added in version 2; they are read with those fields at their defaults, and their hash is
always checked over the stored JSON (``raw``), never over a re-serialisation.

Version 3 records can be *redacted* after the fact (a right-to-erasure request) without
breaking the chain: their hash commits to each redactable field (:data:`REDACTABLE`) through
``sha256(salt:value)`` with a random per-field ``salts`` entry, so a redaction replaces the
value by a marker holding that digest and drops the salt (:mod:`dsgit.ledger.redact`). Version
1 and 2 records keep their stored hash when redacted; the erasure record that redacted them
holds the digest of their redacted form instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeAlias

from dsgit.errors import ConfigError, Location

__all__ = [
    "FORMAT_VERSION",
    "REDACTABLE",
    "REDACTED",
    "ApplyRecord",
    "ApprovalKind",
    "ApprovalRecord",
    "Body",
    "ChangeOutcome",
    "ChangeRecord",
    "EntryState",
    "ErasureRecord",
    "LedgerRecord",
    "LockBreakRecord",
    "NotificationRecord",
    "RecordType",
    "RedactionRef",
    "Signature",
    "Suppression",
    "body_from_json",
    "body_to_json",
    "is_marker",
    "record_from_json",
]

FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)

# The fields a right-to-erasure request may redact, per record type: (field, is it a list
# whose elements are redacted one by one). Everything else (digests, revision ids, counts)
# holds nothing of a user.
REDACTABLE: Mapping[str, tuple[tuple[str, bool], ...]] = {
    "change": (("address", False), ("users", False), ("diff", False)),
    "apply": (("conflicts", True), ("suppressions", True)),
}
REDACTED = "(redacted)"  # how a redacted address or conflict reads


def is_marker(value: Any) -> bool:
    """True for the marker a redaction leaves in place of a value."""
    return isinstance(value, dict) and value.get("redacted") == "erasure"


class RecordType(StrEnum):
    """What a record is about."""

    APPLY = "apply"  # one run of `dsgit apply` over a plan (one per run: resumes add another)
    CHANGE = "change"  # one entry written (or refused as a conflict) by an apply
    APPROVAL = "approval"  # one approval of a plan
    ERASURE = "erasure"  # one right-to-erasure request carried out
    LOCK_BREAK = "lock-break"  # an environment lock held by another apply was released by force
    NOTIFICATION = "notification"  # a notification that could not be delivered (DESIGN §15)


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
class Suppression:
    """A blocking diagnostic the plan let through: its code, where, and the reason given."""

    code: str
    reason: str
    address: str | None = None
    store: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "reason": self.reason,
            "address": self.address,
            "store": self.store,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Suppression:
        return cls(
            code=_str(data["code"]),
            reason=_str(data["reason"]),
            address=_opt_str(data.get("address")),
            store=_opt_str(data.get("store")),
        )


@dataclass(frozen=True)
class ApplyRecord:
    """One run of an apply. ``status`` is complete, conflict, partial or interrupted.

    ``plan_kind`` is what made the plan (``plan``, ``rollback``, ``revert``, ``restore``...);
    ``source_commit``, ``source_dirty`` and ``source_digest`` say which declaration it came
    from (dirty: files differed from that commit); ``suppressions`` are the blocking
    diagnostics it carried with their reasons; ``approvals`` cites, by record hash, the
    ``approval`` records this run relied on; ``actor_source`` says where the envelope's
    ``actor`` came from (``DSGIT_ACTOR``, ``GITHUB_ACTOR``, ``git`` or ``none``).
    """

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
    source_dirty: bool = False
    suppressions: tuple[Suppression, ...] = ()
    approvals: tuple[str, ...] = ()
    actor_source: str | None = None

    type: RecordType = field(default=RecordType.APPLY, init=False)


@dataclass(frozen=True)
class ChangeRecord:
    """One planned change as carried out. ``users`` are hashed user ids (:func:`user_digest`).

    ``before``/``after`` carry the old and new value digests. ``diff`` is the plan's readable
    diff of the change (``{"pointer", "op", "old", "new"}``; sensitive paths are already masked
    by the planner), shown only by ``audit log --verbose``; ``diff_truncated`` says that lines
    were left out to keep the record small.
    """

    apply_id: str
    address: str
    action: str
    outcome: ChangeOutcome
    before: EntryState
    after: EntryState
    users: tuple[str, ...] = ()
    increment: int | None = None
    diff: tuple[Mapping[str, Any], ...] = ()
    diff_truncated: bool = False
    redacted: bool = field(default=False, compare=False)  # read from a redacted record

    type: RecordType = field(default=RecordType.CHANGE, init=False)


class ApprovalKind(StrEnum):
    """How an approval was given."""

    SIGNATURE = "signature"  # an Ed25519 signature over the plan digest (`dsgit approve`)
    GITHUB_REVIEW = "github-review"  # an APPROVED pull-request review


@dataclass(frozen=True)
class ApprovalRecord:
    """One approval of a plan that an apply relied on.

    ``method`` is how it was given (an :class:`ApprovalKind` value: ``signature`` or
    ``github-review``); ``signature_digest`` identifies the approval itself: ``sha256:`` of the
    signed document for a signature, the review's id (``github-review:<id>``) for a review.
    ``approved_at`` is when it was given (the envelope's ``time`` is when it was recorded);
    ``apply_id`` is the apply that recorded it (set by ``append_apply_records``).
    """

    plan_digest: str
    environment: str
    universe_id: int
    approver: str
    method: str
    signature_digest: str | None = None
    expires: str | None = None
    approved_at: str | None = None
    apply_id: str | None = None

    type: RecordType = field(default=RecordType.APPROVAL, init=False)

    def __post_init__(self) -> None:
        ApprovalKind(self.method)  # ValueError for anything else

    @property
    def kind(self) -> ApprovalKind:
        return ApprovalKind(self.method)

    @property
    def reference(self) -> str:
        """What identifies the approval (its ``signature_digest``; empty when unknown)."""
        return self.signature_digest or ""


@dataclass(frozen=True)
class RedactionRef:
    """One earlier record an erasure redacted: where it is and its hash; for a version 1 or 2
    record (whose hash covers the values it no longer holds), also ``digest``, the sha256 of
    its redacted form, which ``audit verify`` checks instead."""

    chain: str | None
    seq: int
    hash: str
    fields: tuple[str, ...]  # "address", "diff", "conflicts/2"...
    digest: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "seq": self.seq,
            "hash": self.hash,
            "fields": list(self.fields),
            "digest": self.digest,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RedactionRef:
        return cls(
            chain=_opt_str(data.get("chain")),
            seq=_int(data["seq"]),
            hash=_str(data["hash"]),
            fields=tuple(_str(f) for f in data.get("fields") or ()),
            digest=_opt_str(data.get("digest")),
        )


@dataclass(frozen=True)
class ErasureRecord:
    """One erasure request carried out: the user only as a hash, the entries only as a count.

    ``conflicts``: planned entries it could not write (they changed after the plan: the
    erasure is not finished; ``dsgit erase`` again). ``redacted``: the earlier records whose
    fields holding the user it redacted."""

    user: str  # user_digest(user id)
    entries: int
    addresses_digest: str  # sha256 of the canonical sorted list of erased addresses
    apply_id: str | None = None
    plan_digest: str | None = None
    notification_id: str | None = None
    conflicts: int = 0
    redacted: tuple[RedactionRef, ...] = ()

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


@dataclass(frozen=True)
class NotificationRecord:
    """A notification sink that did not take an event (after its retries): which sink, which
    event, why. Never the sink's URL or secret, never the event's content."""

    environment: str
    event: str  # the event kind (apply, conflict, refused, drift, erasure, scan)
    event_id: str
    sink: str  # the sink's name in dsgit.yaml
    problem: str
    attempts: int

    type: RecordType = field(default=RecordType.NOTIFICATION, init=False)


Body: TypeAlias = (
    ApplyRecord
    | ChangeRecord
    | ApprovalRecord
    | ErasureRecord
    | LockBreakRecord
    | NotificationRecord
)


@dataclass(frozen=True)
class Signature:
    """An Ed25519 signature over the record's ``hash`` string, by the key with ``key_id``."""

    key_id: str
    value: str  # base64


@dataclass(frozen=True)
class LedgerRecord:
    """One line of the ledger: the envelope around one body.

    ``chain`` is the environment whose hash chain the record belongs to (None for version 1
    records). ``raw`` is the JSON object as read from disk, when the record was read: the
    hash is checked over it, so reading never changes what is verified.
    """

    seq: int
    time: str
    actor: str
    prev: str
    body: Body
    hash: str
    signature: Signature | None = None
    chain: str | None = None
    version: int = FORMAT_VERSION
    raw: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    salts: Mapping[str, Any] | None = None  # version 3: per redactable field (see REDACTABLE)

    @property
    def type(self) -> RecordType:
        return self.body.type

    @property
    def redacted_by(self) -> str | None:
        """The hash of the erasure record that redacted this one, if any."""
        if self.raw is None:
            return None
        value = self.raw.get("redacted_by")
        return value if isinstance(value, str) else None

    def unsigned_json(self) -> dict[str, Any]:
        """Everything ``hash`` covers: the record without ``hash`` and ``sig``."""
        if self.raw is not None:
            return {k: v for k, v in self.raw.items() if k not in ("hash", "sig")}
        data: dict[str, Any] = {
            "v": self.version,
            "seq": self.seq,
            "type": str(self.body.type),
            "time": self.time,
            "actor": self.actor,
            "prev": self.prev,
        }
        if self.chain is not None:
            data["chain"] = self.chain
        data.update(body_to_json(self.body))
        if self.salts is not None:
            data["salts"] = dict(self.salts)
        return data

    def to_json(self) -> dict[str, Any]:
        if self.raw is not None:
            return dict(self.raw)
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
                "source_dirty": body.source_dirty,
                "suppressions": [item.to_json() for item in body.suppressions],
                "approvals": list(body.approvals),
                "actor_source": body.actor_source,
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
                "diff": [dict(line) for line in body.diff],
                "diff_truncated": body.diff_truncated,
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
                "approved_at": body.approved_at,
                "apply_id": body.apply_id,
            }
        case ErasureRecord():
            return {
                "user": body.user,
                "entries": body.entries,
                "addresses_digest": body.addresses_digest,
                "apply_id": body.apply_id,
                "plan_digest": body.plan_digest,
                "notification_id": body.notification_id,
                "conflicts": body.conflicts,
                "redacted": [ref.to_json() for ref in body.redacted],
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
        case NotificationRecord():
            return {
                "environment": body.environment,
                "event": body.event,
                "event_id": body.event_id,
                "sink": body.sink,
                "problem": body.problem,
                "attempts": body.attempts,
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
                conflicts=tuple(
                    REDACTED if is_marker(a) else _str(a) for a in data.get("conflicts") or ()
                ),
                snapshot_time=_opt_str(data.get("snapshot_time")),
                started=_opt_str(data.get("started")),
                source_dirty=_bool(data.get("source_dirty", False)),
                suppressions=tuple(
                    Suppression(REDACTED, "redacted by a right-to-erasure request")
                    if is_marker(item)
                    else Suppression.from_json(item)
                    for item in data.get("suppressions") or ()
                ),
                approvals=tuple(_str(h) for h in data.get("approvals") or ()),
                actor_source=_opt_str(data.get("actor_source")),
            )
        case RecordType.CHANGE:
            increment = data.get("increment")
            address, users, diff = data["address"], data.get("users"), data.get("diff")
            return ChangeRecord(
                apply_id=_str(data["apply_id"]),
                address=REDACTED if is_marker(address) else _str(address),
                action=_str(data["action"]),
                outcome=ChangeOutcome(data["outcome"]),
                before=EntryState.from_json(data["before"]),
                after=EntryState.from_json(data["after"]),
                users=() if is_marker(users) else tuple(_str(u) for u in users or ()),
                increment=None if increment is None else _int(increment),
                diff=() if is_marker(diff) else tuple(_object(line) for line in diff or ()),
                diff_truncated=_bool(data.get("diff_truncated", False)),
                redacted=any(is_marker(v) for v in (address, users, diff)),
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
                approved_at=_opt_str(data.get("approved_at")),
                apply_id=_opt_str(data.get("apply_id")),
            )
        case RecordType.ERASURE:
            return ErasureRecord(
                user=_str(data["user"]),
                entries=_int(data["entries"]),
                addresses_digest=_str(data["addresses_digest"]),
                apply_id=_opt_str(data.get("apply_id")),
                plan_digest=_opt_str(data.get("plan_digest")),
                notification_id=_opt_str(data.get("notification_id")),
                conflicts=_int(data.get("conflicts", 0)),
                redacted=tuple(RedactionRef.from_json(r) for r in data.get("redacted") or ()),
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
        case RecordType.NOTIFICATION:
            return NotificationRecord(
                environment=_str(data["environment"]),
                event=_str(data["event"]),
                event_id=_str(data["event_id"]),
                sink=_str(data["sink"]),
                problem=_str(data["problem"]),
                attempts=_int(data["attempts"]),
            )


def record_from_json(data: Any, *, file: str, line: int) -> LedgerRecord:
    """Parse one decoded line; a malformed one is a ``ConfigError`` naming file and line."""
    try:
        if not isinstance(data, dict):
            raise TypeError("a record must be a JSON object")
        version = data.get("v")
        if version not in READABLE_VERSIONS:
            raise ValueError(f"unknown record version {version!r}")
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
            chain=_opt_str(data.get("chain")) if version >= 2 else None,
            version=version,
            raw=data,
            salts=None if data.get("salts") is None else _object(data["salts"]),
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


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def _object(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {value!r}")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value
