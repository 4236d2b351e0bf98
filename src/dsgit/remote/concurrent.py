"""Bounded, lazy concurrency: run many remote calls on a thread pool, in completion order.

The rate budget decides how fast requests go; this keeps enough of them in flight to spend it
when the network is slow. At most ``2 × workers`` items are taken from the input ahead of the
results, so a generator of 100,000 keys is never held in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

__all__ = ["map_concurrently"]

In = TypeVar("In")
Out = TypeVar("Out")


def map_concurrently(
    function: Callable[[In], Out], items: Iterable[In], *, workers: int
) -> Iterator[tuple[In, Out]]:
    """Yield ``(item, function(item))`` as calls finish.

    The first exception stops the run: calls not started are cancelled, running ones finish,
    and the exception is raised to the consumer. Closing the iterator early does the same.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    source = iter(items)
    pending: dict[Future[Out], In] = {}
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dsgit-remote")
    try:
        exhausted = False
        while True:
            while not exhausted and len(pending) < 2 * workers:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                pending[executor.submit(function, item)] = item
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                item = pending.pop(future)
                yield item, future.result()
    finally:
        for future in pending:
            future.cancel()
        executor.shutdown(wait=True, cancel_futures=True)
