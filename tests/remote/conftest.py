"""A client wired to a fresh in-process emulator for every test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import emulated_client

if TYPE_CHECKING:
    from dsgit.emulator import Emulator

UNIVERSE = 4242


@pytest.fixture
def emulator() -> Emulator:
    from dsgit.emulator import Emulator

    return Emulator(db=":memory:", versions="all")  # tests count revisions


@pytest.fixture
def client(emulator: Emulator) -> Iterator[OpenCloudClient]:
    with emulated_client(emulator, universe_id=UNIVERSE) as opened:
        yield opened
