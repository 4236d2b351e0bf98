"""Per-entry comparison: one desired entry against its live state, by ownership mode.

Pure. Returns the change to plan (or None for an unchanged entry) and the facts the builder
aggregates per store (seed entries kept, observed differences, live values failing a schema).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dsgit.model.configs import CONFIGS
from dsgit.model.declaration import Ownership, StorePolicy
from dsgit.model.entry import (
    Address,
    EntryData,
    JSONValue,
    LiveEntry,
    LiveOrderedEntry,
    StoreKind,
)
from dsgit.model.limits import MAX_VALUE_CHARS, encoded_length
from dsgit.model.pointers import parse_pointer
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.desired import DesiredEntry
from dsgit.plan.digest import entry_digest
from dsgit.plan.jsondiff import TypeChange, diff_data
from dsgit.plan.ledger import AppliedLookup
from dsgit.plan.masking import PointerPatterns
from dsgit.plan.model import (
    Action,
    Change,
    ConfigsPrecondition,
    DeleteChange,
    Diagnostic,
    DiffLine,
    OrderedPrecondition,
    Precondition,
    StandardPrecondition,
    change_of,
)
from dsgit.plan.values import data_equal

__all__ = [
    "EntryFacts",
    "SchemaCheck",
    "SchemaProblem",
    "active_session",
    "check_declared",
    "compare_entry",
    "delete_change",
    "live_data",
    "precondition_of",
]

NEAR_LIMIT = 0.9  # share of the 4 MB limit above which DSP023 warns


@dataclass(frozen=True)
class SchemaProblem:
    """One schema violation: where in the value, and what (never the offending value)."""

    pointer: str
    message: str


# Validates a value against a store's ``schema:`` reference.
SchemaCheck = Callable[[str, JSONValue], Sequence[SchemaProblem]]


@dataclass
class EntryFacts:
    """What one comparison found that the builder counts per store."""

    seed_kept: bool = False
    observed_differs: bool = False
    observed_missing: bool = False
    live_fails_schema: bool = False
    unchanged: bool = False
    diagnostics: list[Diagnostic] = field(default_factory=list)


def live_data(live: LiveEntry | LiveOrderedEntry) -> EntryData:
    if isinstance(live, LiveOrderedEntry):
        return EntryData(live.value)
    return live.data


def precondition_of(kind: StoreKind, live: LiveEntry | LiveOrderedEntry | None) -> Precondition:
    """What apply must find live: the etag and revision read, and the digest of the value
    (an ordered entry: its integer)."""
    if isinstance(live, LiveOrderedEntry):
        return OrderedPrecondition(True, live.value, entry_digest(live_data(live)))
    if kind is CONFIGS and isinstance(live, LiveEntry):
        version = int(live.revision_id) if live.revision_id else 0
        return ConfigsPrecondition(True, version, live.etag, entry_digest(live.data))
    if live is None:
        absent = kind is StoreKind.ORDERED
        return OrderedPrecondition(False) if absent else StandardPrecondition(False)
    return StandardPrecondition(
        exists=True,
        etag=live.etag,
        revision_id=live.revision_id,
        value_digest=entry_digest(live.data),
    )


def active_session(value: JSONValue) -> bool:
    """A ProfileService / ProfileStore profile a game server holds (``MetaData.ActiveSession``)."""
    if not isinstance(value, dict):
        return False
    meta = value.get("MetaData")
    return isinstance(meta, dict) and meta.get("ActiveSession") is not None


def _patterns(policy: StorePolicy) -> PointerPatterns:
    return PointerPatterns((*policy.sensitive, *policy.encrypted))


def masked_after(entry: DesiredEntry) -> EntryData:
    """What a plan's ``after`` holds for ``entry``: sensitive values as placeholders."""
    sensitive = PointerPatterns(entry.policy.sensitive)
    if not sensitive:
        return entry.data
    value = sensitive.placehold(entry.data.value, PointerPatterns(entry.policy.encrypted))
    return EntryData(value, entry.data.attributes, entry.data.users)


def check_declared(entry: DesiredEntry, schema_check: SchemaCheck | None) -> list[Diagnostic]:
    """Problems of the declared value itself: schema (DSP010) and size (DSP016/DSP023)."""
    found: list[tuple[DiagnosticCode, str]] = []
    if entry.policy.schema is not None and schema_check is not None:
        masked = _patterns(entry.policy)
        for problem in schema_check(entry.policy.schema, entry.compare_data.value):
            shown = problem.message
            if masked.touches(parse_pointer(problem.pointer)):
                shown = "the (sensitive) value does not match the schema"
            found.append(
                (
                    DiagnosticCode.SCHEMA_INVALID,
                    f"value at {problem.pointer or '/'} fails schema {entry.policy.schema}: "
                    f"{shown}",
                )
            )
    size = encoded_length(entry.data.value)
    if size > MAX_VALUE_CHARS:
        found.append(
            (
                DiagnosticCode.VALUE_TOO_LARGE,
                f"value is {size:,} characters once JSON-encoded (limit {MAX_VALUE_CHARS:,})",
            )
        )
    elif size > NEAR_LIMIT * MAX_VALUE_CHARS:
        found.append(
            (
                DiagnosticCode.VALUE_NEAR_LIMIT,
                f"value is {size:,} characters, {size / MAX_VALUE_CHARS:.0%} of the 4 MB limit",
            )
        )
    if not found:
        return []
    address = str(entry.address)
    return [
        diagnostic(code, f"{address}: {message}", address=address, file=entry.file, line=entry.line)
        for code, message in found
    ]


def _write_diagnostics(
    address: Address,
    live: LiveEntry | LiveOrderedEntry | None,
    types: Sequence[TypeChange],
    ledger: AppliedLookup,
    *,
    counter: bool,
) -> list[Diagnostic]:
    """Diagnostics of overwriting (or deleting) ``live``: session lock, outside change, types."""
    found: list[Diagnostic] = []
    text = str(address)
    if live is None:
        return found
    if isinstance(live, LiveEntry) and active_session(live.value):
        found.append(
            diagnostic(
                DiagnosticCode.SESSION_LOCKED,
                f"{text}: a game server holds this profile (MetaData.ActiveSession is set); "
                "the write would fight the session or be lost at its next save",
                address=text,
            )
        )
    record = ledger.last_applied(address)
    if record is not None and not counter:
        changed = False
        if record.deleted:
            changed = True
        elif isinstance(live, LiveEntry) and record.revision_id is not None:
            changed = live.revision_id != record.revision_id
        elif record.value_digest is not None:
            changed = entry_digest(live_data(live)) != record.value_digest
        if changed:
            since = f" on {record.applied_at}" if record.applied_at else ""
            found.append(
                diagnostic(
                    DiagnosticCode.OUTSIDE_CHANGE_OVERWRITTEN,
                    f"{text}: the live value changed outside git since dsgit last applied "
                    f"it{since}; this change overwrites that edit",
                    address=text,
                )
            )
    for change in types:
        found.append(
            diagnostic(
                DiagnosticCode.TYPE_CHANGE,
                f"{text}: {change.pointer or '/'} changes type from {change.old_type} to "
                f"{change.new_type}",
                address=text,
            )
        )
    return found


def _integer(value: JSONValue) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def compare_entry(
    entry: DesiredEntry,
    live: LiveEntry | LiveOrderedEntry | None,
    *,
    ledger: AppliedLookup,
    schema_check: SchemaCheck | None,
) -> tuple[Change | None, EntryFacts]:
    """The change that makes ``live`` what ``entry`` declares, as its ownership allows."""
    facts = EntryFacts()
    policy = entry.policy
    address = entry.address
    want = entry.compare_data
    ownership = policy.ownership
    patterns = _patterns(policy)

    if live is not None and ownership is not Ownership.OWNED and policy.schema and schema_check:
        facts.live_fails_schema = bool(schema_check(policy.schema, live_data(live).value))

    def change(
        action: Action,
        reason: str,
        diff: Sequence[DiffLine],
        diagnostics: Sequence[Diagnostic],
        *,
        increment: int | None = None,
    ) -> Change:
        return change_of(
            action,
            after=masked_after(entry),
            amount=increment,
            address=address,
            reason=reason,
            precondition=precondition_of(address.kind, live),
            diff=tuple(diff),
            sensitive=tuple(sorted(policy.sensitive)),
            encrypted=tuple(sorted(policy.encrypted)),
            diagnostics=tuple(diagnostics),
            moved_from=None,
            ownership=ownership.value,
        )

    if ownership is Ownership.OBSERVED:
        if live is None:
            facts.observed_missing = True
        elif not data_equal(live_data(live), want):
            facts.observed_differs = True
        else:
            facts.unchanged = True
        return None, facts

    if live is None:
        lines, _ = diff_data(None, want, patterns)
        reason = "declared, missing live" + (" (seed)" if ownership is Ownership.SEED else "")
        return change(Action.CREATE, reason, lines, ()), facts

    if ownership is Ownership.SEED:
        if data_equal(live_data(live), want):
            facts.unchanged = True
        else:
            facts.seed_kept = True
        return None, facts

    current = live_data(live)
    if data_equal(current, want):
        facts.unchanged = True
        return None, facts

    lines, types = diff_data(current, want, patterns)
    counter = policy.is_counter(address.key)
    same_meta = data_equal(
        EntryData(0, current.attributes, current.users), EntryData(0, want.attributes, want.users)
    )
    if counter and _integer(current.value) and _integer(want.value) and same_meta:
        assert isinstance(current.value, int) and isinstance(want.value, int)
        amount = want.value - current.value
        diagnostics = _write_diagnostics(address, live, types, ledger, counter=True)
        return (
            change(
                Action.INCREMENT,
                f"counter: increment by {amount:+d} (live {current.value}, declared {want.value})",
                lines,
                diagnostics,
                increment=amount,
            ),
            facts,
        )
    diagnostics = _write_diagnostics(address, live, types, ledger, counter=False)
    if counter:
        diagnostics.append(
            diagnostic(
                DiagnosticCode.COUNTER_NOT_INTEGER,
                f"{address}: declared a counter, but the live and declared values are not both "
                "integers with the same metadata; planned as an update",
                address=str(address),
            )
        )
    return change(
        Action.UPDATE, "live value differs from the declaration", lines, diagnostics
    ), facts


def delete_change(
    address: Address,
    live: LiveEntry | LiveOrderedEntry,
    policy: StorePolicy,
    reason: str,
    diagnostics: Sequence[Diagnostic],
    ledger: AppliedLookup,
) -> Change:
    """A delete of ``live``, its old value in the diff (masked)."""
    lines, _ = diff_data(live_data(live), None, _patterns(policy))
    found = list(diagnostics)
    found.extend(_write_diagnostics(address, live, (), ledger, counter=False))
    return DeleteChange(
        address=address,
        reason=reason,
        precondition=precondition_of(address.kind, live),
        diff=tuple(lines),
        sensitive=tuple(sorted(policy.sensitive)),
        encrypted=tuple(sorted(policy.encrypted)),
        diagnostics=tuple(found),
        ownership=policy.ownership.value,
    )
