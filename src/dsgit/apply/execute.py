"""Carry out one planned change with compare-and-swap, a pre-image and journal records.

For every change: read the entry, decide, and only then write::

    live already as planned         -> skipped (or written, when our earlier intent exists)
    live differs from precondition  -> conflict: nothing written to this entry
    otherwise                       -> save pre-image, journal intent, write, journal done

Writes are conditioned where Open Cloud allows it: updates carry the planned ``etag``, creates
use ``POST ?id=`` (fails if the entry exists). Deletes and ordered writes have no precondition
on the wire: the entry is read and compared just before, which leaves a window of one round trip
in which a game server's write could be lost (documented in docs/applying.md).

Resume (an intent from a killed run, no completion): the live entry tells whether the write
landed. Increments cannot be compared that way; the intent records the revision (or integer)
before, and a landed increment shows as exactly one new revision holding ``before + amount``.
Anything ambiguous is a conflict, never a second write.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, assert_never

from dsgit.apply.journal import Journal
from dsgit.apply.preimages import PreImage, PreImageStore
from dsgit.apply.result import ChangeResult
from dsgit.apply.stop_points import NEVER, StopPoint
from dsgit.errors import NotFoundError, PreconditionFailed, RemoteError, WriteOutcomeUnknown
from dsgit.ledger.records import ChangeOutcome, EntryState
from dsgit.model.entry import EntryData, LiveEntry, LiveOrderedEntry, StoreKind
from dsgit.plan.digest import entry_digest
from dsgit.plan.model import (
    Action,
    Change,
    CreateChange,
    DeleteChange,
    IncrementChange,
    NoopChange,
    Precondition,
    UpdateChange,
    increment_of,
)
from dsgit.remote.api import OpenCloudApi

__all__ = ["ChangeExecutor", "Step"]

_ABSENT = EntryState(exists=False)
_EXISTS_STATUSES = (400, 409, 412)


@dataclass(frozen=True)
class Step:
    """A change ready to run: ``data`` is what to write (secrets resolved, in memory only)."""

    change: Change
    data: EntryData | None
    after_digest: str | None
    encrypt_preimage: bool


def _now_text(clock: Callable[[], datetime]) -> str:
    return clock().astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _state(live: LiveEntry | None) -> EntryState:
    if live is None:
        return _ABSENT
    return EntryState(True, live.etag, live.revision_id, entry_digest(live.data))


def _ordered_state(live: LiveOrderedEntry | None) -> EntryState:
    if live is None:
        return _ABSENT
    return EntryState(True, None, None, entry_digest(EntryData(live.value)))


def _state_json(state: EntryState) -> dict[str, Any]:
    return state.to_json()


def _active(live: LiveEntry | None) -> LiveEntry | None:
    """A soft-deleted entry (``state`` DELETED) counts as absent."""
    return live if live is not None and live.state != "DELETED" else None


def _matches(live: LiveEntry, pre: Precondition) -> bool:
    if pre.etag is not None:
        return live.etag == pre.etag
    if pre.value_digest is not None:
        return entry_digest(live.data) == pre.value_digest
    return True


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
    ) -> None:
        self.api = api
        self.plan_created = _parse_time(plan_created)
        self.journal = journal
        self.preimages = preimages
        self.clock = clock
        self.stop = stop

    def run(self, step: Step, intent: Mapping[str, Any] | None) -> ChangeResult:
        """Carry out one step; ``intent`` is an earlier run's intent for it (resume)."""
        change = step.change
        if change.address.kind is StoreKind.ORDERED:
            return self._ordered(step, intent)
        match change:
            case IncrementChange():
                return self._increment(step, change, intent)
            case CreateChange() | UpdateChange() | DeleteChange():
                return self._standard(step, intent)
            case NoopChange():
                raise ValueError(f"{change.address}: a no-op is never executed")
            case _:
                assert_never(change)

    # --- journal helpers -----------------------------------------------------------------------

    def _intent(self, step: Step, **extra: Any) -> None:
        record = {"t": "intent", "a": str(step.change.address), "time": _now_text(self.clock)}
        record.update(extra)
        self.journal.write(record)

    def _done(
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
                "before": _state_json(before),
                "after": _state_json(after),
                "message": message,
                "time": _now_text(self.clock),
            }
        )
        planned = step.data.users if step.data is not None else ()
        users = tuple(sorted({*planned, *live_users}))
        return ChangeResult(
            step.change.address, step.change.action, outcome, message, before, after, users
        )

    def _conflict(self, step: Step, before: EntryState, message: str) -> ChangeResult:
        return self._done(step, ChangeOutcome.CONFLICT, before, before, message)

    def refuse(self, step: Step, message: str) -> ChangeResult:
        """Record a change as a conflict without touching the entry."""
        return self._conflict(step, EntryState(True), message)

    def _record_intent(
        self,
        step: Step,
        exists: bool,
        data: EntryData | None,
        state: EntryState,
        **extra: Any,
    ) -> None:
        """Journal the intent with the pre-image (durable), then write the pre-image file."""
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
        self._intent(step, before=_state_json(state), preimage=body, **extra)
        self.preimages.write(body)
        self.stop.reached("after-intent", str(change.address))

    def _already_planned(
        self,
        step: Step,
        intent: Mapping[str, Any] | None,
        earlier: EntryState,
        before: EntryState,
    ) -> ChangeResult:
        """The entry holds the planned state: our interrupted write landed, or none was needed."""
        if intent is not None:
            return self._done(step, ChangeOutcome.WRITTEN, earlier, before, "resumed")
        return self._done(step, ChangeOutcome.SKIPPED, before, before, "already as planned")

    def _appeared_or_vanished(
        self, step: Step, before: EntryState, exists: bool
    ) -> ChangeResult | None:
        """A conflict when the entry was created or deleted by someone else since the plan."""
        expected = step.change.precondition.exists
        if exists and not expected:
            return self._conflict(step, before, "created by someone else since the plan")
        if expected and not exists:
            return self._conflict(step, before, "deleted since the plan")
        return None

    # --- standard entries ----------------------------------------------------------------------

    def _standard(self, step: Step, intent: Mapping[str, Any] | None) -> ChangeResult:
        change = step.change
        address, action, pre = change.address, change.action, change.precondition
        live = _active(self.api.get_entry(address.store, address.key, address.scope))
        before = _state(live)
        reached = (
            (live is None)
            if action is Action.DELETE
            else (live is not None and entry_digest(live.data) == step.after_digest)
        )
        if reached:
            earlier = before
            if intent is not None and "before" in intent:
                earlier = EntryState.from_json(intent["before"])
            return self._already_planned(step, intent, earlier, before)
        moved = self._appeared_or_vanished(step, before, live is not None)
        if moved is not None:
            return moved
        if live is not None and pre.exists and not _matches(live, pre):
            return self._conflict(
                step, before, f"changed since the plan (etag {live.etag}, planned {pre.etag})"
            )
        if live is None:
            # "Absent" is what the plan saw, but a game server may have created and deleted the
            # entry since (or our own interrupted create landed and was deleted): a tombstone
            # shows as a revision newer than the plan, and then nothing is written.
            newer = self._revisions_since_plan(step)
            if newer:
                return self._conflict(
                    step,
                    before,
                    f"absent, but it has {newer} revision(s) newer than the plan (written and "
                    "deleted since); not created. Check `dsgit history`, then plan again",
                )
        self._record_intent(step, live is not None, live.data if live else None, before)
        store, key, scope = address.store, address.key, address.scope
        if action is Action.CREATE or (action is Action.UPDATE and live is None):
            assert step.data is not None
            try:
                written = self.api.create_entry(store, key, step.data, scope)
            except RemoteError as exc:
                if exc.status not in _EXISTS_STATUSES:
                    raise
                now = _active(self.api.get_entry(store, key, scope))
                if now is None:
                    raise
                return self._conflict(step, _state(now), "created by someone else meanwhile")
            return self._done(step, ChangeOutcome.WRITTEN, before, _after(written, step))
        users = tuple(live.users) if live is not None else ()
        if action is Action.UPDATE:
            assert step.data is not None and live is not None
            try:
                written = self.api.update_entry(store, key, step.data, scope, etag=live.etag)
            except PreconditionFailed:
                return self._conflict(step, before, "changed by someone else meanwhile")
            return self._done(
                step, ChangeOutcome.WRITTEN, before, _after(written, step), live_users=users
            )
        if action is Action.DELETE:
            with contextlib.suppress(NotFoundError):  # gone already: the planned state
                self.api.delete_entry(store, key, scope)
            return self._done(step, ChangeOutcome.WRITTEN, before, _ABSENT, live_users=users)
        raise ValueError(f"{address}: cannot apply action {action}")

    def _revisions_since_plan(self, step: Step) -> int:
        """How many revisions of the entry were written at or after the plan was made."""
        start = self.plan_created
        if start is None:
            return 0
        address = step.change.address
        try:
            revisions = list(
                self.api.list_revisions(address.store, address.key, address.scope, start=start)
            )
        except NotFoundError:
            return 0  # the key never existed
        return sum(
            1
            for revision in revisions
            if (_parse_time(revision.revision_create_time) or start) >= start
        )

    def _increment(
        self, step: Step, change: IncrementChange, intent: Mapping[str, Any] | None
    ) -> ChangeResult:
        address, amount = change.address, change.amount
        store, key, scope = address.store, address.key, address.scope
        live = _active(self.api.get_entry(store, key, scope))
        before = _state(live)
        if intent is not None and _revision(live) != intent.get("revision"):
            earlier = EntryState.from_json(intent["before"])
            if self._increment_landed(step, intent, live):
                return self._done(step, ChangeOutcome.WRITTEN, earlier, before, "resumed")
            return self._conflict(
                step,
                before,
                "the entry changed after an interrupted increment and it cannot be told whether "
                "the increment landed; check `dsgit history` before planning again",
            )
        if live is None:
            # Open Cloud's increment would create the entry holding just the amount.
            return self._conflict(step, before, "deleted since the plan; not incremented")
        if isinstance(live.value, bool) or not isinstance(live.value, int):
            return self._conflict(step, before, "is no longer an integer")
        self._record_intent(
            step,
            live is not None,
            live.data if live else None,
            before,
            revision=_revision(live),
            revision_time=live.revision_create_time if live else None,
            value=live.value if live else 0,
        )
        try:
            written = self.api.increment_entry(store, key, amount, scope)
        except WriteOutcomeUnknown:
            now = _active(self.api.get_entry(store, key, scope))
            record = {
                "revision": _revision(live),
                "revision_time": live.revision_create_time if live else None,
                "value": live.value if live else 0,
            }
            if _revision(now) != _revision(live) and self._increment_landed(step, record, now):
                return self._done(step, ChangeOutcome.WRITTEN, before, _state(now))
            raise
        return self._done(step, ChangeOutcome.WRITTEN, before, _state(written))

    def _increment_landed(
        self, step: Step, intent: Mapping[str, Any], live: LiveEntry | None
    ) -> bool:
        """True when exactly one revision followed the recorded one and holds before + amount."""
        amount = increment_of(step.change) or 0
        if live is None or live.value != intent.get("value", 0) + amount:
            return False
        if intent.get("revision") is None:
            return True  # created by the increment: the value is the proof we have
        address = step.change.address
        start = _parse_time(intent.get("revision_time"))
        if start is None:
            return False  # no time to count revisions from: cannot tell, so never write again
        newer = [
            revision
            for revision in self.api.list_revisions(
                address.store, address.key, address.scope, start=start
            )
            if revision.revision_id != intent["revision"]
            and (_parse_time(revision.revision_create_time) or start) >= start
        ]
        return len(newer) == 1

    # --- ordered entries -----------------------------------------------------------------------

    def _ordered(self, step: Step, intent: Mapping[str, Any] | None) -> ChangeResult:
        change = step.change
        address, action, pre = change.address, change.action, change.precondition
        store, key, scope = address.store, address.key, address.scope
        live = self.api.get_ordered(store, key, scope)
        before = _ordered_state(live)
        live_value = live.value if live is not None else None
        if action is Action.INCREMENT:
            amount = increment_of(change) or 0
            if intent is not None and live_value != intent.get("value"):
                earlier = EntryState.from_json(intent["before"])
                if live_value == (intent.get("value") or 0) + amount:
                    return self._done(step, ChangeOutcome.WRITTEN, earlier, before, "resumed")
                return self._conflict(
                    step, before, "changed after an interrupted increment; not incremented again"
                )
            if live is None:
                return self._conflict(step, before, "deleted since the plan; not incremented")
            self._record_intent(
                step, live is not None, _ordered_data(live), before, value=live_value or 0
            )
            try:
                written = self.api.increment_ordered(store, key, amount, scope)
            except WriteOutcomeUnknown:
                now = self.api.get_ordered(store, key, scope)
                if now is not None and now.value == (live_value or 0) + amount:
                    return self._done(step, ChangeOutcome.WRITTEN, before, _ordered_state(now))
                raise
            return self._done(step, ChangeOutcome.WRITTEN, before, _ordered_state(written))
        target = step.data.value if step.data is not None else None
        reached = (
            (live is None)
            if action is Action.DELETE
            else (live is not None and live_value == target)
        )
        if reached:
            return self._already_planned(step, intent, before, before)
        if intent is not None:
            # Ordered entries keep no revisions: an interrupted write that landed and was then
            # undone by a game server cannot be told from one that never landed.
            return self._conflict(
                step,
                before,
                "an interrupted write may have landed and been undone since (ordered entries "
                "keep no revisions to tell); not written again. Plan again",
            )
        moved = self._appeared_or_vanished(step, before, live is not None)
        if moved is not None:
            return moved
        if live is not None and pre.ordered_value is not None and live_value != pre.ordered_value:
            return self._conflict(
                step,
                before,
                f"changed since the plan (now {live_value}, planned {pre.ordered_value})",
            )
        self._record_intent(step, live is not None, _ordered_data(live), before)
        if action is Action.CREATE:
            assert isinstance(target, int)
            try:
                created = self.api.create_ordered(store, key, target, scope)
            except RemoteError as exc:
                if exc.status not in _EXISTS_STATUSES:
                    raise
                return self._conflict(step, before, "created by someone else meanwhile")
            return self._done(step, ChangeOutcome.WRITTEN, before, _ordered_state(created))
        if action is Action.UPDATE:
            assert isinstance(target, int)
            updated = self.api.update_ordered(store, key, target, scope)
            return self._done(step, ChangeOutcome.WRITTEN, before, _ordered_state(updated))
        if action is Action.DELETE:
            with contextlib.suppress(NotFoundError):
                self.api.delete_ordered(store, key, scope)
            return self._done(step, ChangeOutcome.WRITTEN, before, _ABSENT)
        raise ValueError(f"{address}: cannot apply action {action}")


def _ordered_data(live: LiveOrderedEntry | None) -> EntryData | None:
    return EntryData(live.value) if live is not None else None


def _revision(live: LiveEntry | None) -> str | None:
    return live.revision_id if live is not None else None


def _after(written: LiveEntry, step: Step) -> EntryState:
    return EntryState(True, written.etag, written.revision_id, step.after_digest)


def _parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    # Revision times carry up to 7 fractional digits; Python reads 6, so allow a rounding tick.
    return moment - timedelta(microseconds=1) if moment.tzinfo else None
