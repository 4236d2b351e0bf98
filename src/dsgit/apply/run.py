"""``dsgit apply`` as a use case: checks, lock, snapshot, changes, journal, ledger (DESIGN.md §6).

:func:`apply_plan` takes every dependency explicitly (the remote API, the declaration the plan
was made from, keys, the clock) and returns an :class:`ApplyResult`; the CLI only renders it.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dsgit.apply.approval_records import approval_bodies
from dsgit.apply.audit import ERASURE_RECORDED, append_apply_records
from dsgit.apply.binding import check_bound_to_declaration
from dsgit.apply.checks import ApprovalCheck, CheckInput, check_plan, require_approvals
from dsgit.apply.execute import ChangeExecutor, Step
from dsgit.apply.journal import Journal, JournalState, journal_path
from dsgit.apply.lock import (
    LOCK_STORE,
    EnvironmentLock,
    Lease,
    LockNotReleased,
    read_lease,
    release_lease,
)
from dsgit.apply.preimages import PreImageStore
from dsgit.apply.progress import NullProgress, Progress
from dsgit.apply.result import ApplyResult, ApplyStatus, ChangeResult
from dsgit.apply.schedule import drop_orphaned_renames, execute_steps
from dsgit.apply.secrets import writable_data
from dsgit.apply.stop_points import NEVER, StopPoint
from dsgit.config import Environment
from dsgit.crypto import Keyring
from dsgit.crypto.errors import KeyNotAvailable
from dsgit.errors import DsgitError, PolicyRefused
from dsgit.ledger.file import Ledger
from dsgit.ledger.records import ChangeOutcome, EntryState
from dsgit.ledger.signing import Signer
from dsgit.model.declaration import Declaration
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.model.overrides import for_environment
from dsgit.plan.digest import entry_digest
from dsgit.plan.masking import PointerPatterns
from dsgit.plan.model import (
    Action,
    Change,
    CreateChange,
    Plan,
    PlanKind,
    UpdateChange,
    written_data,
)
from dsgit.plan.segments import WITHHELD
from dsgit.policy.verdict import Verdict
from dsgit.remote.api import OpenCloudApi

__all__ = [
    "ApplyDeps",
    "ApplyOptions",
    "apply_plan",
    "new_apply_id",
    "prepare_steps",
    "result_from_journal",
]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ApplyOptions:
    """What the user chose on the command line."""

    snapshot: bool = False
    lock_ttl: timedelta = timedelta(minutes=2)
    break_lock: bool = False
    workers: int = 48  # changes in flight: keeps the write budget busy at ~100 ms latency
    allow_dirty: bool = False  # a plan of uncommitted changes may go to a remote environment


@dataclass(frozen=True)
class ApplyDeps:
    """Everything an apply reads or writes besides the plan.

    ``declaration`` is the declaration at the plan's source: its digest must still match the
    plan's, and it supplies the plaintext of sensitive placeholders. None for plans that do
    not come from the declaration and hold no placeholders.
    """

    root: Path
    env: Environment
    api: OpenCloudApi
    declaration: Declaration | None
    keyring: Keyring | None = None
    signer: Signer | None = None
    actor: str = "unknown"
    progress: Progress = field(default_factory=NullProgress)
    approvals: ApprovalCheck = require_approvals
    clock: Callable[[], datetime] = _utc_now
    stop: StopPoint = NEVER  # test-only fault hook (dsgit.apply.stop_points)


def _ledger(deps: ApplyDeps, plan: Plan) -> Ledger:
    """The plan's environment's chain, ordered by the head its universe holds."""
    return Ledger.of_universe(deps.root, plan.environment, deps.api, deps.signer)


def new_apply_id(plan: Plan, now: datetime) -> str:
    """``<UTC time>-<12 hex of the plan digest>``: sortable, and names the plan."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{plan.digest.removeprefix('sha256:')[:12]}"


def _needs_encryption(change: Change, declaration: Declaration | None) -> bool:
    if change.address.kind is StoreKind.ORDERED:
        return False
    if change.sensitive or change.encrypted:
        return True
    if declaration is None:
        return False
    store = declaration.stores.get((change.address.kind, change.address.store))
    if store is None:
        return False
    policy = store.policy.for_key(change.address.key)
    return bool(policy.sensitive or policy.encrypted)


def prepare_steps(
    plan: Plan, declaration: Declaration | None, keyring: Keyring | None
) -> list[Step]:
    """Every change that writes, with its data resolved; raises before anything is written.

    Raises ``StalePlan`` when a sensitive placeholder no longer matches the declaration and
    ``KeyNotAvailable`` when a value must be decrypted, or a pre-image encrypted, without a key.
    """
    steps: list[Step] = []
    for change in plan.changes:
        if change.is_noop:
            continue
        if written_data(change) is WITHHELD:
            # What approvals read of a segmented plan: its values stay in the segments.
            raise DsgitError(
                f"{change.address}: this is the review of a segmented plan, without its values; "
                "apply the plan file itself (it streams its segments)"
            )
        if change.address.store == LOCK_STORE:
            raise PolicyRefused(
                f"{change.address}: the plan writes the reserved store {LOCK_STORE!r} "
                "(dsgit's own lock); no plan may change it"
            )
        data: EntryData | None = None
        if isinstance(change, CreateChange | UpdateChange):
            declared = declaration.data(change.address) if declaration is not None else None
            sensitive = PointerPatterns(change.sensitive)
            data = writable_data(change.after, declared, change.address, keyring, sensitive)
        encrypt = _needs_encryption(change, declaration)
        overwrites = change.action is not Action.CREATE or change.precondition.exists
        if encrypt and overwrites and keyring is None:
            raise KeyNotAvailable(
                "the pre-image of this entry holds sensitive values and must be encrypted, but "
                "no encryption key is available (set DSGIT_ENCRYPTION_KEY or a key file); "
                "nothing was written",
                address=str(change.address),
            )
        digest = entry_digest(data) if data is not None else None
        steps.append(Step(change, data, digest, encrypt))
    return steps


def _result_from_journal(step: Step, record: dict[str, Any]) -> ChangeResult:
    outcome = ChangeOutcome(record["outcome"])
    return ChangeResult(
        step.change.address,
        step.change.action,
        outcome,
        str(record.get("message") or ""),
        EntryState.from_json(record["before"]),
        EntryState.from_json(record["after"]),
        step.data.users if step.data is not None else (),
    )


result_from_journal = _result_from_journal  # the segmented apply's (dsgit.apply.stream)


def _pending(step: Step, message: str = "not applied yet") -> ChangeResult:
    absent = EntryState(False)
    return ChangeResult(step.change.address, step.change.action, None, message, absent, absent)


def apply_plan(
    plan: Plan,
    deps: ApplyDeps,
    options: ApplyOptions = ApplyOptions(),
    *,
    requested_env: str | None = None,
) -> ApplyResult:
    """Apply ``plan`` to ``deps.env``; resumes an earlier run of the same plan from its journal."""
    now = deps.clock()
    if deps.declaration is not None:  # the values the plan's environment sees
        deps = replace(deps, declaration=for_environment(deps.declaration, plan.environment))
    source = deps.declaration.source if deps.declaration is not None else None
    try:
        verdict = deps.approvals(plan, deps.env)
        check_plan(
            CheckInput(
                plan,
                source,
                deps.env,
                verdict,
                now,
                requested_env=requested_env,
                allow_dirty=options.allow_dirty,
                declaration=deps.declaration,
            )
        )
        steps = prepare_steps(plan, deps.declaration, deps.keyring)
        check_bound_to_declaration(plan, deps.declaration)
    except DsgitError:
        with contextlib.suppress(DsgitError):  # the refusal is what the user must see
            _record_dead_run(plan, deps)
        raise
    _ledger(deps, plan).check_appendable()  # a damaged ledger refuses now, not after writes
    path = journal_path(deps.root, plan.digest)
    with Journal(path, plan.digest, on_line=deps.stop.journal_line) as journal:
        state = journal.state
        finished = {
            str(step.change.address): _result_from_journal(step, state.done[key])
            for step in steps
            if (key := str(step.change.address)) in state.done
        }
        if state.apply_id is not None:
            # Pre-image files are not fsync'd one by one: the journal holds them durably.
            PreImageStore(deps.root, state.apply_id, deps.keyring).restore(
                intent["preimage"] for intent in state.intents.values() if "preimage" in intent
            )
        if state.apply_id is not None and len(finished) == len(steps):
            return _finish_finished(plan, deps, journal, steps, finished, verdict)
        return _run(plan, deps, options, journal, steps, finished, verdict)


def purge_after_erasure(
    plan: Plan,
    deps: ApplyDeps,
    apply_id: str,
    status: ApplyStatus,
    changed: Sequence[Address] | None = None,
) -> None:
    """A complete erasure (or one ended by conflicts: what it erased stays erased) purges the
    pre-images its plan lists, those of the entries it changed and its own, their copies in
    local apply journals, and the scan checkpoints of the stores it changed
    (:mod:`dsgit.erasure.local_purge`), then redacts the earlier ledger records its erasure
    record lists (:mod:`dsgit.ledger.redactions`); a rerun does both again, finishing what a
    killed run left. ``changed``: the addresses, when ``plan`` is a segmented plan's header
    (its changes are in segments)."""
    if plan.kind is not PlanKind.ERASURE or str(status) not in ERASURE_RECORDED:
        return
    from dsgit.erasure.local_purge import purge_after_erasure
    from dsgit.erasure.proof import repository_salt
    from dsgit.ledger.redactions import complete

    listed = json.loads(plan.context.get("purge_preimages", "[]"))
    done = purge_after_erasure(
        deps.root,
        repository_salt(deps.root),
        [str(p) for p in listed],
        list(changed) if changed is not None else [change.address for change in plan.changes],
        apply_id,
        held_journal=journal_path(deps.root, plan.digest),
    )
    for note in done.notes():
        deps.progress.note(note)
    redacted = complete(deps.root)
    if redacted:
        deps.progress.note(
            f"ledger: {redacted} earlier record(s) holding the user redacted (audit/ledger/; "
            "commit them)"
        )


def _finish_finished(
    plan: Plan,
    deps: ApplyDeps,
    journal: Journal,
    steps: Sequence[Step],
    finished: dict[str, ChangeResult],
    verdict: Verdict,
) -> ApplyResult:
    """A rerun of a plan whose every change is done: complete its atomic end, write nothing.

    The end of an earlier run may have been cut off anywhere: before its ledger records (they
    are written now, the missing ones only), before the journal's ``end`` (written now), or
    before its lease was released (released now, if it is still this apply's own).
    """
    state = journal.state
    result = _already_complete(plan, state, steps, finished)
    append_apply_records(
        _ledger(deps, plan),
        deps.actor,
        plan,
        result.apply_id,
        result.changes,
        result.status,
        state.snapshot_time,
        state.started or _text(deps.clock()),
        steps,
        approvals=approval_bodies(verdict, plan),
    )
    if state.ended < state.runs:
        journal.write({"t": "end", "status": str(result.status), "time": _text(deps.clock())})
    purge_after_erasure(plan, deps, result.apply_id, result.status)
    failure = _release_own_lease(deps, state.holder)
    return replace(result, lock_failure=failure)


def _release_own_lease(deps: ApplyDeps, holder: str | None) -> str | None:
    """Release the environment lock if this apply (``holder``) still holds it; the failure."""
    if holder is None:
        return None
    try:
        lease = read_lease(deps.api, deps.clock())
        if lease.lease is not None and lease.lease.holder == holder:
            release_lease(deps.api, lease)
    except LockNotReleased as exc:
        return str(exc)
    except DsgitError as exc:
        return (
            f"could not read the environment lock to release it ({exc}); check it with "
            "`dsgit lock status`"
        )
    return None


def _record_dead_run(plan: Plan, deps: ApplyDeps) -> None:
    """Record in the ledger what an earlier run of ``plan`` wrote before it died (kill -9).

    Such a run never wrote its records; if the plan can no longer run (expired, the declaration
    moved on) no resume would write them either, and its writes would be missing from the
    audit trail and from ``dsgit revert``. Nothing is sent to the data stores here; the lease
    of the dead run, if still its own, is released (it would refuse the next apply).
    """
    path = journal_path(deps.root, plan.digest)
    if not path.exists():
        return
    try:
        journal = Journal(path, plan.digest)
    except DsgitError:
        return  # another apply of this plan runs, or the journal is unreadable: leave it
    with journal:
        _record_dead_records(plan, deps, journal)
        failure = _release_own_lease(deps, journal.state.holder)
    if failure is not None:
        deps.progress.note(failure)


def _record_dead_records(plan: Plan, deps: ApplyDeps, journal: Journal) -> None:
    """The ledger records of a run that did not reach its ``end``, the missing ones only."""
    state = journal.state
    if state.apply_id is None or state.ended >= state.runs:
        return
    PreImageStore(deps.root, state.apply_id, deps.keyring).restore(
        intent["preimage"] for intent in state.intents.values() if "preimage" in intent
    )
    steps = [Step(change, written_data(change), None, False) for change in plan.changes]
    # A run killed after its records but before its ``end`` left nothing to record.
    changes = tuple(
        _result_from_journal(step, state.done[key])
        if (key := str(step.change.address)) in state.done
        else _pending(step)
        for step in steps
        if not step.change.is_noop
    )
    append_apply_records(
        _ledger(deps, plan),
        deps.actor,
        plan,
        state.apply_id,
        changes,
        ApplyStatus.PARTIAL,
        state.snapshot_time,
        state.started or _text(deps.clock()),
        steps,
        any_status=True,
    )
    journal.write({"t": "end", "status": str(ApplyStatus.PARTIAL), "time": _text(deps.clock())})


def _already_complete(
    plan: Plan, state: JournalState, steps: Sequence[Step], finished: dict[str, ChangeResult]
) -> ApplyResult:
    results = tuple(finished[str(step.change.address)] for step in steps)
    conflicts = any(r.outcome is ChangeOutcome.CONFLICT for r in results)
    assert state.apply_id is not None
    return ApplyResult(
        apply_id=state.apply_id,
        plan_digest=plan.digest,
        environment=plan.environment,
        status=ApplyStatus.CONFLICT if conflicts else ApplyStatus.COMPLETE,
        changes=results,
        snapshot_time=state.snapshot_time,
        resumed=True,
        already_complete=True,
    )


def _run(
    plan: Plan,
    deps: ApplyDeps,
    options: ApplyOptions,
    journal: Journal,
    steps: Sequence[Step],
    finished: dict[str, ChangeResult],
    verdict: Verdict | None = None,
) -> ApplyResult:
    state = journal.state
    started = deps.clock()
    resumed = state.apply_id is not None
    apply_id = state.apply_id or new_apply_id(plan, started)
    holder = state.holder or uuid.uuid4().hex
    journal.write(
        {
            "t": "begin",
            "apply_id": apply_id,
            "holder": holder,
            "plan_digest": plan.digest,
            "time": _text(started),
        }
    )
    lock = EnvironmentLock(
        deps.api,
        holder=holder,
        apply_id=apply_id,
        plan_digest=plan.digest,
        actor=deps.actor,
        ttl=options.lock_ttl,
        clock=deps.clock,
    )
    snapshot_time = state.snapshot_time
    failure: str | None = None
    interrupted = False
    results: dict[str, ChangeResult] = dict(finished)
    outcome = lock.acquire(break_lock=options.break_lock)
    try:
        broke = outcome.broken.describe() if outcome.broken is not None else None
        if outcome.broken is not None:
            deps.progress.note(f"broke the expired environment lock ({broke})")
            _record_lock_break(deps, outcome.broken)
        lock.start_renewing()
        if (options.snapshot or deps.env.protected) and snapshot_time is None:
            snap = deps.api.snapshot()
            snapshot_time = snap.latest_snapshot_time
            journal.write({"t": "snapshot", "time": snapshot_time, "new": snap.new_snapshot_taken})
            if not snap.new_snapshot_taken:
                deps.progress.note(
                    f"no new snapshot: Roblox takes at most one a UTC day, and today's was "
                    f"taken at {snapshot_time}: writes since then are not in it (the pre-images "
                    "keep every value this apply overwrites)"
                )
        executor = ChangeExecutor(
            deps.api,
            journal,
            PreImageStore(deps.root, apply_id, deps.keyring),
            clock=deps.clock,
            stop=deps.stop,
            plan_created=plan.created,
            message=_publish_message(plan),
        )
        deps.progress.start(len(steps), len(finished))
        todo = [step for step in steps if str(step.change.address) not in finished]
        creates_first = [step for step in todo if step.change.action is not Action.DELETE]
        deletes_last = [step for step in todo if step.change.action is Action.DELETE]
        failure, interrupted = execute_steps(
            creates_first, executor, state, results, lock, deps.progress, options.workers
        )
        if failure is None and not interrupted:
            deletes = drop_orphaned_renames(deletes_last, steps, results, executor, deps.progress)
            failure, interrupted = execute_steps(
                deletes, executor, state, results, lock, deps.progress, options.workers
            )
    except KeyboardInterrupt:
        interrupted = True
    except DsgitError as exc:
        failure = str(exc)
    finally:
        deps.progress.close()
        try:
            changes = tuple(results.get(str(s.change.address)) or _pending(s) for s in steps)
            status = _status(changes, failure, interrupted)
            # The atomic end: ledger records durable first, then the journal's ``end``; a run
            # killed between the two leaves a journal whose rerun finds the records there. The
            # ledger's append talks to the universe (its chain head) and can fail: a journal
            # without this run's ``end`` makes the next run write them.
            deps.stop.reached("before-ledger")
            append_apply_records(
                _ledger(deps, plan),
                deps.actor,
                plan,
                apply_id,
                changes,
                status,
                snapshot_time,
                _text(started),
                steps,
                approvals=approval_bodies(verdict, plan),
            )
            deps.stop.reached("after-ledger")
            journal.write({"t": "end", "status": str(status), "time": _text(deps.clock())})
            purge_after_erasure(plan, deps, apply_id, status)
            deps.stop.reached("before-release")
        finally:
            lock_failure = _release(lock, deps)
    return ApplyResult(
        apply_id=apply_id,
        plan_digest=plan.digest,
        environment=plan.environment,
        status=status,
        changes=changes,
        failure=failure,
        snapshot_time=snapshot_time,
        resumed=resumed,
        broke_lock=broke,
        lock_failure=lock_failure,
    )


def _record_lock_break(deps: ApplyDeps, broken: Lease) -> None:
    """``--break-lock`` took over another apply's expired lease: the ledger says so."""
    record = broken.break_record(deps.env.name, deps.env.universe_id, expired=True)
    Ledger.of_universe(deps.root, deps.env.name, deps.api, deps.signer).append(
        [record], actor=deps.actor
    )


def _release(lock: EnvironmentLock, deps: ApplyDeps) -> str | None:
    """Release the lease in every outcome; what went wrong when it could not be."""
    try:
        lock.release()
    except LockNotReleased as exc:
        deps.progress.note(str(exc))
        return str(exc)
    return None


def _status(changes: Sequence[ChangeResult], failure: str | None, interrupted: bool) -> ApplyStatus:
    if interrupted:
        return ApplyStatus.INTERRUPTED
    if failure is not None or any(change.pending for change in changes):
        return ApplyStatus.PARTIAL
    if any(change.outcome is ChangeOutcome.CONFLICT for change in changes):
        return ApplyStatus.CONFLICT
    return ApplyStatus.COMPLETE


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _publish_message(plan: Plan) -> str:
    """What a write that carries a message (a configs publish) says: the plan's commit."""
    commit = plan.source.commit
    if commit is None:
        return f"dsgit {plan.kind.value} {plan.digest} (uncommitted)"
    return f"dsgit {plan.kind.value} of {commit}" + (" (dirty)" if plan.source.dirty else "")
