"""Served, the emulator requires ``x-api-key`` on every request, as Roblox's gateway does: any
key passes when none is configured, only the configured ones otherwise."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from dsgit.emulator import Emulator, ServedEmulator

from .conftest import FakeClock, validated_client
from .helpers import CONFIGS, V1, V1_ORDERED, V2, entries_url, entry_url

pytestmark = pytest.mark.slow

EVERY_API = [
    entries_url("S"),
    f"{V2}/data-stores",
    f"{V2}/ordered-data-stores/O/scopes/global/entries",
    f"{V1}?limit=1",
    f"{V1_ORDERED}/O/scopes/global/entries",
    f"{CONFIGS}/InExperienceConfig",
    "/no/such/path",
]


@pytest.fixture
def served(emu: Emulator) -> Iterator[ServedEmulator]:
    with emu.serve() as server:
        yield server


@pytest.mark.parametrize("path", EVERY_API)
def test_a_request_without_a_key_is_401_even_with_no_keys_configured(
    served: ServedEmulator, path: str
) -> None:
    with validated_client(base_url=served.url) as client:
        refused = client.get(path)
        assert refused.status_code == 401
        assert refused.json() == {"errors": [{"code": 0, "message": "Invalid API Key"}]}
        assert client.get(path, headers={"x-api-key": ""}).status_code == 401
        allowed = client.get(path, headers={"x-api-key": "any key at all"})
        assert allowed.status_code in (200, 404), allowed.text


def test_without_a_key_nothing_is_written(served: ServedEmulator, emu: Emulator) -> None:
    with validated_client(base_url=served.url) as client:
        refused = client.post(entries_url("S"), params={"id": "k"}, json={"value": 1})
        assert refused.status_code == 401
    with validated_client(emu.transport()) as local:
        assert local.get(entry_url("S", "k")).status_code == 404


def test_a_bearer_token_counts_as_a_key(served: ServedEmulator) -> None:
    with validated_client(base_url=served.url) as client:
        answer = client.get(entries_url("S"), headers={"authorization": "Bearer anything"})
        assert answer.status_code == 200


def test_configured_keys_are_checked(clock: FakeClock) -> None:
    emulator = Emulator(clock=clock, api_keys={"right": frozenset({"*"})})
    with emulator.serve() as server, validated_client(base_url=server.url) as client:
        assert client.get(entries_url("S")).status_code == 401
        assert client.get(entries_url("S"), headers={"x-api-key": "wrong"}).status_code == 401
        assert client.get(entries_url("S"), headers={"x-api-key": "right"}).status_code == 200
    emulator.close()


def test_in_process_no_header_is_needed_without_keys(client: httpx.Client) -> None:
    """The in-process transport is dsgit's own embedded emulator: no network, no key."""
    assert client.get(entries_url("S")).status_code == 200


def test_dsgit_emulator_serve_requires_a_key_and_keeps_every_write_with_versions_all() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "dsgit", "emulator", "serve", "--port", "0", "--versions", "all"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline(), process.stdout.readline()]
        assert "auth: any x-api-key; versions: all;" in lines[0]
        url = lines[1].strip().rsplit(" ", 1)[-1]
        with validated_client(base_url=url) as client:
            assert client.get(entries_url("S")).status_code == 401
            keyed = {"x-api-key": "e2e"}
            for value in range(3):
                written = client.patch(
                    entry_url("S", "k"),
                    params={"allowMissing": "true"},
                    json={"value": value},
                    headers=keyed,
                )
                assert written.status_code == 200
            revisions = client.get(entry_url("S", "k", suffix=":listRevisions"), headers=keyed)
            assert len(revisions.json()["dataStoreEntries"]) == 3
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
