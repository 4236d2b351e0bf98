"""API keys and scopes: 401 for a bad or missing key, 403 for a key without the scope."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from dsgit.emulator import Emulator

from .conftest import FakeClock, validated_client
from .helpers import CONFIGS, V1, entries_url, entry_url, ordered_url

CANARY = "canary-key-0123456789abcdef"
READER = "reader-key"


@pytest.fixture
def secured(clock: FakeClock) -> Iterator[Emulator]:
    emulator = Emulator(
        clock=clock,
        api_keys={
            CANARY: frozenset({"*"}),
            READER: frozenset({"universe-datastores.objects:read", "universe:read"}),
            "creator": frozenset({"universe-datastores.objects:create"}),
            "objects": frozenset({"universe-datastores.objects:*"}),
        },
    )
    yield emulator
    emulator.close()


def call(
    emulator: Emulator, key: str | None, method: str, url: str, **kw: object
) -> httpx.Response:
    headers = {} if key is None else {"x-api-key": key}
    with validated_client(emulator.transport(), **headers) as client:
        return client.request(method, url, **kw)  # type: ignore[arg-type]


def test_missing_and_wrong_keys_are_401(secured: Emulator) -> None:
    for key in (None, "wrong"):
        response = call(secured, key, "GET", entry_url("S", "k"))
        assert response.status_code == 401
        assert response.json() == {"errors": [{"code": 0, "message": "Invalid API Key"}]}


def test_scopes_are_enforced_per_operation(secured: Emulator) -> None:
    write = call(secured, CANARY, "POST", entries_url("S"), params={"id": "k"}, json={"value": 1})
    assert write.status_code == 200
    assert call(secured, READER, "GET", entry_url("S", "k")).status_code == 200
    denied = call(secured, READER, "PATCH", entry_url("S", "k"), json={"value": 2})
    assert denied.status_code == 403 and "errors" in denied.json()
    assert call(secured, READER, "GET", entries_url("S")).status_code == 403
    assert call(secured, READER, "GET", ordered_url("P")).status_code == 403
    assert call(secured, READER, "GET", f"{CONFIGS}/InExperienceConfig").status_code == 200
    assert (
        call(
            secured,
            READER,
            "PUT",
            f"{CONFIGS}/InExperienceConfig/draft:overwrite",
            json={"entries": {}},
        ).status_code
        == 403
    )
    # increment needs create AND update
    inc = call(
        secured, "creator", "POST", entry_url("S", "n", suffix=":increment"), json={"amount": 1}
    )
    assert inc.status_code == 403
    wildcard = call(
        secured, "objects", "POST", entry_url("S", "n", suffix=":increment"), json={"amount": 1}
    )
    assert wildcard.status_code == 200


def test_v1_set_needs_create_or_update_depending_on_what_exists(secured: Emulator) -> None:
    entry = f"{V1}/datastore/entries/entry"
    new = {"datastoreName": "S2", "entryKey": "k"}
    # a new data store also needs control:create
    assert call(secured, "creator", "POST", entry, params=new, content=b"1").status_code == 403
    assert call(secured, CANARY, "POST", entry, params=new, content=b"1").status_code == 200
    other = {"datastoreName": "S2", "entryKey": "other"}
    assert call(secured, "creator", "POST", entry, params=other, content=b"1").status_code == 200
    assert call(secured, "creator", "POST", entry, params=other, content=b"2").status_code == 403
    assert call(secured, "objects", "POST", entry, params=other, content=b"2").status_code == 200
    assert call(secured, READER, "POST", entry, params=other, content=b"3").status_code == 403


def test_no_keys_means_no_auth(emu: Emulator) -> None:
    assert call(emu, None, "GET", entries_url("S")).status_code == 200


def test_the_key_never_appears_in_answers(secured: Emulator) -> None:
    for key in (CANARY, CANARY + "x"):
        for method, url in (("GET", entry_url("S", "k")), ("GET", "/nope")):
            response = call(secured, key, method, url)
            assert CANARY not in response.text
            assert all(CANARY not in value for value in response.headers.values())
