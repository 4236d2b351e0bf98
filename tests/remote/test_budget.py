"""The rate limiter, on a fake clock: never overflows a sliding window, yet spends the budget."""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsgit.config import Budget
from dsgit.remote.budget import (
    Operation,
    RateBudget,
    RequestClass,
    WindowLimiter,
    per_minute,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


def simulate(
    limit: int,
    latencies: list[float],
    concurrency: int,
    requests: int,
    window: float = 60.0,
) -> list[float]:
    """Drive ``concurrency`` workers through the limiter; return the server's receipt times.

    The server receives each request at a random instant between send and response.
    """
    clock = FakeClock()
    limiter = WindowLimiter(limit, window=window, clock=clock, sleep=clock.sleep)
    rng = random.Random(limit * 7919 + concurrency)
    in_flight: list[tuple[float, int, object]] = []
    receipts: list[float] = []
    sent = 0
    counter = 0
    while sent < requests or in_flight:
        delay = limiter.delay() if sent < requests and len(in_flight) < concurrency else None
        next_done = in_flight[0][0] if in_flight else None
        if delay == 0.0:
            permit = limiter.acquire()
            latency = latencies[sent % len(latencies)]
            receipts.append(clock.now + rng.random() * latency)
            counter += 1
            heapq.heappush(in_flight, (clock.now + latency, counter, permit))
            sent += 1
        elif next_done is not None and (delay is None or next_done <= clock.now + delay):
            done_at, _, permit = heapq.heappop(in_flight)
            clock.now = max(clock.now, done_at)
            permit.release()  # type: ignore[attr-defined]
        else:
            assert delay is not None
            clock.sleep(delay)
    return sorted(receipts)


def max_in_window(times: list[float], window: float = 60.0) -> int:
    best = 0
    start = 0
    for end, moment in enumerate(times):
        while times[start] <= moment - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_per_minute_follows_the_published_formula() -> None:
    budget = Budget(ccu=1000, share=0.5)
    assert per_minute(RequestClass(Operation.READ), budget) == 20150
    assert per_minute(RequestClass(Operation.WRITE, ordered=True), budget) == 10150
    assert per_minute(RequestClass(Operation.LIST), budget) == 1150
    assert per_minute(RequestClass(Operation.REMOVE), budget) == 20150
    assert per_minute(RequestClass(Operation.SNAPSHOT), budget) == 30
    assert per_minute(RequestClass(Operation.READ), Budget(ccu=0, share=1.0)) == 300
    assert per_minute(RequestClass(Operation.READ), Budget(ccu=0, share=0.001)) == 1


@settings(max_examples=40, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=120),
    latencies=st.lists(st.floats(min_value=0.0, max_value=5.0), min_size=1, max_size=8),
    concurrency=st.integers(min_value=1, max_value=40),
)
def test_the_server_never_sees_more_than_the_limit_in_any_window(
    limit: int, latencies: list[float], concurrency: int
) -> None:
    receipts = simulate(limit, latencies, concurrency, requests=3 * limit + 5)
    assert max_in_window(receipts) <= limit


def test_steady_state_spends_at_least_95_percent_of_the_budget() -> None:
    limit = 600
    receipts = simulate(limit, [0.1, 0.08, 0.12], concurrency=64, requests=limit * 5)
    in_steady_state = [t for t in receipts if 60.0 <= t < 240.0]
    per_minute_achieved = len(in_steady_state) / 3
    assert per_minute_achieved >= 0.95 * limit
    assert max_in_window(receipts) <= limit


def test_requests_are_paced_not_burst() -> None:
    clock = FakeClock()
    limiter = WindowLimiter(120, clock=clock, sleep=clock.sleep)  # one every 0.5 s
    starts = []
    for _ in range(10):
        limiter.acquire().release()
        starts.append(clock.now)
    # One second of burst (two requests), then one every half second.
    assert starts[:3] == [0.0, 0.0, 0.5]
    gaps = [b - a for a, b in itertools.pairwise(starts[1:])]
    assert all(gap == pytest.approx(0.5) for gap in gaps)


def test_a_full_window_waits_for_the_oldest_response_to_age_out() -> None:
    clock = FakeClock()
    limiter = WindowLimiter(2, window=60.0, burst_seconds=60.0, clock=clock, sleep=clock.sleep)
    first = limiter.acquire()
    second = limiter.acquire()
    assert limiter.delay() is None  # both in flight: wait for a release
    clock.now = 5.0
    first.release()
    assert limiter.delay() == pytest.approx(60.01)
    clock.now = 10.0
    second.release()
    clock.now = 65.01
    assert limiter.delay() == 0.0
    limiter.acquire()
    assert limiter.delay() == pytest.approx(5.0)


def test_release_is_idempotent() -> None:
    clock = FakeClock()
    limiter = WindowLimiter(1, clock=clock, sleep=clock.sleep)
    permit = limiter.acquire()
    permit.release()
    permit.release()
    clock.now = 60.01
    assert limiter.delay() == 0.0


def test_unlimited_budget_never_waits_and_uses_a_few_workers() -> None:
    budget = RateBudget.unlimited()
    assert not budget.enabled
    for _ in range(1000):
        budget.acquire(RequestClass(Operation.READ)).release()
    assert budget.limit(RequestClass(Operation.READ)) is None
    assert budget.concurrency(RequestClass(Operation.READ)) == 4


def test_budget_keeps_one_limiter_per_class() -> None:
    budget = RateBudget(Budget(ccu=1000, share=0.5))
    read = budget.limiter(RequestClass(Operation.READ))
    assert read is budget.limiter(RequestClass(Operation.READ))
    assert read is not budget.limiter(RequestClass(Operation.READ, ordered=True))
    assert read is not None and read.limit == 20150
    # 20150 a minute at 250 ms a request needs 84 workers; capped at 64.
    assert budget.concurrency(RequestClass(Operation.READ)) == 64
    assert RateBudget(Budget()).concurrency(RequestClass(Operation.LIST)) == 4
    assert budget.acquire(None) is not None  # configs requests are not limited


def test_limiter_rejects_a_zero_limit() -> None:
    with pytest.raises(ValueError):
        WindowLimiter(0)


def test_threads_share_the_limiter_safely() -> None:
    from concurrent.futures import ThreadPoolExecutor

    limiter = WindowLimiter(50, window=600.0, burst_seconds=600.0)
    held: deque[object] = deque()

    def take(_: int) -> None:
        held.append(limiter.acquire())

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(take, range(50)))
    assert len(held) == 50
    assert limiter.delay() is None
