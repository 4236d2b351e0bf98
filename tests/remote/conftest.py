"""A client wired to a fresh in-process emulator for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dsgit.emulator import Emulator
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import emulated_client

UNIVERSE = 4242


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(db=":memory:")


@pytest.fixture
def client(emulator: Emulator) -> Iterator[OpenCloudClient]:
    with emulated_client(emulator, universe_id=UNIVERSE) as opened:
        yield opened
