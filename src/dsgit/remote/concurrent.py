"""Bounded, lazy concurrency: run many remote calls on a thread pool, in completion order.

The rate budget decides how fast requests go; this keeps enough of them in flight to spend it
when the network is slow. At most ``2 × workers`` items are taken from the input ahead of the
results, so a generator of 100,000 keys is never held in memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["map_concurrently", "merge_concurrently"]

In = TypeVar("In")
Out = TypeVar("Out")


def map_concurrently(
    function: Callable[[In], Out], items: Iterable[In], *, workers: int
) -> Iterator[tuple[In, Out]]:
    """Yield ``(item, function(item))`` as calls finish.

    The first exception stops the run: calls not started are cancelled, running ones finish,
    and the exception is raised to the consumer. Closing the iterator early does the same.

    The items are taken from ``items`` on the consumer's thread (a generator may keep state
    the consumer also touches). Hand-over is two ``SimpleQueue``s, O(1) per item whatever the
    number of workers: a ``ThreadPoolExecutor`` with ``wait(FIRST_COMPLETED)`` over the
    pending futures cost O(workers) per result, which at 64 readers was a large part of a
    scan's CPU (docs/performance.md, "Live scans").
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    source = iter(items)
    todo: queue.SimpleQueue[tuple[In] | None] = queue.SimpleQueue()
    done: queue.SimpleQueue[tuple[In, bool, Any]] = queue.SimpleQueue()
    stopping = threading.Event()

    def work() -> None:
        while True:
            job = todo.get()
            if job is None:
                return
            if stopping.is_set():
                continue  # cancelled before it started
            item = job[0]
            try:
                result = function(item)
            except BaseException as exc:  # handed to the consumer, which raises it
                done.put((item, False, exc))
            else:
                done.put((item, True, result))

    threads: list[threading.Thread] = []
    pending = 0
    try:
        exhausted = False
        while True:
            while not exhausted and pending < 2 * workers:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                todo.put((item,))
                pending += 1
                if len(threads) < min(workers, pending):
                    thread = threading.Thread(
                        target=work, name=f"dsgit-remote_{len(threads)}", daemon=True
                    )
                    thread.start()
                    threads.append(thread)
            if not pending:
                return
            item, ok, value = done.get()
            pending -= 1
            if not ok:
                raise value
            yield item, value
    finally:
        stopping.set()
        for _ in threads:
            todo.put(None)
        for thread in threads:
            thread.join()


_ITEM, _ERROR, _DONE = "item", "error", "done"


def merge_concurrently(
    sources: Sequence[Callable[[], Iterable[Out]]], *, workers: int, buffer: int = 1024
) -> Iterator[Out]:
    """Run each source on a thread pool and yield their items as they arrive.

    Used to list many stores at once: each source pages through one listing. At most
    ``buffer`` items wait for the consumer (producers block beyond that), so memory stays
    bounded however long the listings are. The first exception of any source is raised to the
    consumer and stops the others; closing the iterator early stops them too.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if not sources:
        return
    results: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=buffer)
    stop = threading.Event()

    def put(kind: str, payload: Any) -> bool:
        while not stop.is_set():
            try:
                results.put((kind, payload), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run(source: Callable[[], Iterable[Out]]) -> None:
        try:
            for item in source():
                if not put(_ITEM, item):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            put(_ERROR, exc)
        finally:
            put(_DONE, None)

    executor = ThreadPoolExecutor(
        max_workers=min(workers, len(sources)), thread_name_prefix="dsgit-merge"
    )
    remaining = len(sources)
    try:
        for source in sources:
            executor.submit(run, source)
        while remaining:
            kind, payload = results.get()
            if kind == _DONE:
                remaining -= 1
            elif kind == _ERROR:
                raise payload
            else:
                yield payload
    finally:
        stop.set()
        executor.shutdown(wait=True, cancel_futures=True)
