"""Emulator tests: every response any test receives is checked against the OpenAPI files."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dsgit.emulator import Emulator
from openapi_check import check


class FakeClock:
    """A settable UTC clock; each reading also steps 1 ms so writes get distinct times."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 7, 22, 19, 40, 35, 1520, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def validated_client(
    transport: httpx.BaseTransport | None = None,
    base_url: str = "http://emulator.test",
    timeout: float = 10.0,
    **headers: str,
) -> httpx.Client:
    """An httpx client whose every response is validated against the OpenAPI schemas."""
    return httpx.Client(
        transport=transport,
        base_url=base_url,
        headers=headers,
        timeout=timeout,
        event_hooks={"response": [check]},
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Iterator[Emulator]:
    emulator = Emulator(db=":memory:", clock=clock, versions="all")  # tests count revisions
    yield emulator
    emulator.close()


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    with validated_client(emu.transport()) as http:
        yield http
