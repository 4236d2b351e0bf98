"""Running steps concurrently: a bounded pool that stops taking work at the first fault."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from dsgit.apply.execute import ChangeExecutor, Step
from dsgit.apply.journal import JournalState
from dsgit.apply.lock import EnvironmentLock
from dsgit.apply.progress import Progress
from dsgit.apply.result import ChangeResult
from dsgit.errors import DsgitError
from dsgit.ledger.records import ChangeOutcome

__all__ = ["drop_orphaned_renames", "execute_steps"]


def drop_orphaned_renames(
    deletes: list[Step],
    steps: Sequence[Step],
    results: dict[str, ChangeResult],
    executor: ChangeExecutor,
    progress: Progress,
) -> list[Step]:
    """Deletes whose rename target was not written stay undone (as conflicts): no data loss."""
    target_of = {
        str(step.change.moved_from): str(step.change.address)
        for step in steps
        if step.change.moved_from is not None
    }
    keep: list[Step] = []
    for step in deletes:
        target = target_of.get(str(step.change.address))
        landed = target is None or (
            target in results
            and results[target].outcome in (ChangeOutcome.WRITTEN, ChangeOutcome.SKIPPED)
        )
        if landed:
            keep.append(step)
            continue
        refused = executor.refuse(step, f"not deleted: its rename target {target} was not written")
        results[str(step.change.address)] = refused
        progress.update(refused)
    return keep


def execute_steps(
    steps: Sequence[Step],
    executor: ChangeExecutor,
    state: JournalState,
    results: dict[str, ChangeResult],
    lock: EnvironmentLock,
    progress: Progress,
    workers: int,
) -> tuple[str | None, bool]:
    """Run steps concurrently; stop taking new ones at the first fault.

    A step already handed to the pool but not yet started when a step fails, the lease is
    lost or the run is interrupted never starts (it stays pending). Cancelling it from the
    main thread alone raced the pool's worker picking it up: a stopped run wrote one step
    more or not depending on which thread the (loaded) machine ran first.

    Returns ``(failure, interrupted)``.
    """
    failure: str | None = None
    interrupted = False
    source: Iterator[Step] = iter(steps)
    earlier = state.pending  # intents of killed runs with no completion
    pending: dict[Future[ChangeResult | None], Step] = {}
    stopping = threading.Event()

    def attempt(step: Step, intent: Mapping[str, Any] | None) -> ChangeResult | None:
        if stopping.is_set():
            return None  # not started: the run is stopping
        try:
            return executor.run(step, intent)
        except BaseException:  # a fault or an interrupt: nothing queued starts after it
            stopping.set()
            raise

    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="dsgit-apply")
    try:
        while True:
            while failure is None and len(pending) < 2 * max(1, workers):
                if lock.lost is not None:
                    failure = str(lock.lost)
                    stopping.set()
                    break
                step = next(source, None)
                if step is None:
                    break
                intent = earlier.get(str(step.change.address))
                pending[pool.submit(attempt, step, intent)] = step
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                step = pending.pop(future)
                try:
                    result = future.result()
                except DsgitError as exc:
                    failure = failure or f"{step.change.address}: {exc}"
                    continue
                if result is None:
                    continue
                results[str(step.change.address)] = result
                progress.update(result)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        stopping.set()
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        for future, step in pending.items():
            if future.done() and not future.cancelled() and future.exception() is None:
                result = future.result()
                if result is not None:
                    results[str(step.change.address)] = result
    return failure, interrupted
