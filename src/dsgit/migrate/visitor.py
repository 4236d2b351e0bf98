"""The migration as a scan visitor: what becomes of each entry the live scan reads.

The visitor runs the pure transform engine on each value and keeps only what the plan needs:
each entry to migrate (the live entry read and its new value) and each failed step are
emitted as records, which the scan streams to disk beside its checkpoint; the counts and the
first addresses of each kind are its snapshot. A scan killed part-way resumes with both, so
every entry is counted once (:mod:`dsgit.scan`).

Session locks are told by :func:`dsgit.model.sessions.session_lock`: a profile a game server
holds is counted and left out, unless the run allows it (``--allow DSP005=REASON``).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from dsgit.migrate.matching import matcher_for
from dsgit.migrate.model import Migration
from dsgit.migrate.transform import Failed, Matcher, Migrated, NotMatched, Unchanged, migrate_value
from dsgit.model.declaration import Declaration
from dsgit.model.entry import Address, JSONValue, LiveEntry
from dsgit.model.sessions import session_lock
from dsgit.plan.masking import PointerPatterns
from dsgit.plan.targets import AddressFilter
from dsgit.repo.value_schemas import ValueSchemas
from dsgit.scan import Emit, ScanEntry
from dsgit.undo.desired import undo_policy

__all__ = ["SAMPLES", "MigrationVisitor", "Tally", "live_from_record", "live_to_record"]

SAMPLES = 10  # addresses named in a counting diagnostic


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

    def counts(self) -> dict[str, str]:
        """The counts by name."""
        return {
            "read": str(self.read),
            "migrated": str(self.migrated),
            "already_migrated": str(self.unchanged),
            "not_matched": str(self.not_matched),
            "session_locked": str(self.locked),
            "failed": str(self.failed),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Tally:
        return cls(**{name: raw[name] for name in asdict(cls()) if name in raw})


def live_to_record(live: LiveEntry) -> dict[str, JSONValue]:
    return {
        "store": live.store,
        "scope": live.scope,
        "key": live.key,
        "value": live.value,
        "attributes": dict(live.attributes),
        "users": list(live.users),
        "etag": live.etag,
        "revision_id": live.revision_id,
        "revision_create_time": live.revision_create_time,
        "create_time": live.create_time,
    }


def live_from_record(raw: Mapping[str, Any]) -> LiveEntry:
    return LiveEntry(
        store=raw["store"],
        scope=raw["scope"],
        key=raw["key"],
        value=raw["value"],
        attributes=dict(raw["attributes"]),
        users=tuple(raw["users"]),
        etag=raw["etag"],
        revision_id=raw["revision_id"],
        revision_create_time=raw["revision_create_time"],
        create_time=raw["create_time"],
    )


def _keep(samples: list[str], item: str) -> None:
    """Keep the first :data:`SAMPLES` items in sorted order (entries arrive in no order: the
    same live state names the same entries)."""
    bisect.insort(samples, item)
    del samples[SAMPLES:]


def _masked(message: str) -> str:
    """A step's message without the values it may quote (a store with sensitive values): the
    pointer it starts with, if any."""
    head, colon, _rest = message.partition(": ")
    if colon and head.startswith(("/", "step ")):
        return f"{head}: (details hidden: the store has sensitive values)"
    return "(details hidden: the store has sensitive values)"


class MigrationVisitor:
    """Classifies each entry (see the module docstring); records are JSON:

    - ``{"kind": "migrated", "live": {...}, "value": NEW, "rerun": REASON | null}``
    - ``{"kind": "failed", "address": [store, scope, key], "step": N, "message": TEXT}``
    """

    def __init__(
        self,
        migration: Migration,
        declaration: Declaration,
        *,
        select: AddressFilter | None = None,
        allow_locked: bool = False,
    ) -> None:
        self.migration = migration
        self.declaration = declaration
        self.select = select or AddressFilter()
        self.allow_locked = allow_locked
        self.schemas = ValueSchemas.from_documents(declaration.schemas)
        self.matchers: dict[tuple[str, ...], Matcher | None] = {}
        self.tally = Tally()

    def hidden(self, address: Address) -> tuple[str, ...]:
        """The store's sensitive and encrypted pointers at ``address``."""
        policy = undo_policy(self.declaration, address)
        return tuple(sorted({*policy.sensitive, *policy.encrypted}))

    def matcher(self, address: Address) -> Matcher | None:
        """The match check, naming only the pointer where the value is sensitive."""
        hidden = self.hidden(address)
        if hidden not in self.matchers:
            patterns = PointerPatterns(hidden)
            self.matchers[hidden] = matcher_for(self.migration, self.schemas, patterns.touches)
        return self.matchers[hidden]

    def visit(self, entry: ScanEntry, emit: Emit) -> None:
        live = entry.live
        if not isinstance(live, LiveEntry):
            return  # ordered entries hold integers: nothing a migration transforms
        if not self.migration.selection.selects_key(live.key) or not self.select.selects(
            entry.address
        ):
            return
        tally = self.tally
        tally.read += 1
        address = str(entry.address)
        outcome = migrate_value(self.migration, live.value, self.matcher(entry.address))
        match outcome:
            case NotMatched(reason=reason):
                tally.not_matched += 1
                if reason.startswith("step ") and self.hidden(entry.address):
                    reason = _masked(reason)  # a JSON Patch test names the values it compared
                _keep(tally.not_matched_samples, f"{address} ({reason})")
            case Unchanged():
                tally.unchanged += 1
            case Failed(step=step, message=message):
                tally.failed += 1
                if self.hidden(entry.address):
                    message = _masked(message)
                where: JSONValue = [live.store, live.scope, live.key]
                emit({"kind": "failed", "address": where, "step": step, "message": message})
            case Migrated(value=value, rerun_problem=rerun):
                lock = session_lock(live.value)
                if lock is not None and not self.allow_locked:
                    tally.locked += 1
                    _keep(tally.locked_samples, f"{address} ({lock.describe()})")
                    return
                tally.migrated += 1
                if rerun is not None and self.hidden(entry.address):
                    rerun = rerun.split(" (", 1)[0]  # without the step's message (values)
                emit(
                    {
                        "kind": "migrated",
                        "live": live_to_record(live),
                        "value": value,
                        "rerun": rerun,
                    }
                )

    def snapshot(self) -> JSONValue:
        state: dict[str, Any] = asdict(self.tally)
        return state

    def restore(self, state: JSONValue) -> None:
        assert isinstance(state, dict)
        self.tally = Tally.from_json(state)
