"""``dsgit migrate plan ID``: the selected live entries, through the transform engine, into an
ordinary plan (``kind: migration``) that show, approve, apply and revert handle as any other.

Per entry read (streamed; only what the plan holds is kept):

- the value does not match (``select.match``, or a JSON Patch ``test``) -> counted and
  reported (DSP084, the first few with the reason), left alone;
- the steps give an equal value (already migrated) -> counted as no-op: a finished migration
  plans nothing;
- a step cannot be carried out -> DSP081 (error) naming the entry and the step's line;
- migrated, but a game server holds the profile (``MetaData.ActiveSession``) -> left out and
  reported (DSP083, a warning); a later run retries it. With ``--allow DSP005=REASON`` it is
  planned like any other, and its DSP005 is let through with that reason;
- migrated -> an update whose precondition is the revision read (apply writes it with
  compare-and-swap, so a game server's save in between is a conflict, never overwritten), with
  DSP080 (error) when the new value fails the store's schema and DSP082 (error) when running
  the migration again would change it once more.

The store's policy applies as undo plans apply it (:mod:`dsgit.undo.desired`): the entry is
written whoever owns the store (migrations exist for player data), values under ``sensitive``
or ``encrypted`` pointers travel sealed in the plan and are masked in every diff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from dsgit.crypto import Keyring
from dsgit.migrate.files import MigrationFile
from dsgit.migrate.matching import matcher_for
from dsgit.migrate.reading import EntryScan
from dsgit.migrate.transform import Failed, Matcher, Migrated, NotMatched, Unchanged, migrate_value
from dsgit.model.declaration import Declaration, StorePolicy
from dsgit.model.entry import Address, EntryData, JSONValue, LiveEntry, StoreKind
from dsgit.plan.build import DEFAULT_EXPIRY, PlanSettings, build_plan
from dsgit.plan.codes import diagnostic
from dsgit.plan.compare import SchemaCheck, active_session
from dsgit.plan.desired import DesiredEntry, DesiredState, Removal, StoreSpec
from dsgit.plan.live import LiveState, LiveValue
from dsgit.plan.masking import PointerPatterns
from dsgit.plan.model import Action, Diagnostic, Plan
from dsgit.plan.targets import AddressFilter
from dsgit.plan.usecase import schema_check_for
from dsgit.repo.value_schemas import ValueSchemas
from dsgit.undo.desired import desired_entry, store_spec, undo_policy
from dsgit.undo.finish import finish_plan

__all__ = ["SAMPLES", "MigrationRequest", "Tally", "plan_migration"]

SAMPLES = 10  # addresses named in a counting diagnostic

# Whether a game server holds the entry (a ProfileService / ProfileStore session lock).
SessionLock = Callable[[LiveEntry], bool]


def _profile_locked(live: LiveEntry) -> bool:
    return active_session(live.value)


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


@dataclass
class Tally:
    """What became of the entries read (counts, and the first addresses of each kind)."""

    read: int = 0
    migrated: int = 0
    unchanged: int = 0
    not_matched: int = 0
    locked: int = 0
    failed: int = 0
    not_matched_samples: list[str] = field(default_factory=list)
    locked_samples: list[str] = field(default_factory=list)

    def context(self) -> dict[str, str]:
        return {
            "read": str(self.read),
            "migrated": str(self.migrated),
            "already_migrated": str(self.unchanged),
            "not_matched": str(self.not_matched),
            "session_locked": str(self.locked),
            "failed": str(self.failed),
        }


class _Planner:
    def __init__(
        self,
        source: MigrationFile,
        declaration: Declaration,
        request: MigrationRequest,
        keyring: Keyring | None,
        locked: SessionLock,
    ) -> None:
        self.migration = source.migration
        self.declaration = declaration
        self.request = request
        self.keyring = keyring
        self.locked = locked
        self.schemas = ValueSchemas.from_documents(declaration.schemas)
        self.schema_check: SchemaCheck = schema_check_for(declaration)
        self.select = AddressFilter(request.targets, request.excludes)
        self.tally = Tally()
        self.desired: dict[Address, DesiredEntry | Removal | None] = {}
        self.live: dict[Address, LiveValue | None] = {}
        self.stores: dict[tuple[StoreKind, str], StoreSpec] = {}
        self.matchers: dict[str, Matcher | None] = {}
        self.change_notes: dict[Address, list[Diagnostic]] = {}
        self.plan_notes: list[Diagnostic] = []

    def matcher(self, store: str, policy: StorePolicy) -> Matcher | None:
        if store not in self.matchers:
            hidden = PointerPatterns((*policy.sensitive, *policy.encrypted))
            self.matchers[store] = matcher_for(self.migration, self.schemas, hidden.touches)
        return self.matchers[store]

    def entry(self, live: LiveEntry) -> None:
        address = live.address
        if not self.select.selects(address):
            return
        self.tally.read += 1
        if (StoreKind.STANDARD, live.store) not in self.stores:
            self.stores[(StoreKind.STANDARD, live.store)] = store_spec(
                self.declaration, StoreKind.STANDARD, live.store
            )
        policy = undo_policy(self.declaration, address)
        outcome = migrate_value(self.migration, live.value, self.matcher(live.store, policy))
        match outcome:
            case NotMatched(reason=reason):
                self.tally.not_matched += 1
                if len(self.tally.not_matched_samples) < SAMPLES:
                    self.tally.not_matched_samples.append(f"{address} ({reason})")
            case Unchanged():
                self.tally.unchanged += 1
            case Failed(step=step, message=message):
                self.tally.failed += 1
                self.plan_notes.append(
                    diagnostic(
                        "DSP081",
                        f"{address}: step {step} of migration {self.migration.id} cannot be "
                        f"carried out: {message}",
                        address=str(address),
                        file=self.migration.file,
                        line=self.migration.lines.get(step),
                    )
                )
            case Migrated(value=value, rerun_problem=rerun):
                self.migrated(live, policy, value, rerun)

    def migrated(
        self, live: LiveEntry, policy: StorePolicy, value: JSONValue, rerun: str | None
    ) -> None:
        address = live.address
        if self.locked(live) and not self.request.allow_locked:
            self.tally.locked += 1
            if len(self.tally.locked_samples) < SAMPLES:
                self.tally.locked_samples.append(str(address))
            return
        self.tally.migrated += 1
        data = EntryData(value, live.attributes, live.users)
        self.desired[address] = desired_entry(address, data, policy, self.keyring)
        self.live[address] = live
        notes = self.change_notes.setdefault(address, [])
        if rerun is not None:
            notes.append(
                diagnostic(
                    "DSP082",
                    f"{address}: migration {self.migration.id} is not idempotent here: {rerun}",
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
                        "DSP080",
                        f"{address}: the migrated value fails the store's schema "
                        f"{policy.schema} at {pointers}",
                        address=str(address),
                    )
                )

    def summary_notes(self) -> list[Diagnostic]:
        tally, name = self.tally, self.migration.id
        notes = [
            diagnostic(
                "DSP085",
                f"migration {name}: {tally.read} entries read: {tally.migrated} to migrate, "
                f"{tally.unchanged} already migrated, {tally.not_matched} not matching, "
                f"{tally.locked} held by a session lock, {tally.failed} failed",
                count=tally.read,
            )
        ]
        if tally.not_matched:
            notes.append(
                diagnostic(
                    "DSP084",
                    f"migration {name}: {tally.not_matched} selected entries do not match and "
                    f"are left alone: {_listing(tally.not_matched_samples, tally.not_matched)}",
                    count=tally.not_matched,
                )
            )
        if tally.locked:
            notes.append(
                diagnostic(
                    "DSP083",
                    f"migration {name}: {tally.locked} entries are held by a game server "
                    "(MetaData.ActiveSession) and are not written; run the migration again "
                    f"later to migrate them: {_listing(tally.locked_samples, tally.locked)}",
                    count=tally.locked,
                )
            )
        return notes


def _listing(samples: list[str], total: int) -> str:
    more = total - len(samples)
    return ", ".join(samples) + (f" and {more} more" if more > 0 else "")


def plan_migration(
    source: MigrationFile,
    scan: EntryScan,
    declaration: Declaration,
    request: MigrationRequest,
    *,
    keyring: Keyring | None = None,
    locked: SessionLock = _profile_locked,
) -> tuple[Plan, Tally]:
    """The migration plan of the entries ``scan`` yields, and what became of each."""
    now = request.now or datetime.now(UTC)
    planner = _Planner(source, declaration, request, keyring, locked)
    for live in scan.entries():
        planner.entry(live)
    migration = source.migration
    context = {
        "migration": migration.id,
        "migration_file": migration.file,
        "migration_digest": source.digest,
        **planner.tally.context(),
    }
    settings = PlanSettings(
        environment=request.environment,
        universe_id=request.universe_id,
        now=now,
        kind="migration",
        expires_in=request.expires_in,
        select=planner.select,
        context=context,
    )
    state = LiveState(entries=planner.live, diagnostics=scan.diagnostics)
    plan = build_plan(
        DesiredState(planner.desired, planner.stores, declaration.source), state, settings
    )
    summary = dict(plan.summary)
    summary[Action.NOOP.value] += planner.tally.unchanged
    plan = replace(plan, summary=summary)
    plan = finish_plan(
        plan,
        kind="migration",
        change_diagnostics=planner.change_notes,
        plan_diagnostics=[*planner.plan_notes, *planner.summary_notes()],
        reasons={Action.UPDATE: f"migration {migration.id}"},
    )
    return plan, planner.tally
