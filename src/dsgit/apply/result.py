"""What an apply did: per change an outcome, overall a status and the exit code it maps to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from dsgit.apply.outcome import Outcome, exit_code
from dsgit.ledger.records import ChangeOutcome, EntryState
from dsgit.model.entry import Address
from dsgit.plan.model import Action

__all__ = ["ApplyResult", "ApplyStatus", "ChangeResult"]


class ApplyStatus(StrEnum):
    """How a run ended."""

    COMPLETE = "complete"  # every change written or already as planned
    CONFLICT = "conflict"  # everything else done; some entries changed since the plan
    PARTIAL = "partial"  # a fault stopped it; run again to resume
    INTERRUPTED = "interrupted"  # Ctrl-C / SIGTERM; the journal is consistent, resumable

    @property
    def outcome(self) -> Outcome:
        return {
            ApplyStatus.COMPLETE: Outcome.APPLIED,
            ApplyStatus.CONFLICT: Outcome.CONFLICT,
            ApplyStatus.PARTIAL: Outcome.PARTIAL,
            ApplyStatus.INTERRUPTED: Outcome.INTERRUPTED,
        }[self]

    @property
    def exit_code(self) -> int:
        return exit_code(self.outcome)


@dataclass(frozen=True)
class ChangeResult:
    """One change as carried out; ``outcome`` None means not done yet (resume to finish)."""

    address: Address
    action: Action
    outcome: ChangeOutcome | None
    message: str
    before: EntryState
    after: EntryState
    users: tuple[int, ...] = ()  # user ids on the entry before or after (hashed in the ledger)

    @property
    def pending(self) -> bool:
        return self.outcome is None


@dataclass(frozen=True)
class ApplyResult:
    """The outcome of one ``dsgit apply`` run over a plan."""

    apply_id: str
    plan_digest: str
    environment: str
    status: ApplyStatus
    changes: tuple[ChangeResult, ...]
    failure: str | None = None  # what stopped a partial run
    snapshot_time: str | None = None
    resumed: bool = False  # an earlier run of this plan had started
    already_complete: bool = False  # nothing left to do: an earlier run finished it
    broke_lock: str | None = None  # description of the expired lease that was broken
    lock_failure: str | None = None  # the lease could not be released: what to do
    # A segmented apply keeps only its conflicts and pending changes in ``changes`` (memory
    # stays flat in the number of changes) and counts every outcome here.
    totals: Mapping[str, int] | None = None

    @property
    def exit_code(self) -> int:
        """The status's code; 1 when a finished apply could not release its lease (the next
        apply would be refused until it expires). A partial or interrupted run keeps its own
        code: running it again takes its own lease back and releases it."""
        if self.lock_failure is not None and self.status in (
            ApplyStatus.COMPLETE,
            ApplyStatus.CONFLICT,
        ):
            return exit_code(Outcome.ERROR)
        return self.status.exit_code

    def with_outcome(self, outcome: ChangeOutcome | None) -> tuple[ChangeResult, ...]:
        return tuple(change for change in self.changes if change.outcome == outcome)

    def count(self, outcome: ChangeOutcome | None) -> int:
        """How many changes ended with ``outcome`` (None: pending)."""
        if self.totals is not None:
            return self.totals.get(str(outcome) if outcome is not None else "pending", 0)
        return len(self.with_outcome(outcome))

    @property
    def conflicts(self) -> tuple[ChangeResult, ...]:
        return self.with_outcome(ChangeOutcome.CONFLICT)

    @property
    def written(self) -> tuple[ChangeResult, ...]:
        return self.with_outcome(ChangeOutcome.WRITTEN)

    @property
    def skipped(self) -> tuple[ChangeResult, ...]:
        return self.with_outcome(ChangeOutcome.SKIPPED)

    @property
    def pending(self) -> tuple[ChangeResult, ...]:
        return self.with_outcome(None)
