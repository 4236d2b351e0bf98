"""Carry out one planned change with compare-and-swap, a pre-image and journal records.

The executor holds what every kind shares (the port, the journal, pre-images, the clock, the
stop points) and dispatches each change to its kind's ``execute`` (:mod:`dsgit.kinds`); the
kind decides how to read, compare and write.

Every kind follows the same discipline: read the live resource, decide, and only then write;
journal the intent with a pre-image before the write and the outcome after it; on resume, tell
from the live state whether an interrupted write landed, and call anything ambiguous a
conflict, never a second write. The kinds' docstrings say how each one keeps it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from dsgit.apply.journal import Journal
from dsgit.apply.preimages import PreImage, PreImageStore
from dsgit.apply.result import ChangeResult
from dsgit.apply.step import Step, now_text, parse_time, state_json
from dsgit.apply.stop_points import NEVER, StopPoint
from dsgit.kinds import kind_of
from dsgit.ledger.records import ChangeOutcome, EntryState
from dsgit.model.entry import EntryData
from dsgit.plan.model import increment_of
from dsgit.remote.api import OpenCloudApi

__all__ = ["ChangeExecutor", "Step"]


class ChangeExecutor:
    """Runs steps against one universe; thread-safe (one call per change at a time)."""

    def __init__(
        self,
        api: OpenCloudApi,
        journal: Journal,
        preimages: PreImageStore,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        stop: StopPoint = NEVER,
        plan_created: str | None = None,
        message: str = "",
    ) -> None:
        self.api = api
        self.plan_created = parse_time(plan_created)
        self.journal = journal
        self.preimages = preimages
        self.clock = clock
        self.stop = stop
        self.message = message  # what the plan's writes are (a configs publish's message)

    def run(self, step: Step, intent: Mapping[str, Any] | None) -> ChangeResult:
        """Carry out one step; ``intent`` is an earlier run's intent for it (resume)."""
        if step.change.is_noop:
            raise ValueError(f"{step.change.address}: a no-op is never executed")
        return kind_of(step.change.address.kind).execute(self, step, intent)

    # --- journal helpers -----------------------------------------------------------------------

    def intent(self, step: Step, **extra: Any) -> None:
        record = {"t": "intent", "a": str(step.change.address), "time": now_text(self.clock)}
        record.update(extra)
        self.journal.write(record)

    def done(
        self,
        step: Step,
        outcome: ChangeOutcome,
        before: EntryState,
        after: EntryState,
        message: str = "",
        live_users: tuple[int, ...] = (),
    ) -> ChangeResult:
        self.stop.reached("after-write", str(step.change.address))
        self.journal.write(
            {
                "t": "done",
                "a": str(step.change.address),
                "outcome": str(outcome),
                "before": state_json(before),
                "after": state_json(after),
                "message": message,
                "time": now_text(self.clock),
            }
        )
        planned = step.data.users if step.data is not None else ()
        users = tuple(sorted({*planned, *live_users}))
        return ChangeResult(
            step.change.address, step.change.action, outcome, message, before, after, users
        )

    def conflict(self, step: Step, before: EntryState, message: str) -> ChangeResult:
        return self.done(step, ChangeOutcome.CONFLICT, before, before, message)

    def refuse(self, step: Step, message: str) -> ChangeResult:
        """Record a change as a conflict without touching the entry."""
        return self.conflict(step, EntryState(True), message)

    def record_intent(
        self,
        step: Step,
        exists: bool,
        data: EntryData | None,
        state: EntryState,
        **extra: Any,
    ) -> dict[str, Any]:
        """Journal the intent with the pre-image (durable), then write the pre-image file;
        returns the encoded pre-image (a kind journaling a later step repeats it)."""
        change = step.change
        body = self.preimages.encode(
            PreImage(
                address=change.address,
                exists=exists,
                data=data,
                etag=state.etag,
                revision_id=state.revision_id,
                value_digest=state.value_digest,
                action=str(change.action),
                increment=increment_of(change),
            ),
            encrypt=step.encrypt_preimage,
        )
        self.intent(step, before=state_json(state), preimage=body, **extra)
        self.preimages.write(body)
        self.stop.reached("after-intent", str(change.address))
        return body

    def already_planned(
        self,
        step: Step,
        intent: Mapping[str, Any] | None,
        earlier: EntryState,
        before: EntryState,
    ) -> ChangeResult:
        """The entry holds the planned state: our interrupted write landed, or none was needed."""
        if intent is not None:
            return self.done(step, ChangeOutcome.WRITTEN, earlier, before, "resumed")
        return self.done(step, ChangeOutcome.SKIPPED, before, before, "already as planned")

    def appeared_or_vanished(
        self, step: Step, before: EntryState, exists: bool
    ) -> ChangeResult | None:
        """A conflict when the entry was created or deleted by someone else since the plan."""
        expected = step.change.precondition.exists
        if exists and not expected:
            return self.conflict(step, before, "created by someone else since the plan")
        if expected and not exists:
            return self.conflict(step, before, "deleted since the plan")
        return None
