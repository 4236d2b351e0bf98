"""The plan: what ``dsgit plan`` found and ``dsgit apply`` executes, as frozen values.

A plan is built once (by :mod:`dsgit.plan.build` from a declaration and live state, or by the
undo commands from pre-images or point-in-time reads), serialised by :mod:`dsgit.plan.io` and
rendered by :mod:`dsgit.render`. Renderers and the applier read the same objects, so what is
shown is what runs (DESIGN.md §4, PLAN-CONTRACT.md).

Secrets: a change's ``after`` never holds a sensitive plaintext. A value under a ``sensitive``
pointer is replaced by ``{"$sensitive": "sha256:<hex>"}`` (see :func:`sensitive_placeholder`);
a value under an ``encrypted`` pointer stays the ``ENC[...]`` ciphertext from the repository.
Diff lines under either show ``"(sensitive)"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias, assert_never

from dsgit.model.configs import CONFIGS
from dsgit.model.declaration import SourceInfo
from dsgit.model.entry import Address, EntryData, JSONValue, StoreKind

if TYPE_CHECKING:
    from dsgit.plan.codes import DiagnosticCode
    from dsgit.plan.slice import DeclarationSlice

__all__ = [
    "MASK",
    "PLAN_FORMAT_VERSION",
    "SENSITIVE_KEY",
    "Action",
    "Allowance",
    "Change",
    "ConfigsPrecondition",
    "CreateChange",
    "DeleteChange",
    "Diagnostic",
    "DiffLine",
    "DiffOp",
    "IncrementChange",
    "NoopChange",
    "OrderedPrecondition",
    "Plan",
    "PlanKind",
    "Precondition",
    "Severity",
    "StandardPrecondition",
    "UpdateChange",
    "change_of",
    "format_precise_time",
    "format_time",
    "increment_of",
    "parse_time",
    "precondition_from_json",
    "precondition_to_json",
    "summarize",
    "written_data",
]

PLAN_FORMAT_VERSION = 1


class PlanKind(StrEnum):
    """Where a plan came from: the declaration (``plan``), an undo command, or a data job."""

    PLAN = "plan"
    ROLLBACK = "rollback"
    REVERT = "revert"
    RESTORE = "restore"
    RETENTION = "retention"
    ERASURE = "erasure"
    MIGRATION = "migration"

    @property
    def from_declaration(self) -> bool:
        """Plans whose writes the declaration at their source commit must account for."""
        return self in (PlanKind.PLAN, PlanKind.ROLLBACK)


MASK = "(sensitive)"  # what a diff line shows for a sensitive or encrypted value
SENSITIVE_KEY = "$sensitive"  # the one key of a sensitive placeholder object in ``after``

DiffOp: TypeAlias = Literal["add", "remove", "replace"]


class Action(StrEnum):
    """What apply does to one entry (a Terraform-style list of these per change)."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    INCREMENT = "increment"
    NOOP = "no-op"


class Severity(StrEnum):
    """How much a diagnostic matters to apply."""

    ERROR = "error"  # never suppressible: apply refuses (exit 3)
    BLOCKING = "blocking"  # destructive: apply refuses unless suppressed with a reason
    WARNING = "warning"  # shown prominently, never blocks
    INFO = "info"


@dataclass(frozen=True)
class Diagnostic:
    """A finding with a stable code (``DSP001``...), documented in docs/planning.md.

    ``address`` is the plan address of the entry concerned (None for store- or plan-level
    findings; ``store`` names the store then). ``count`` carries the number of entries for
    counting diagnostics (mass delete, live entries failing a schema). ``suppressed_reason`` is
    set when a ``Suppression`` in the declaration let a BLOCKING diagnostic through.
    """

    code: DiagnosticCode
    severity: Severity
    message: str
    fix: str | None
    address: str | None
    count: int | None = None
    suppressed_reason: str | None = None
    store: str | None = None  # "standard:NAME" / "ordered:NAME" for store-level findings
    file: str | None = None  # repository-relative file to change, when known
    line: int | None = None

    @property
    def blocks(self) -> bool:
        """True when apply must refuse: an ERROR, or a BLOCKING diagnostic not suppressed."""
        if self.severity is Severity.ERROR:
            return True
        return self.severity is Severity.BLOCKING and self.suppressed_reason is None


@dataclass(frozen=True)
class StandardPrecondition:
    """The standard entry the plan was made against; apply writes only if it still holds.

    ``value_digest`` is ``sha256:<hex>`` of the canonical JSON of the live
    ``{"value", "attributes", "users"}`` (see :func:`dsgit.plan.digest.entry_digest`).
    """

    exists: bool
    etag: str | None = None
    revision_id: str | None = None
    value_digest: str | None = None


@dataclass(frozen=True)
class OrderedPrecondition:
    """The ordered entry the plan was made against: its integer (ordered entries have no
    etags or revisions), and the digest of that value as standard entries have one."""

    exists: bool
    value: int | None = None
    value_digest: str | None = None


@dataclass(frozen=True)
class ConfigsPrecondition:
    """The configs repository the plan was made against: its published ``configVersion``, the
    draft hash seen (a draft staged since moves it), and the digest of the published contents.
    A repository always exists (version 0 before its first publish)."""

    exists: bool
    config_version: int = 0
    draft_hash: str | None = None
    value_digest: str | None = None


Precondition: TypeAlias = StandardPrecondition | OrderedPrecondition | ConfigsPrecondition
"""The live state a change expects, one shape per resource kind (a closed union)."""


def precondition_to_json(pre: Precondition) -> dict[str, JSONValue]:
    """The plan file's ``precondition`` object: the same five members for every kind (a
    configs repository's draft hash is its ``etag``, its ``configVersion`` its ``revision_id``)."""
    match pre:
        case StandardPrecondition():
            etag, revision, ordered = pre.etag, pre.revision_id, None
        case OrderedPrecondition():
            etag, revision, ordered = None, None, pre.value
        case ConfigsPrecondition():
            etag, revision, ordered = pre.draft_hash, str(pre.config_version), None
        case _:
            assert_never(pre)
    return {
        "exists": pre.exists,
        "etag": etag,
        "revision_id": revision,
        "value_digest": pre.value_digest,
        "ordered_value": ordered,
    }


def precondition_from_json(kind: StoreKind, raw: Mapping[str, Any]) -> Precondition:
    """Invert :func:`precondition_to_json` for a change of ``kind``."""
    if kind is StoreKind.ORDERED:
        return OrderedPrecondition(raw["exists"], raw["ordered_value"], raw["value_digest"])
    if kind is CONFIGS:
        version = int(raw["revision_id"]) if raw["revision_id"] is not None else 0
        return ConfigsPrecondition(raw["exists"], version, raw["etag"], raw["value_digest"])
    return StandardPrecondition(raw["exists"], raw["etag"], raw["revision_id"], raw["value_digest"])


@dataclass(frozen=True)
class DiffLine:
    """One readable difference at a JSON pointer (``/Items/3/Price``); masked when sensitive.

    Value pointers are bare RFC 6901 pointers (``/Coins``, ``""`` for the whole value);
    metadata differences use ``@attributes/<pointer>`` and ``@users``.
    """

    pointer: str
    op: DiffOp
    old: JSONValue = None
    new: JSONValue = None


@dataclass(frozen=True, kw_only=True)
class _ChangeBase:
    """What every change carries: the entry, why, the live state it expects, its diff.

    ``moved_from`` links the create half of a rename to the address whose delete is its other
    half; ``ownership`` is the entry's ownership mode, for renderers.
    """

    action: ClassVar[Action]

    address: Address
    reason: str
    precondition: Precondition
    diff: tuple[DiffLine, ...]
    sensitive: tuple[str, ...]
    encrypted: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]
    moved_from: Address | None = None
    ownership: str | None = None

    @property
    def is_noop(self) -> bool:
        return self.action is Action.NOOP


@dataclass(frozen=True, kw_only=True)
class CreateChange(_ChangeBase):
    """Create a missing entry holding ``after``."""

    action: ClassVar[Action] = Action.CREATE
    after: EntryData


@dataclass(frozen=True, kw_only=True)
class UpdateChange(_ChangeBase):
    """Overwrite the live entry with ``after``."""

    action: ClassVar[Action] = Action.UPDATE
    after: EntryData


@dataclass(frozen=True, kw_only=True)
class DeleteChange(_ChangeBase):
    """Delete the live entry."""

    action: ClassVar[Action] = Action.DELETE


@dataclass(frozen=True, kw_only=True)
class IncrementChange(_ChangeBase):
    """Add ``amount`` to a live integer (a counter); ``after`` is the expected result."""

    action: ClassVar[Action] = Action.INCREMENT
    amount: int
    after: EntryData


@dataclass(frozen=True, kw_only=True)
class NoopChange(_ChangeBase):
    """Shown, never written (a seed or observed entry that differs, kept as it is)."""

    action: ClassVar[Action] = Action.NOOP


Change: TypeAlias = CreateChange | UpdateChange | DeleteChange | IncrementChange | NoopChange
"""What apply does to one entry: a closed union, handled with ``match`` and ``assert_never``."""


def written_data(change: Change) -> EntryData | None:
    """What the entry holds once the change is applied (None after a delete or a no-op)."""
    match change:
        case CreateChange() | UpdateChange() | IncrementChange():
            return change.after
        case DeleteChange() | NoopChange():
            return None
        case _:
            assert_never(change)


def change_of(
    action: Action, *, after: EntryData | None, amount: int | None = None, **fields: Any
) -> Change:
    """The change of ``action`` (as plan files and builders spell it) with the common
    ``fields``. Raises ``ValueError`` when ``after`` or ``amount`` is missing where needed."""
    match action:
        case Action.CREATE | Action.UPDATE | Action.INCREMENT if after is None:
            raise ValueError(f"a {action} change needs the data it writes")
        case Action.CREATE:
            assert after is not None
            return CreateChange(after=after, **fields)
        case Action.UPDATE:
            assert after is not None
            return UpdateChange(after=after, **fields)
        case Action.INCREMENT:
            assert after is not None
            if amount is None:
                raise ValueError("an increment needs its amount")
            return IncrementChange(after=after, amount=amount, **fields)
        case Action.DELETE:
            return DeleteChange(**fields)
        case Action.NOOP:
            return NoopChange(**fields)
        case _:
            assert_never(action)


def increment_of(change: Change) -> int | None:
    """The amount of an increment, None for every other change."""
    return change.amount if isinstance(change, IncrementChange) else None


@dataclass(frozen=True)
class Allowance:
    """A suppression given for one plan on the command line (``--allow CODE=REASON``).

    ``count`` bounds a mass-delete allowance (``--allow DSP003:COUNT=REASON``) as ``count:``
    does in ``_store.yaml``; ``matched`` is how many diagnostics of the plan it let through.
    """

    code: str
    reason: str
    count: int | None = None
    matched: int = 0


@dataclass(frozen=True)
class Plan:
    """A reviewable, serialisable set of changes for one environment.

    ``digest`` is ``sha256:<hex>`` of the canonical JSON body without ``digest`` itself
    (:func:`dsgit.plan.io.plan_digest`). ``context`` holds kind-specific facts that the digest
    covers, e.g. ``{"to_commit": ...}`` for a rollback. ``allowed`` lists the suppressions given
    on the command line (``--allow``); the digest covers them, and the diagnostics they let
    through carry their reason in ``suppressed_reason``. ``declaration_slice`` lists the
    declaration inputs the plan depends on (:mod:`dsgit.plan.slice`); None for plans that do
    not come from a declaration, or were made before dsgit recorded it.
    """

    format_version: int
    dsgit_version: str
    kind: PlanKind
    created: str
    expires: str
    environment: str
    universe_id: int
    source: SourceInfo
    changes: tuple[Change, ...]
    diagnostics: tuple[Diagnostic, ...]
    summary: Mapping[str, int]
    digest: str
    context: Mapping[str, str] = field(default_factory=dict)
    allowed: tuple[Allowance, ...] = ()  # command-line suppressions, shown and recorded
    declaration_slice: DeclarationSlice | None = None

    @property
    def all_diagnostics(self) -> tuple[Diagnostic, ...]:
        """Plan-level diagnostics first, then each change's, in plan order."""
        found = list(self.diagnostics)
        for change in self.changes:
            found.extend(change.diagnostics)
        return tuple(found)

    @property
    def blocking(self) -> tuple[Diagnostic, ...]:
        """Every diagnostic (plan and changes) that makes apply refuse."""
        return tuple(diag for diag in self.all_diagnostics if diag.blocks)

    @property
    def destructive(self) -> bool:
        """Of the destructive class for approvals: deletes, or any BLOCKING-class diagnostic
        (prune, mass delete, rename, session lock), suppressed or not."""
        if any(change.action is Action.DELETE for change in self.changes):
            return True
        return any(diag.severity is Severity.BLOCKING for diag in self.all_diagnostics)

    @property
    def has_changes(self) -> bool:
        """True when apply would write anything."""
        return any(not change.is_noop for change in self.changes)

    @property
    def applicable(self) -> bool:
        return not self.blocking

    def expired(self, now: datetime) -> bool:
        """True when ``now`` (timezone-aware) is at or past ``expires``."""
        return now >= parse_time(self.expires)


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with a ``Z`` and whole seconds, as plan files hold times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_precise_time(moment: datetime) -> str:
    """RFC 3339 UTC with a ``Z`` and microseconds (a plan's ``created``)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """Invert :func:`format_time` (accepts any RFC 3339 offset). Raises ``ValueError``."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    return moment


def summarize(changes: tuple[Change, ...], *, unchanged: int = 0) -> dict[str, int]:
    """Counts per action; ``unchanged`` adds entries compared equal that the plan leaves out."""
    counts = {action.value: 0 for action in Action}
    for change in changes:
        counts[change.action.value] += 1
    counts[Action.NOOP.value] += unchanged
    return counts
