"""The client against the emulator's own rate limits and injected faults (in process)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsgit.config import Budget
from dsgit.emulator import Emulator, FaultSpec
from dsgit.errors import WriteOutcomeUnknown
from dsgit.model.entry import EntryData
from dsgit.remote.budget import RateBudget
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.retry import RetryPolicy

EPOCH = datetime(2024, 7, 1, tzinfo=UTC)


class FakeTime:
    """One timeline for the client's limiter and the emulator's clock."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def monotonic(self) -> float:
        return self.seconds

    def utc(self) -> datetime:
        return EPOCH + timedelta(seconds=self.seconds)

    def sleep(self, seconds: float) -> None:
        self.seconds += seconds


class CountingTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.statuses: Counter[int] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self.statuses[response.status_code] += 1
        return response


def limited_client(limiter_on: bool) -> tuple[OpenCloudClient, CountingTransport, FakeTime]:
    fake = FakeTime()
    emulator = Emulator(db=":memory:", ccu=0, clock=fake.utc, versions="all")
    transport = CountingTransport(emulator.transport())
    budget = (
        RateBudget(Budget(ccu=0, share=1.0), clock=fake.monotonic, sleep=fake.sleep)
        if limiter_on
        else RateBudget.unlimited()
    )
    client = OpenCloudClient(
        1,
        base_url="http://emulator.test",
        transport=transport,
        budget=budget,
        retry=RetryPolicy(attempts=10, initial=1.0, max_wait=30.0, jitter=0.0),
        sleep=fake.sleep,
    )
    return client, transport, fake


def test_the_limiter_keeps_the_emulator_from_answering_429() -> None:
    client, transport, fake = limited_client(limiter_on=True)
    with client:
        client.create_entry("S", "k", EntryData(1))
        for _ in range(700):
            assert client.get_entry("S", "k") is not None
    assert transport.statuses[429] == 0
    assert transport.statuses[200] == 701
    # 300 reads a minute at CCU 0 and share 1: 700 reads need two full windows and change.
    assert 120.0 <= fake.seconds <= 150.0


def test_without_the_limiter_the_emulator_does_throttle() -> None:
    client, transport, _ = limited_client(limiter_on=False)
    with client:
        for _ in range(400):
            assert client.get_entry("S", "k") is None
    assert transport.statuses[429] > 0  # the retries absorbed them, but they happened
    assert transport.statuses[404] == 400


def faulty_client(spec: str) -> tuple[OpenCloudClient, Emulator]:
    emulator = Emulator(db=":memory:", faults=FaultSpec.parse(spec), versions="all")
    client = OpenCloudClient(
        1,
        base_url="http://emulator.test",
        transport=emulator.transport(),
        retry=RetryPolicy(attempts=12, initial=0.0, max_wait=0.0, jitter=0.0),
        sleep=lambda _: None,
    )
    return client, emulator


def test_writes_converge_under_lost_answers_without_duplicates() -> None:
    client, emulator = faulty_client("lost=0.25,error=0.05,timeout=0.05,seed=11")
    with client:
        live = client.create_entry("S", "chain", EntryData(0))
        for step in range(1, 31):
            live = client.update_entry("S", "chain", EntryData(step), etag=live.etag)
            assert live.value == step
        for step in range(1, 11):
            client.update_entry("S", "plain", EntryData(step), allow_missing=True)
        client.create_entry("S", "doomed", EntryData("x"))
        client.delete_entry("S", "doomed")
        emulator.faults = None
        assert len(list(client.list_revisions("S", "chain"))) == 31  # no write happened twice
        assert len(list(client.list_revisions("S", "plain"))) == 10
        assert client.get_entry("S", "chain").value == 30  # type: ignore[union-attr]
        assert client.get_entry("S", "doomed") is None


def test_ordered_writes_converge_under_lost_answers() -> None:
    client, emulator = faulty_client("lost=0.3,seed=5")
    with client:
        for value in range(20):
            client.update_ordered("Wins", "alice", value, allow_missing=True)
        client.create_ordered("Wins", "bob", 1)
        client.delete_ordered("Wins", "bob")
        emulator.faults = None
        assert client.get_ordered("Wins", "alice").value == 19  # type: ignore[union-attr]
        assert client.get_ordered("Wins", "bob") is None


def test_a_lost_increment_is_reported_not_repeated() -> None:
    client, emulator = faulty_client("lost=1.0")
    with client:
        emulator.faults = None
        client.create_entry("S", "visits", EntryData(1))
        emulator.faults = FaultSpec.parse("lost=1.0")
        with pytest.raises(WriteOutcomeUnknown):
            client.increment_entry("S", "visits", 5)
        emulator.faults = None
        assert client.get_entry("S", "visits").value == 6  # type: ignore[union-attr]


def test_injected_429_bursts_are_ridden_out() -> None:
    client, _ = faulty_client("burst429=3@0.2,seed=2")
    with client:
        for i in range(30):
            client.update_entry("S", f"k{i}", EntryData(i), allow_missing=True)
        assert sum(1 for _ in client.list_keys("S")) == 30


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(min_value=0, max_value=100_000))
def test_any_fault_sequence_applies_each_write_exactly_once(seed: int) -> None:
    client, emulator = faulty_client(f"lost=0.3,error=0.1,timeout=0.1,seed={seed}")
    with client:
        live = client.update_entry("S", "k", EntryData(0), allow_missing=True)
        for step in range(1, 6):
            live = client.update_entry("S", "k", EntryData(step), etag=live.etag)
        emulator.faults = None
        assert len(list(client.list_revisions("S", "k"))) == 6
        assert client.get_entry("S", "k").value == 5  # type: ignore[union-attr]


def test_data_store_delete_and_undelete_converge_under_lost_answers() -> None:
    client, emulator = faulty_client("lost=0.4,seed=9")
    with client:
        emulator.faults = None
        client.create_entry("Doomed", "k", EntryData(1))
        emulator.faults = FaultSpec.parse("lost=0.4,seed=9")
        assert client.delete_data_store("Doomed").state == "DELETED"
        assert client.undelete_data_store("Doomed").state != "DELETED"
        emulator.faults = None
        assert [s.id for s in client.list_data_stores()] == ["Doomed"]
