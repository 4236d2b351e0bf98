"""The ``plan`` and ``drift`` use cases: declaration + Open Cloud -> plan or drift report.

Dependencies come in explicitly (declaration, api, ledger, keyring), so the CLI stays thin and
tests can pass fakes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dsgit.crypto import Keyring
from dsgit.crypto.walk import decrypt_all
from dsgit.model.declaration import Declaration
from dsgit.model.entry import Address, JSONValue
from dsgit.model.overrides import for_environment
from dsgit.plan.build import DEFAULT_EXPIRY, PlanSettings, build_plan
from dsgit.plan.codes import DiagnosticCode
from dsgit.plan.compare import SchemaCheck, SchemaProblem
from dsgit.plan.desired import Decrypt, desired_from_declaration
from dsgit.plan.io import with_digest
from dsgit.plan.ledger import AppliedLookup, AppliedRecord, NoLedger
from dsgit.plan.model import Action, Change, Diagnostic, Plan, PlanKind, Severity
from dsgit.plan.slice import slice_of
from dsgit.plan.targets import AddressFilter
from dsgit.planning.read import ReadObserver, read_live
from dsgit.remote.api import OpenCloudApi

__all__ = [
    "DriftItem",
    "DriftReport",
    "LedgerLookup",
    "PlanRequest",
    "find_drift",
    "make_plan",
    "schema_check_for",
]

_MESSAGE_LIMIT = 200


@dataclass(frozen=True)
class PlanRequest:
    """What the user asked for: environment, filters and expiry."""

    environment: str
    universe_id: int
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    expires_in: timedelta = DEFAULT_EXPIRY
    now: datetime | None = None


class LedgerLookup:
    """:class:`AppliedLookup` over the repository's ``audit/`` ledger (read once)."""

    def __init__(self, root: Path) -> None:
        from dsgit.ledger.query import last_applied

        self._records = last_applied(root)

    def last_applied(self, address: Address) -> AppliedRecord | None:
        found = self._records.get(str(address))
        if found is None:
            return None
        return AppliedRecord(revision_id=found.revision_id, applied_at=found.time)


def schema_check_for(declaration: Declaration) -> SchemaCheck:
    """Validates values against the declaration's schemas (``schemas/`` documents)."""
    from dsgit.repo.value_schemas import ValueSchemas

    schemas = ValueSchemas.from_documents(declaration.schemas)

    def check(reference: str, value: JSONValue) -> Sequence[SchemaProblem]:
        validator = schemas.validator(reference)
        if validator is None:
            return [SchemaProblem("", f"schema {reference} cannot be resolved")]
        problems = []
        for error in validator.iter_errors(value):
            pointer = "".join(
                "/" + str(part).replace("~", "~0").replace("/", "~1")
                for part in error.absolute_path
            )
            message = error.message
            if len(message) > _MESSAGE_LIMIT:
                message = message[:_MESSAGE_LIMIT] + "…"
            problems.append(SchemaProblem(pointer, message))
        return sorted(problems, key=lambda p: (p.pointer, p.message))

    return check


def _decrypter(keyring: Keyring | None) -> Decrypt | None:
    if keyring is None:
        return None

    def decrypt(address: Address, value: JSONValue) -> JSONValue:
        return decrypt_all(value, keyring, address)

    return decrypt


def make_plan(
    declaration: Declaration,
    api: OpenCloudApi,
    request: PlanRequest,
    *,
    ledger: AppliedLookup | None = None,
    keyring: Keyring | None = None,
    context: Mapping[str, str] | None = None,
    kind: PlanKind = PlanKind.PLAN,
    observer: ReadObserver | None = None,
) -> Plan:
    """Read what is needed live and plan the declaration against it.

    ``kind`` and ``context`` let other commands (``rollback --to COMMIT`` plans the declaration
    of an old commit) make their plans through the same path; ``observer`` learns how many
    requests the reading expects (progress).
    """
    select = AddressFilter(request.targets, request.excludes)
    declaration = for_environment(declaration, request.environment)
    desired = desired_from_declaration(declaration, decrypt=_decrypter(keyring))
    # Taken before the reads: apply treats any revision at or after it as newer than the plan.
    now = request.now or datetime.now(UTC)
    live = read_live(api, desired, select, observer)
    settings = PlanSettings(
        environment=request.environment,
        universe_id=request.universe_id,
        now=now,
        expires_in=request.expires_in,
        select=select,
        ledger=ledger if ledger is not None else NoLedger(),
        schema_check=schema_check_for(declaration),
        context=dict(context or {}),
        kind=kind,
    )
    plan = build_plan(desired, live, settings)
    inputs = slice_of(plan.changes, plan.diagnostics, declaration, declaration.policies)
    return with_digest(replace(plan, declaration_slice=inputs))


# --- drift -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DriftItem:
    """One live difference from git: ``changed`` (owned entry differs), ``missing`` (declared,
    owned, absent live) or ``unmanaged`` (live key with no file in a pruned store)."""

    kind: str
    change: Change


@dataclass(frozen=True)
class DriftReport:
    """Drift found in one environment, and the plan it was derived from."""

    plan: Plan
    items: tuple[DriftItem, ...] = field(default=())

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.plan.all_diagnostics if d.severity is Severity.ERROR)


def _drift_kind(change: Change) -> str | None:
    if change.ownership not in (None, "owned"):
        return None
    match change.action:
        case Action.UPDATE | Action.INCREMENT:
            return "changed"
        case Action.CREATE:
            return "missing"
        case Action.DELETE:
            pruned = any(d.code is DiagnosticCode.PRUNE_DELETE for d in change.diagnostics)
            return "unmanaged" if pruned else None
        case Action.NOOP:
            return None


def find_drift(
    declaration: Declaration,
    api: OpenCloudApi,
    request: PlanRequest,
    *,
    keyring: Keyring | None = None,
    observer: ReadObserver | None = None,
) -> DriftReport:
    """Live changes not in git: a plan of owned entries, read as what changed live."""
    plan = make_plan(declaration, api, request, keyring=keyring, observer=observer)
    items = []
    for change in plan.changes:
        kind = _drift_kind(change)
        if kind is not None:
            items.append(DriftItem(kind, change))
    return DriftReport(plan, tuple(items))
