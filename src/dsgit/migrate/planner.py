"""The records of a migration scan into an ordinary plan (``kind: migration``) that show,
approve, apply and revert handle as any other.

What the scan's visitor (:mod:`dsgit.migrate.visitor`) found becomes:

- each entry to migrate -> an update whose precondition is the revision read (apply writes it
  with compare-and-swap, so a game server's save in between is a conflict, never
  overwritten), with DSP080 (error) when the new value fails the store's schema and DSP082
  (error) when running the migration again would change it once more;
- each failed step -> DSP081 (error) naming the entry and the step's line in the file;
- the counts -> DSP084; entries that did not match -> DSP083; entries held by a session lock,
  left out and retried by a later run -> DSP070 (a warning: one online player must not stop
  a migration of a million profiles). With ``--allow DSP005=REASON`` locked entries are
  planned, and their DSP005 is let through with that reason.

Entries already migrated count as no-ops: a finished migration plans nothing.

The store's policy applies as undo plans apply it (:mod:`dsgit.undo.desired`): the entry is
written whoever owns the store (migrations exist for player data), and values under
``sensitive`` or ``encrypted`` pointers travel sealed in the plan and are masked in every diff.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from dsgit.crypto import Keyring
from dsgit.migrate.files import MigrationFile
from dsgit.migrate.model import Convert, Migration
from dsgit.migrate.visitor import Tally, live_from_record
from dsgit.model.declaration import Declaration
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.model.pointers import parse_pointer
from dsgit.plan.build import DEFAULT_EXPIRY, PlanSettings, build_plan
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.desired import DesiredEntry, DesiredState, Removal, StoreSpec
from dsgit.plan.live import LiveState, LiveValue
from dsgit.plan.masking import PointerPatterns
from dsgit.plan.model import Action, Change, Diagnostic, Plan, PlanKind
from dsgit.plan.targets import AddressFilter
from dsgit.planning.usecase import schema_check_for
from dsgit.undo.desired import desired_entry, store_spec, undo_policy
from dsgit.undo.finish import finish_plan

__all__ = ["MigrationRequest", "plan_from_records"]


@dataclass(frozen=True)
class MigrationRequest:
    """What the user asked: the environment, filters, expiry, and whether locked profiles may
    be written (``--allow DSP005=REASON``)."""

    environment: str
    universe_id: int
    allow_locked: bool = False
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    expires_in: timedelta = DEFAULT_EXPIRY
    now: datetime | None = None

    @property
    def select(self) -> AddressFilter:
        return AddressFilter(self.targets, self.excludes)


def _listing(samples: Sequence[str], total: int) -> str:
    more = total - len(samples)
    return ", ".join(samples) + (f" and {more} more" if more > 0 else "")


def _entries(count: int, one: str = "entry", many: str = "entries") -> str:
    return f"{count:,} {one if count == 1 else many}"


def _summary(name: str, tally: Tally) -> list[Diagnostic]:
    notes = [
        diagnostic(
            DiagnosticCode.MIGRATION_SUMMARY,
            f"migration {name}: {_entries(tally.read)} read: {tally.migrated} to migrate, "
            f"{tally.unchanged} already migrated, {tally.not_matched} not matching, "
            f"{tally.locked} held by a session lock, {tally.failed} failed",
            count=tally.read,
        )
    ]
    if tally.not_matched:
        notes.append(
            diagnostic(
                DiagnosticCode.MIGRATION_NOT_MATCHING,
                f"migration {name}: {_entries(tally.not_matched)} not matching, left alone: "
                f"{_listing(tally.not_matched_samples, tally.not_matched)}",
                count=tally.not_matched,
            )
        )
    if tally.locked:
        notes.append(
            diagnostic(
                DiagnosticCode.LEFT_OUT_SESSION_LOCKED,
                f"migration {name}: {_entries(tally.locked)} left out, held by a game server's "
                "session lock (MetaData.ActiveSession): "
                f"{_listing(tally.locked_samples, tally.locked)}; the next run retries them",
                count=tally.locked,
            )
        )
    return notes


class _Builder:
    def __init__(
        self, source: MigrationFile, declaration: Declaration, keyring: Keyring | None
    ) -> None:
        self.migration = source.migration
        self.declaration = declaration
        self.keyring = keyring
        self.schema_check = schema_check_for(declaration)
        self.desired: dict[Address, DesiredEntry | Removal | None] = {}
        self.live: dict[Address, LiveValue | None] = {}
        self.stores: dict[tuple[StoreKind, str], StoreSpec] = {}
        self.change_notes: dict[Address, list[Diagnostic]] = {}
        self.plan_notes: list[Diagnostic] = []

    def record(self, raw: Mapping[str, Any]) -> None:
        if raw["kind"] == "failed":
            store, scope, key = raw["address"]
            address = Address.standard(store, key, scope)
            self.plan_notes.append(
                diagnostic(
                    DiagnosticCode.MIGRATION_STEP_FAILED,
                    f"{address}: step {raw['step']} of migration {self.migration.id} cannot be "
                    f"carried out: {raw['message']}",
                    address=str(address),
                    file=self.migration.file,
                    line=self.migration.lines.get(int(raw["step"])),
                )
            )
            return
        live = live_from_record(raw["live"])
        address = live.address
        if (StoreKind.STANDARD, live.store) not in self.stores:
            self.stores[(StoreKind.STANDARD, live.store)] = store_spec(
                self.declaration, StoreKind.STANDARD, live.store
            )
        policy = undo_policy(self.declaration, address)
        data = EntryData(raw["value"], live.attributes, live.users)
        self.desired[address] = desired_entry(address, data, policy, self.keyring)
        self.live[address] = live
        notes = self.change_notes.setdefault(address, [])
        if raw.get("rerun") is not None:
            notes.append(
                diagnostic(
                    DiagnosticCode.MIGRATION_NOT_IDEMPOTENT,
                    f"{address}: migration {self.migration.id} is not idempotent here: "
                    f"{raw['rerun']}",
                    address=str(address),
                    file=self.migration.file,
                )
            )
        if policy.schema is not None:
            problems = self.schema_check(policy.schema, data.value)
            if problems:
                pointers = ", ".join(sorted({p.pointer or "/" for p in problems})[:5])
                notes.append(
                    diagnostic(
                        DiagnosticCode.MIGRATED_FAILS_SCHEMA,
                        f"{address}: the migrated value fails the store's schema "
                        f"{policy.schema} at {pointers}",
                        address=str(address),
                    )
                )


def _declared_conversions(plan: Plan, migration: Migration) -> tuple[Change, ...]:
    """The changes without the DSP021 type-change warnings a ``convert`` step asked for (the
    migration says so in the file under review; other type changes keep their warning)."""
    converted = PointerPatterns(
        tuple(step.path for step in migration.steps if isinstance(step, Convert))
    )
    if not converted:
        return plan.changes
    changes = []
    for change in plan.changes:
        intended = tuple(
            f"{change.address}: {line.pointer or '/'} changes type"
            for line in change.diff
            if not line.pointer.startswith("@")  # metadata lines: @attributes/…, @users
            and converted.covers(parse_pointer(line.pointer))
        )
        kept = tuple(
            d
            for d in change.diagnostics
            if not (d.code is DiagnosticCode.TYPE_CHANGE and d.message.startswith(intended))
        )
        changes.append(replace(change, diagnostics=kept) if intended else change)
    return tuple(changes)


def plan_from_records(
    source: MigrationFile,
    records: Iterable[Mapping[str, Any]],
    tally: Tally,
    declaration: Declaration,
    request: MigrationRequest,
    *,
    keyring: Keyring | None = None,
    context: Mapping[str, str] | None = None,
) -> Plan:
    """The migration plan of a finished scan's records and counts (no I/O)."""
    builder = _Builder(source, declaration, keyring)
    for raw in records:
        builder.record(raw)
    migration = source.migration
    settings = PlanSettings(
        environment=request.environment,
        universe_id=request.universe_id,
        now=request.now or datetime.now(UTC),
        kind=PlanKind.MIGRATION,
        expires_in=request.expires_in,
        select=request.select,
        context={
            "migration": migration.id,
            "migration_file": migration.file,
            "migration_digest": source.digest,
            # no counts or shard here: the context is the same in every shard plan, so that
            # `dsgit plan combine` joins them (the counts are DSP084's)
            **(context or {}),
        },
    )
    desired = DesiredState(builder.desired, builder.stores, declaration.source)
    plan = build_plan(desired, LiveState(entries=builder.live), settings)
    summary = dict(plan.summary)
    summary[Action.NOOP.value] += tally.unchanged
    plan = replace(plan, summary=summary, changes=_declared_conversions(plan, migration))
    return finish_plan(
        plan,
        kind=PlanKind.MIGRATION,
        change_diagnostics=builder.change_notes,
        plan_diagnostics=[*builder.plan_notes, *_summary(migration.id, tally)],
        reasons={Action.UPDATE: f"migration {migration.id}"},
    )
