"""Bounded lazy concurrency: completion order, early close, first error wins."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import pytest

from dsgit.remote.concurrent import map_concurrently, merge_concurrently


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


def test_merge_yields_every_item_of_every_source() -> None:
    sources = [lambda n=n: iter(range(n * 100, n * 100 + 50)) for n in range(6)]
    got = list(merge_concurrently(sources, workers=3, buffer=4))
    assert sorted(got) == sorted(i for n in range(6) for i in range(n * 100, n * 100 + 50))


def test_merge_raises_the_first_error_and_stops_the_others() -> None:
    produced: list[int] = []
    lock = threading.Lock()

    def endless() -> Iterator[int]:
        n = 0
        while True:
            with lock:
                produced.append(n)
            yield n
            n += 1

    def broken() -> Iterator[int]:
        yield -1
        raise ValueError("listing failed")

    merged = merge_concurrently([endless, broken], workers=2, buffer=2)
    with pytest.raises(ValueError, match="listing failed"):
        for _ in merged:
            pass
    # the merge joined its producers before raising: the endless source stopped, within
    # a few items of the buffer (had it not, this test would never end)
    with lock:
        assert len(produced) < 100


def test_closing_a_merge_early_stops_its_sources() -> None:
    def endless() -> Iterator[int]:
        n = 0
        while True:
            yield n
            n += 1

    merged = merge_concurrently([endless, endless], workers=2, buffer=2)
    assert next(merged) >= 0
    merged.close()  # returns: the producers saw the stop and ended
