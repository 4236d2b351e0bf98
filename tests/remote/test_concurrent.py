"""Bounded lazy concurrency: completion order, early close, first error wins."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import pytest

from dsgit.remote.concurrent import map_concurrently


def test_every_item_is_answered_once() -> None:
    results = dict(map_concurrently(lambda n: n * n, range(500), workers=8))
    assert results == {n: n * n for n in range(500)}


def test_input_is_consumed_lazily_and_closing_stops_it() -> None:
    taken: list[int] = []

    def source() -> Iterator[int]:
        for n in itertools.count():
            taken.append(n)
            yield n

    results = map_concurrently(lambda n: n, source(), workers=4)
    first = [next(results) for _ in range(3)]
    assert len(first) == 3
    results.close()  # type: ignore[attr-defined]
    assert len(taken) <= 3 + 2 * 4  # never more than twice the workers ahead


def test_the_first_error_is_raised_and_the_rest_cancelled() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> int:
        with lock:
            started.append(n)
        if n == 5:
            raise RuntimeError("boom")
        time.sleep(0.001)
        return n

    with pytest.raises(RuntimeError, match="boom"):
        list(map_concurrently(work, range(10_000), workers=4))
    assert len(started) < 10_000


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError):
        list(map_concurrently(lambda n: n, [1], workers=0))
