"""Fault injection: parsing, injected errors, 429 bursts, latency, lost answers, timeouts."""

from __future__ import annotations

import time

import httpx
import pytest

from dsgit.emulator import Emulator, FaultSpec
from dsgit.emulator.faults import FaultAction, FaultInjector

from .conftest import validated_client
from .helpers import entry_url


def test_parse_full_spec() -> None:
    spec = FaultSpec.parse(
        "error=0.05, burst429=10@0.01,latency=80ms,lost=0.02,timeout=0.01,seed=7,hang=2s"
    )
    assert spec == FaultSpec(
        error=0.05,
        burst429_length=10,
        burst429=0.01,
        latency_min=0.08,
        latency_max=0.08,
        lost=0.02,
        timeout=0.01,
        hang=2.0,
        seed=7,
    )
    assert FaultSpec.parse("latency=50-150ms").latency_max == pytest.approx(0.15)
    assert FaultSpec.parse("latency=0.5s").latency_min == pytest.approx(0.5)
    assert FaultSpec.parse("lost=1,lost_status=503").lost_status == 503
    assert not FaultSpec.parse("").active


@pytest.mark.parametrize(
    "text",
    [
        "error=2",
        "nonsense=1",
        "burst429=10",
        "burst429=x@0.1",
        "latency=fast",
        "error",
        "seed=x",
        "latency=150-50ms",
        "lost_status=404",
    ],
)
def test_parse_errors_name_the_setting(text: str) -> None:
    with pytest.raises(ValueError, match=r"fault|unknown"):
        FaultSpec.parse(text)


def test_draws_are_reproducible_with_a_seed() -> None:
    spec = FaultSpec.parse("error=0.3,lost=0.3,seed=3")
    first = [FaultInjector(spec).decide() for _ in range(1)]
    one, two = FaultInjector(spec), FaultInjector(spec)
    assert [one.decide() for _ in range(50)] == [two.decide() for _ in range(50)]
    assert first


def test_errors_are_not_executed(emu: Emulator, client: httpx.Client) -> None:
    emu.faults = FaultSpec.parse("error=1")
    response = client.patch(entry_url("S", "k"), params={"allowMissing": "true"}, json={"value": 1})
    assert response.status_code in (500, 503)
    assert response.json()["code"] in ("INTERNAL", "UNAVAILABLE")
    emu.faults = None
    assert client.get(entry_url("S", "k")).status_code == 404


def test_burst_of_429(emu: Emulator, client: httpx.Client) -> None:
    emu.faults = FaultSpec.parse("burst429=3@1,seed=1")
    statuses = [client.get(entry_url("S", "k")).status_code for _ in range(3)]
    assert statuses == [429, 429, 429]
    emu.faults = FaultSpec.parse("burst429=3@0.0001,seed=1")
    assert client.get(entry_url("S", "k")).status_code == 404


def test_lost_answer_commits_the_write(emu: Emulator) -> None:
    emu.faults = FaultSpec.parse("lost=1")
    with validated_client(emu.transport()) as raw:
        with pytest.raises(httpx.RemoteProtocolError):
            raw.patch(entry_url("S", "k"), params={"allowMissing": "true"}, json={"value": 1})
        emu.faults = FaultSpec.parse("lost=1,lost_status=503")
        lost = raw.patch(entry_url("S", "k"), json={"value": 2})
        assert lost.status_code == 503
        emu.faults = None
        assert raw.get(entry_url("S", "k")).json()["value"] == 2  # both writes committed


def test_timeout_is_not_executed(emu: Emulator) -> None:
    emu.faults = FaultSpec.parse("timeout=1")
    with validated_client(emu.transport()) as raw:
        with pytest.raises(httpx.ReadTimeout):
            raw.patch(entry_url("S", "k"), params={"allowMissing": "true"}, json={"value": 1})
        emu.faults = None
        assert raw.get(entry_url("S", "k")).status_code == 404


def test_latency_is_added(emu: Emulator, client: httpx.Client) -> None:
    emu.faults = FaultSpec.parse("latency=30ms")
    started = time.perf_counter()
    client.get(entry_url("S", "k"))
    assert time.perf_counter() - started >= 0.03


def test_fault_actions_cover_the_spec() -> None:
    decisions = {
        FaultInjector(FaultSpec.parse(f"{name}=1")).decide().action for name in ("error", "timeout")
    }
    assert decisions == {FaultAction.ERROR, FaultAction.TIMEOUT}


def test_faults_apply_to_every_api(emu: Emulator) -> None:
    emu.faults = FaultSpec.parse("error=1,seed=2")
    with validated_client(emu.transport()) as client:
        v1 = client.get("/datastores/v1/universes/1/standard-datastores")
        assert v1.status_code >= 500 and "errorDetails" in v1.json()


def test_faults_property_round_trips(emu: Emulator) -> None:
    assert emu.faults is None
    quiet = FaultSpec.parse("seed=3")
    emu.faults = quiet
    assert emu.faults == quiet
    emu.faults = None
    assert emu.faults is None
