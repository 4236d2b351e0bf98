"""Applying a segmented plan, one segment at a time (docs/applying.md, "Segmented plans").

The same apply as :mod:`dsgit.apply.run` — checks, lock, snapshot, per-change compare-and-swap,
journal, pre-images, ledger — with memory flat in the number of changes:

1. **Before anything is written**: every segment file is hashed against the digest its
   manifest names (``StalePlan``, exit 4, on the first that differs); the checks, approvals
   and policy run on the manifest's review plan (addresses, actions and diagnostics only, under
   the manifest digest); and every segment is read once to resolve its values (sensitive
   placeholders, keys) and prove them bound to the declaration.
2. The lease: the environment lock, or with ``shard`` its shared form
   (:class:`~dsgit.apply.shard_lease.ShardLease`) that N shard jobs of one plan hold together.
3. Per segment, in order (every write before every delete, so a rename's create lands before
   its delete): read it again (its digest checked again), keep this shard's changes, run them
   with :class:`~dsgit.apply.execute.ChangeExecutor` under the segment's own journal
   (``<plan journal>.seg-NNNNN.jsonl``), append their ledger ``change`` records, and close the
   segment's journal with ``end``. Only that segment's changes and results are in memory.
4. The atomic end as in a single apply: the ``apply`` record (with the counts of every
   segment), the run journal's ``end``, the lease released.

A killed run resumes from the journals: a segment whose journal has its ``end`` is not read
again; in the others, finished changes are skipped and an intent without completion is settled
from the live entry, so nothing is written twice. Each shard job has its own journals and apply
id (``…-s2of4``), so N jobs on one machine or many never share a file.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dsgit.apply.approval_records import approval_bodies
from dsgit.apply.audit import (
    ERASURE_RECORDED,
    append_apply_records,
    append_change_records,
    erasure_salt,
)
from dsgit.apply.binding import check_bound_to_declaration
from dsgit.apply.checks import CheckInput, check_plan
from dsgit.apply.execute import ChangeExecutor, Step
from dsgit.apply.journal import Journal, JournalState, journal_path
from dsgit.apply.lock import EnvironmentLock, LockNotReleased
from dsgit.apply.preimages import PreImageStore
from dsgit.apply.result import ApplyResult, ApplyStatus, ChangeResult
from dsgit.apply.run import (
    ApplyDeps,
    ApplyOptions,
    new_apply_id,
    prepare_steps,
    purge_after_erasure,
    result_from_journal,
)
from dsgit.apply.schedule import drop_orphaned_renames, execute_steps
from dsgit.apply.shard_lease import ShardLease
from dsgit.errors import DsgitError
from dsgit.ledger.file import Ledger
from dsgit.ledger.records import ChangeOutcome, EntryState
from dsgit.model.entry import Address
from dsgit.model.shard import Shard
from dsgit.plan.model import Action, Change, Plan, written_data
from dsgit.planfile.read import SegmentedPlan
from dsgit.policy.verdict import Verdict

__all__ = ["apply_segmented", "shard_journal_path"]


def shard_journal_path(root: Path, plan_digest: str, shard: Shard | None) -> Path:
    """The run journal of a segmented apply (of one shard, with ``shard``)."""
    path = journal_path(root, plan_digest)
    if shard is None:
        return path
    return path.with_name(f"{path.stem}.shard-{shard.slug}.jsonl")


def _segment_journal(run_journal: Path, index: int) -> Path:
    return run_journal.with_name(f"{run_journal.stem}.seg-{index + 1:05d}.jsonl")


def _mine(changes: Iterable[Change], shard: Shard | None) -> tuple[Change, ...]:
    if shard is None:
        return tuple(changes)
    return tuple(change for change in changes if shard.holds(change.address))


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class _Tally:
    """What the segments did so far: counts, and the few results worth keeping."""

    counts: dict[str, int] = field(
        default_factory=lambda: {"written": 0, "skipped": 0, "conflict": 0, "pending": 0}
    )
    kept: list[ChangeResult] = field(default_factory=list)  # conflicts and pending only
    renames: dict[str, Step] = field(default_factory=dict)  # rename creates, by address
    rename_results: dict[str, ChangeResult] = field(default_factory=dict)

    def add(self, result: ChangeResult) -> None:
        key = str(result.outcome) if result.outcome is not None else "pending"
        self.counts[key] += 1
        if result.outcome in (None, ChangeOutcome.CONFLICT):
            self.kept.append(result)
        address = str(result.address)
        if address in self.renames:
            self.rename_results[address] = result

    def add_done(self, record: dict[str, Any], action: Action) -> None:
        """A change a finished segment's journal holds (the segment is not run again)."""
        outcome = ChangeOutcome(record["outcome"])
        self.counts[str(outcome)] += 1
        if outcome is ChangeOutcome.CONFLICT:
            self.kept.append(
                ChangeResult(
                    Address.parse(record["a"]),
                    action,
                    outcome,
                    str(record.get("message") or ""),
                    EntryState.from_json(record["before"]),
                    EntryState.from_json(record["after"]),
                )
            )


def apply_segmented(
    plan: SegmentedPlan,
    deps: ApplyDeps,
    options: ApplyOptions | None = None,
    *,
    requested_env: str | None = None,
    shard: Shard | None = None,
) -> ApplyResult:
    """Apply a segmented plan (or, with ``shard``, the changes of that shard) to ``deps.env``."""
    options = options or ApplyOptions()
    try:
        cited, verdict, total = _preflight(plan, deps, options, requested_env, shard)
    except DsgitError:
        with contextlib.suppress(DsgitError):  # the refusal is what the user must see
            _record_dead_run(plan, deps, shard)
        raise
    path = shard_journal_path(deps.root, plan.digest, shard)
    with Journal(path, plan.digest, on_line=deps.stop.journal_line) as journal:
        return _Run(plan, deps, options, journal, shard, cited, verdict, total).run()


def _preflight(
    plan: SegmentedPlan,
    deps: ApplyDeps,
    options: ApplyOptions,
    requested_env: str | None,
    shard: Shard | None,
) -> tuple[Plan, Verdict, int]:
    """Everything checked before anything is written: the plan to cite in the ledger, the
    approvals' verdict and the number of changes to write."""
    header = plan.header
    plan.verify()  # every segment's bytes, before anything else
    review = plan.review()
    verdict = deps.approvals(review, deps.env)
    source = deps.declaration.source if deps.declaration is not None else None
    check_plan(
        CheckInput(
            review,
            source,
            deps.env,
            verdict,
            deps.clock(),
            requested_env=requested_env,
            allow_dirty=options.allow_dirty,
            declaration=deps.declaration,
        )
    )
    total = 0
    for index in range(len(plan.manifest.segments)):
        part = replace(header, changes=_mine(plan.segment(index), shard))
        total += len(prepare_steps(part, deps.declaration, deps.keyring))
        check_bound_to_declaration(part, deps.declaration)
    Ledger.of_universe(deps.root, header.environment, deps.api, deps.signer).check_appendable()
    # The apply record cites the suppressions of every diagnostic; nothing else of the review
    # is needed from here on.
    return (
        replace(review, changes=tuple(c for c in review.changes if _suppressed(c))),
        verdict,
        total,
    )


def _record_dead_run(plan: SegmentedPlan, deps: ApplyDeps, shard: Shard | None) -> None:
    """Record in the ledger what an earlier run of this plan (or shard) wrote before it died,
    when this run is refused (the plan expired, went stale, a segment was edited): no resume
    would record it otherwise. The segments finished by that run have their ``change``
    records already; the one it was in gets the missing ones (when it can still be read), and
    the apply gets its ``partial`` record. Nothing is sent to the data stores."""
    path = shard_journal_path(deps.root, plan.digest, shard)
    if not path.exists():
        return
    try:
        journal = Journal(path, plan.digest)
    except DsgitError:
        return  # another apply of this plan runs, or the journal is unreadable: leave it
    with journal:
        state = journal.state
        if state.apply_id is None or state.ended >= state.runs:
            return
        ledger = Ledger.of_universe(deps.root, plan.header.environment, deps.api, deps.signer)
        tally = _Tally()
        for index, ref in enumerate(plan.manifest.segments):
            try:
                changes = _mine(plan.segment(index), shard)
            except DsgitError:
                changes = None  # edited: its completions count, its records cannot be made
            segment = _segment_journal(path, index)
            done: dict[str, dict[str, Any]] = {}
            if segment.exists():
                with Journal(segment, plan.digest) as part:
                    done = part.state.done
            if changes is None:
                for record in done.values():
                    tally.add_done(record, Action.UPDATE)
                tally.counts["pending"] += max(ref.changes - len(done), 0) if shard is None else 0
                continue
            steps = [Step(c, written_data(c), None, False) for c in changes if not c.is_noop]
            finished = _finished(steps, JournalState(done=done))
            append_change_records(
                ledger,
                deps.actor,
                state.apply_id,
                list(finished.values()),
                steps,
                erasure_salt(deps.root, plan.header),
            )
            for step in steps:
                tally.add(finished.get(str(step.change.address)) or _pending(step))
        append_apply_records(
            ledger,
            deps.actor,
            plan.header,
            state.apply_id,
            tuple(tally.kept),
            ApplyStatus.PARTIAL,
            state.snapshot_time,
            state.started or _text(deps.clock()),
            (),
            any_status=True,
            summary=tally.counts,
        )
        journal.write({"t": "end", "status": str(ApplyStatus.PARTIAL), "time": _text(deps.clock())})


def _suppressed(change: Change) -> bool:
    return any(diag.suppressed_reason is not None for diag in change.diagnostics)


class _Run:
    """One run of a segmented apply (a first run or a resume)."""

    def __init__(
        self,
        plan: SegmentedPlan,
        deps: ApplyDeps,
        options: ApplyOptions,
        journal: Journal,
        shard: Shard | None,
        cited: Plan,
        verdict: Verdict,
        total: int,
    ) -> None:
        self.plan, self.deps, self.options = plan, deps, options
        self.journal, self.shard, self.cited = journal, shard, cited
        self.verdict, self.total = verdict, total
        state = journal.state
        self.resumed = state.apply_id is not None
        self.started = deps.clock()
        suffix = f"-s{shard.index}of{shard.count}" if shard is not None else ""
        self.apply_id = state.apply_id or new_apply_id(cited, self.started) + suffix
        self.holder = state.holder or uuid.uuid4().hex
        self.tally = _Tally()
        self.ran = False  # a segment was run (not only counted from its journal)
        self.ledger = Ledger.of_universe(deps.root, cited.environment, deps.api, deps.signer)
        # an erasure's records name addresses by their salted hash only (docs/erasure.md)
        self.salt = erasure_salt(deps.root, cited)

    def _lock(self) -> EnvironmentLock:
        deps, options = self.deps, self.options
        if self.shard is not None:
            return ShardLease(
                deps.api,
                shard=self.shard,
                holder=self.holder,
                apply_id=self.apply_id,
                plan_digest=self.plan.digest,
                actor=deps.actor,
                ttl=options.lock_ttl,
                clock=deps.clock,
            )
        return EnvironmentLock(
            deps.api,
            holder=self.holder,
            apply_id=self.apply_id,
            plan_digest=self.plan.digest,
            actor=deps.actor,
            ttl=options.lock_ttl,
            clock=deps.clock,
        )

    def run(self) -> ApplyResult:
        deps, journal = self.deps, self.journal
        state = journal.state
        journal.write(
            {
                "t": "begin",
                "apply_id": self.apply_id,
                "holder": self.holder,
                "plan_digest": self.plan.digest,
                "time": _text(self.started),
            }
        )
        lock = self._lock()
        snapshot_time = state.snapshot_time
        failure: str | None = None
        interrupted = False
        broke: str | None = None
        next_segment = 0
        outcome = lock.acquire(break_lock=self.options.break_lock)
        try:
            if outcome.broken is not None:
                broke = outcome.broken.describe()
                deps.progress.note(f"broke the expired environment lock ({broke})")
                record = outcome.broken.break_record(
                    deps.env.name, deps.env.universe_id, expired=True
                )
                self.ledger.append([record], actor=deps.actor)
            lock.start_renewing()
            if (self.options.snapshot or deps.env.protected) and snapshot_time is None:
                snap = deps.api.snapshot()
                snapshot_time = snap.latest_snapshot_time
                journal.write(
                    {"t": "snapshot", "time": snapshot_time, "new": snap.new_snapshot_taken}
                )
            deps.progress.start(self.total, 0)
            preimages = PreImageStore(deps.root, self.apply_id, deps.keyring)
            for index in range(len(self.plan.manifest.segments)):
                next_segment = index + 1
                failure, interrupted = self._segment(index, lock, preimages)
                if failure is not None or interrupted:
                    break
        except KeyboardInterrupt:
            interrupted = True
        except DsgitError as exc:
            failure = str(exc)
        finally:
            deps.progress.close()
            try:
                self._count_unreached(next_segment)
                counts = self.tally.counts
                status = _status(counts, failure, interrupted)
                erased = self._erased() if str(status) in ERASURE_RECORDED else None
                deps.stop.reached("before-ledger")
                append_apply_records(
                    self.ledger,
                    deps.actor,
                    self.cited,
                    self.apply_id,
                    tuple(self.tally.kept),
                    status,
                    snapshot_time,
                    self.journal.state.started or _text(self.started),
                    (),
                    approvals=approval_bodies(self.verdict, self.cited),
                    summary=counts,
                    erased=[str(a) for a in erased] if erased is not None else None,
                )
                deps.stop.reached("after-ledger")
                journal.write({"t": "end", "status": str(status), "time": _text(deps.clock())})
                if erased is not None:
                    purge_after_erasure(self.cited, deps, self.apply_id, status, erased)
                deps.stop.reached("before-release")
            finally:
                lock_failure = _release(lock, deps)
        return ApplyResult(
            apply_id=self.apply_id,
            plan_digest=self.plan.digest,
            environment=self.cited.environment,
            status=status,
            changes=tuple(self.tally.kept),
            failure=failure,
            snapshot_time=snapshot_time,
            resumed=self.resumed,
            already_complete=self.resumed
            and not self.ran
            and status in (ApplyStatus.COMPLETE, ApplyStatus.CONFLICT),
            broke_lock=broke,
            lock_failure=lock_failure,
            totals=dict(counts),
        )

    def _erased(self) -> list[Address] | None:
        """A complete erasure's written addresses (this shard's), streamed from the plan."""
        if self.salt is None:
            return None
        kept = {str(result.address) for result in self.tally.kept}
        mine = _mine(self.plan.changes(), self.shard)
        return [c.address for c in mine if not c.is_noop and str(c.address) not in kept]

    def _segment(
        self, index: int, lock: EnvironmentLock, preimages: PreImageStore
    ) -> tuple[str | None, bool]:
        """Run segment ``index``; returns ``(failure, interrupted)``."""
        deps = self.deps
        path = _segment_journal(self.journal.path, index)
        with Journal(path, self.plan.digest, on_line=deps.stop.journal_line) as journal:
            state = journal.state
            if state.ended:
                self._tally_finished(index, state)
                return None, False
            self.ran = True
            changes = _mine(self.plan.segment(index), self.shard)
            part = replace(self.plan.header, changes=changes)
            steps = prepare_steps(part, deps.declaration, deps.keyring)
            for step in steps:
                if step.change.moved_from is not None:
                    self.tally.renames[str(step.change.address)] = step
            journal.write(
                {
                    "t": "begin",
                    "apply_id": self.apply_id,
                    "holder": self.holder,
                    "plan_digest": self.plan.digest,
                    "time": _text(deps.clock()),
                }
            )
            preimages.restore(
                intent["preimage"] for intent in state.intents.values() if "preimage" in intent
            )
            results = _finished(steps, state)
            executor = ChangeExecutor(
                deps.api,
                journal,
                preimages,
                clock=deps.clock,
                stop=deps.stop,
                plan_created=self.plan.header.created,
            )
            todo = [step for step in steps if str(step.change.address) not in results]
            writes = [step for step in todo if step.change.action is not Action.DELETE]
            deletes = [step for step in todo if step.change.action is Action.DELETE]
            failure, interrupted = execute_steps(
                writes, executor, state, results, lock, deps.progress, self.options.workers
            )
            if failure is None and not interrupted and deletes:
                known = {**self.tally.rename_results, **results}
                deletes = drop_orphaned_renames(
                    deletes, list(self.tally.renames.values()), known, executor, deps.progress
                )
                for step in steps:  # refusals of orphaned renames land in ``known``
                    address = str(step.change.address)
                    if address in known and address not in results:
                        results[address] = known[address]
                failure, interrupted = execute_steps(
                    deletes, executor, state, results, lock, deps.progress, self.options.workers
                )
            finished = [r for s in steps if (r := results.get(str(s.change.address))) is not None]
            append_change_records(
                self.ledger, deps.actor, self.apply_id, finished, steps, self.salt
            )
            for step in steps:
                result = results.get(str(step.change.address))
                self.tally.add(result if result is not None else _pending(step))
            if failure is None and not interrupted:
                journal.write({"t": "end", "status": "complete", "time": _text(deps.clock())})
            return failure, interrupted

    def _tally_finished(self, index: int, state: JournalState) -> None:
        """Count a segment an earlier run finished. It is read (not run) for its actions and
        its renames: a rename's delete in a later segment must know whether its create landed."""
        for change in _mine(self.plan.segment(index), self.shard):
            address = str(change.address)
            if change.moved_from is not None:
                self.tally.renames[address] = Step(change, None, None, False)
            record = state.done.get(address)
            if record is not None:
                self.tally.add_done(record, change.action)
                if change.moved_from is not None:
                    step = self.tally.renames[address]
                    self.tally.rename_results[address] = result_from_journal(step, record)

    def _count_unreached(self, start: int) -> None:
        """Changes of segments a stopped run did not reach count as pending."""
        for index in range(start, len(self.plan.manifest.segments)):
            try:
                changes = _mine(self.plan.segment(index), self.shard)
            except DsgitError:
                self.tally.counts["pending"] += self.plan.manifest.segments[index].changes
                continue
            self.tally.counts["pending"] += sum(1 for c in changes if not c.is_noop)


def _finished(steps: list[Step], state: JournalState) -> dict[str, ChangeResult]:
    return {
        key: result_from_journal(step, state.done[key])
        for step in steps
        if (key := str(step.change.address)) in state.done
    }


def _pending(step: Step) -> ChangeResult:
    absent = EntryState(False)
    change = step.change
    return ChangeResult(change.address, change.action, None, "not applied yet", absent, absent)


def _status(counts: dict[str, int], failure: str | None, interrupted: bool) -> ApplyStatus:
    if interrupted:
        return ApplyStatus.INTERRUPTED
    if failure is not None or counts["pending"]:
        return ApplyStatus.PARTIAL
    if counts["conflict"]:
        return ApplyStatus.CONFLICT
    return ApplyStatus.COMPLETE


def _release(lock: EnvironmentLock, deps: ApplyDeps) -> str | None:
    try:
        lock.release()
    except LockNotReleased as exc:
        deps.progress.note(str(exc))
        return str(exc)
    return None
