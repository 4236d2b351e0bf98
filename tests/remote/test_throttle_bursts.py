"""A burst of ten 429s (Retry-After: 1) on a step that runs one request at a time — taking the
lock, paging through a listing — is waited out, within the stated bound (docs/client.md)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from dsgit.apply.lock import EnvironmentLock
from dsgit.emulator import Emulator
from dsgit.errors import RateLimitedError
from dsgit.model.entry import EntryData
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.retry import RetryPolicy


class Burst(httpx.BaseTransport):
    """Answers ``length`` 429s in a row, starting with request number ``start`` (0-based)."""

    def __init__(self, inner: httpx.BaseTransport, start: int, length: int) -> None:
        self.inner = inner
        self.start = start
        self.length = length
        self.seen = 0
        self.throttled = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        number = self.seen
        self.seen += 1
        if self.start <= number < self.start + self.length:
            self.throttled += 1
            return httpx.Response(
                429, headers={"retry-after": "1"}, json={"code": "RESOURCE_EXHAUSTED"}
            )
        return self.inner.handle_request(request)


def _client(transport: httpx.BaseTransport, sleeps: list[float]) -> OpenCloudClient:
    return OpenCloudClient(
        1, base_url="http://emulator.test", transport=transport, sleep=sleeps.append
    )


def test_taking_the_lock_waits_out_a_burst_of_ten() -> None:
    emulator = Emulator(db=":memory:")
    burst = Burst(emulator.transport(), start=0, length=10)
    sleeps: list[float] = []
    with _client(burst, sleeps) as client:
        lock = EnvironmentLock(
            client,
            holder="h",
            apply_id="a",
            plan_digest="sha256:x",
            actor="t",
            ttl=timedelta(minutes=2),
        )
        lock.acquire()
        lock.release()
    assert burst.throttled == 10 and len(sleeps) == 10
    assert 10.0 <= sum(sleeps) <= 15.0  # Retry-After as asked, plus at most 0.5 s jitter each


def test_a_listing_waits_out_a_burst_of_ten_between_its_pages() -> None:
    emulator = Emulator(db=":memory:")
    with OpenCloudClient(1, base_url="http://e.test", transport=emulator.transport()) as seed:
        for n in range(600):
            seed.create_entry("S", f"k{n:03}", EntryData(n))
    burst = Burst(emulator.transport(), start=1, length=10)  # on the second page
    sleeps: list[float] = []
    with _client(burst, sleeps) as client:
        keys = [item.key for item in client.list_keys("S")]
    assert len(keys) == 600 and burst.throttled == 10


def test_429s_that_never_end_fail_within_the_bound() -> None:
    emulator = Emulator(db=":memory:")
    burst = Burst(emulator.transport(), start=0, length=10**6)
    sleeps: list[float] = []
    policy = RetryPolicy()
    with _client(burst, sleeps) as client, pytest.raises(RateLimitedError):
        client.get_entry("S", "k")
    assert burst.throttled == policy.throttled_attempts
    assert sum(sleeps) <= policy.max_total_wait
