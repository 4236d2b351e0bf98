"""Rate limits: per universe, per request class, per store kind, sliding 60-second window."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from dsgit.emulator import Emulator
from dsgit.emulator.rate_limits import budget
from dsgit.emulator.routes import RateClass

from .conftest import FakeClock, validated_client
from .helpers import V1, entries_url, entry_url, ordered_url


class StillClock(FakeClock):
    """Time moves only when the test says so."""

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


@pytest.fixture
def still() -> StillClock:
    return StillClock()


def limited(clock: FakeClock, ccu: int = 0) -> tuple[Emulator, httpx.Client]:
    emulator = Emulator(ccu=ccu, clock=clock)
    return emulator, validated_client(emulator.transport())


@pytest.fixture
def pair(still: StillClock) -> Iterator[tuple[Emulator, httpx.Client]]:
    emulator, client = limited(still)
    with client:
        yield emulator, client
    emulator.close()


def test_budgets_follow_the_table() -> None:
    assert budget(RateClass("v2", "standard", "read"), 0) == 300
    assert budget(RateClass("v2", "standard", "read"), 10) == 700
    assert budget(RateClass("v2", "ordered", "write"), 10) == 500
    assert budget(RateClass("v2", "standard", "list"), 100) == 500
    assert budget(RateClass("v2", "standard", "remove"), 1) == 340
    assert budget(RateClass("v1", "standard", "read"), 1000) == 300
    assert budget(RateClass("snapshot", "standard", "all"), 50) == 60


def test_reads_over_budget_get_429_with_retry_after(
    pair: tuple[Emulator, httpx.Client], still: StillClock
) -> None:
    _, client = pair
    for _ in range(300):
        assert client.get(entry_url("S", "k")).status_code == 404
    refused = client.get(entry_url("S", "k"))
    assert refused.status_code == 429
    assert refused.json()["code"] == "RESOURCE_EXHAUSTED"
    assert refused.headers["retry-after"] == "60"
    # other classes and kinds keep their own budgets
    assert client.get(entries_url("S")).status_code == 200
    assert client.get(ordered_url("P", key="k")).status_code == 404
    assert (
        client.patch(
            entry_url("S", "k"), params={"allowMissing": "true"}, json={"value": 1}
        ).status_code
        == 200
    )
    v1 = client.get(f"{V1}/datastore/entries/entry", params={"datastoreName": "S", "entryKey": "k"})
    assert v1.status_code == 200
    still.advance(seconds=30)
    assert client.get(entry_url("S", "k")).headers["retry-after"] == "30"
    still.advance(seconds=30)
    assert client.get(entry_url("S", "k")).status_code == 200


def test_window_slides(still: StillClock) -> None:
    emulator, client = limited(still)
    with client:
        for _ in range(150):
            client.get(entry_url("S", "k"))
        still.advance(seconds=40)
        for _ in range(150):
            client.get(entry_url("S", "k"))
        assert client.get(entry_url("S", "k")).status_code == 429
        still.advance(seconds=20)  # the first 150 leave the window
        for _ in range(150):
            assert client.get(entry_url("S", "k")).status_code == 404
        assert client.get(entry_url("S", "k")).status_code == 429
    emulator.close()


def test_ccu_raises_the_budget_and_universes_are_separate(still: StillClock) -> None:
    emulator, client = limited(still, ccu=1)
    with client:
        for _ in range(340):
            assert client.get(entry_url("S", "k")).status_code == 404
        assert client.get(entry_url("S", "k")).status_code == 429
        other = client.get("/cloud/v2/universes/2/data-stores/S/scopes/global/entries/k")
        assert other.status_code == 404
    emulator.close()


def test_v1_and_ordered_429_bodies(still: StillClock) -> None:
    emulator, client = limited(still)
    with client:
        entry = f"{V1}/datastore/entries/entry"
        for _ in range(300):
            client.get(entry, params={"datastoreName": "S", "entryKey": "k"})
            client.get(ordered_url("P", key="k", v1=True))
        v1 = client.get(entry, params={"datastoreName": "S", "entryKey": "k"})
        assert v1.status_code == 429 and v1.json()["error"] == "RESOURCE_EXHAUSTED"
        ordered = client.get(ordered_url("P", key="k", v1=True))
        assert ordered.status_code == 429 and ordered.json()["code"] == "RESOURCE_EXHAUSTED"
    emulator.close()


def test_limits_off_without_ccu(emu: Emulator, client: httpx.Client) -> None:
    for _ in range(400):
        assert client.get(entry_url("S", "k")).status_code == 404


def test_per_key_write_and_read_throughput(still: StillClock) -> None:
    emulator, client = limited(still)
    three_mb = "x" * (3 * 1024 * 1024)
    with client:
        url = entry_url("S", "big")
        params = {"allowMissing": "true"}
        assert client.patch(url, params=params, json={"value": three_mb}).status_code == 200
        refused = client.patch(url, params=params, json={"value": three_mb})
        assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
        other = client.patch(entry_url("S", "other"), params=params, json={"value": three_mb})
        assert other.status_code == 200
        reads = [client.get(url).status_code for _ in range(10)]
        assert reads[:9] == [200] * 9 and reads[9] == 429
        still.advance(seconds=61)
        assert client.patch(url, params=params, json={"value": three_mb}).status_code == 200
        assert client.get(url).status_code == 200
    emulator.close()


def test_a_maximal_value_fits_an_empty_window(still: StillClock) -> None:
    emulator, client = limited(still)
    with client:
        biggest = "x" * (4_194_304 - 2)
        response = client.post(entries_url("S"), params={"id": "max"}, json={"value": biggest})
        assert response.status_code == 200
    emulator.close()
