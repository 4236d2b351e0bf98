"""Hostile and malformed requests (found by fuzzing the OpenAPI files): each answers the
documented 400/404 in its API's error model, never a 500 from a Python exception."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from dsgit.emulator import Emulator

from .helpers import CONFIGS, V1, entries_url, entry_url, ordered_url

INT64_MAX = 2**63 - 1
V1_ENTRY = f"{V1}/datastore/entries/entry"
DEEP = b"[" * 100_000 + b"]" * 100_000


def _error(response: httpx.Response, status: int = 400) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict)
    return body


@pytest.mark.parametrize(
    "body",
    [
        b'{"value": NaN}',
        b'{"value": [Infinity, -Infinity]}',
        b'{"value": 1e400}',
        b'{"value": "\\ud800"}',
        b'{"value": 1, "attributes": {"\\udfff": "x"}}',
        b'{"value": 1, "attributes": {"a": NaN}}',
        b'{"value": ' + DEEP + b"}",
        b'{"value": "\xff\xfe"}',
    ],
)
def test_v2_create_rejects_non_json_values(client: httpx.Client, body: bytes) -> None:
    answer = client.post(entries_url("S"), params={"id": "k"}, content=body)
    assert _error(answer)["code"] == "INVALID_ARGUMENT"
    assert client.get(entry_url("S", "k")).status_code == 404


def test_a_paired_surrogate_escape_is_a_valid_character(client: httpx.Client) -> None:
    answer = client.post(
        entries_url("S"), params={"id": "k"}, content=b'{"value": "\\ud83d\\ude00"}'
    )
    assert answer.status_code == 200 and answer.json()["value"] == "\U0001f600"


@pytest.mark.parametrize("body", [b"NaN", b'"\\ud800"', b"[1e400]", DEEP, b'{"a":' * 50_000 + b"1"])
def test_v1_set_rejects_non_json_values(client: httpx.Client, body: bytes) -> None:
    answer = client.post(V1_ENTRY, params={"datastoreName": "S", "entryKey": "k"}, content=body)
    assert _error(answer)["errorDetails"] == [
        {"errorDetailType": "DatastoreErrorInfo", "datastoreErrorCode": "ContentNotJson"}
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("roblox-entry-attributes", "[" * 5000 + "]" * 5000),
        ("roblox-entry-attributes", '{"a": NaN}'),
        ("roblox-entry-userids", "[1e400, NaN]"),
    ],
)
def test_v1_metadata_headers_reject_hostile_json(
    client: httpx.Client, name: str, value: str
) -> None:
    answer = client.post(
        V1_ENTRY,
        params={"datastoreName": "S", "entryKey": "k"},
        content=b"1",
        headers={name: value},
    )
    assert _error(answer)["error"] == "INVALID_ARGUMENT"


def test_numbers_as_long_digit_strings_are_400(client: httpx.Client) -> None:
    digits = "9" * 5000
    answer = client.post(entry_url("S", "n", suffix=":increment"), json={"amount": digits})
    assert _error(answer)["code"] == "INVALID_ARGUMENT"
    answer = client.post(ordered_url("O"), params={"id": "o"}, json={"value": digits})
    assert _error(answer)["code"] == "INVALID_ARGUMENT"


def test_ordered_filter_bounds_beyond_int64_match_nothing_or_everything(
    client: httpx.Client,
) -> None:
    for key, value in (("top", INT64_MAX), ("low", -(2**63)), ("mid", 5)):
        assert client.post(ordered_url("O"), params={"id": key}, json={"value": value}).is_success
    for v1, items in ((False, "orderedDataStoreEntries"), (True, "entries")):
        url = ordered_url("O", v1=v1)
        above = client.get(url, params={"filter": "entry >= " + "9" * 400})
        assert above.status_code == 200 and not above.json().get(items)
        below = client.get(url, params={"filter": "entry <= -" + "9" * 30})
        assert below.status_code == 200 and not below.json().get(items)
        wide = client.get(url, params={"filter": f"entry >= -{'9' * 30} && entry <= {'9' * 30}"})
        assert [item["id"] for item in wide.json()[items]] == [
            "low",
            "mid",
            "top",
        ]


@pytest.mark.parametrize(
    "url",
    [
        "/cloud/v2/universes/9223372036854775808/data-stores",
        "/datastores/v1/universes/9223372036854775808/standard-datastores",
        "/ordered-data-stores/v1/universes/9999999999999999999/orderedDataStores/O/scopes/g/entries",
        "/creator-configs-public-api/v1/configs/universes/9223372036854775808/repositories/"
        "InExperienceConfig",
    ],
)
def test_universe_ids_beyond_int64_are_400_in_each_model(client: httpx.Client, url: str) -> None:
    _error(client.get(url))


def test_the_largest_universe_id_works(client: httpx.Client) -> None:
    assert client.get(f"/cloud/v2/universes/{INT64_MAX}/data-stores").status_code == 200


@pytest.mark.parametrize("time", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_times_moved_out_of_range_by_their_offset_are_400(client: httpx.Client, time: str) -> None:
    client.post(V1_ENTRY, params={"datastoreName": "S", "entryKey": "k"}, json=1)
    answer = client.get(
        f"{V1_ENTRY}/versions",
        params={"datastoreName": "S", "entryKey": "k", "startTime": time, "endTime": time},
    )
    assert _error(answer)["error"] == "INVALID_ARGUMENT"
    answer = client.get(f"{CONFIGS}/InExperienceConfig/revisions", params={"startTime": time})
    _error(answer)
    answer = client.get(
        entry_url("S", "k", suffix=":listRevisions"),
        params={"filter": f"revision_create_time >= {time}"},
    )
    _error(answer)


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("POST", entries_url("S") + "?id=%FF%FE"),
        ("POST", entries_url("S") + "?id=%ED%A0%80"),  # an encoded surrogate is not UTF-8
        ("POST", f"{V1_ENTRY}?datastoreName=S&entryKey=%FF"),
        ("GET", f"{V1_ENTRY}?datastoreName=S%C0&entryKey=k"),
    ],
)
def test_query_escapes_that_are_not_utf8_are_400(
    client: httpx.Client, method: str, target: str
) -> None:
    _error(client.request(method, target, content=b'{"value": 1}'))
    listed = client.get(entries_url("S"))
    assert listed.json().get("dataStoreEntries", []) == []


def test_configs_drafts_reject_nan(client: httpx.Client) -> None:
    draft = f"{CONFIGS}/InExperienceConfig/draft"
    answer = client.patch(draft, content=b'{"entries": {"a": NaN}}')
    assert "errors" in _error(answer)
    assert client.patch(draft, content=b'{"entries": ' + DEEP + b"}").status_code == 400
    assert client.get(draft).json()["entries"] == {}


def test_in_process_unknown_methods_are_404_in_the_paths_model(emu: Emulator) -> None:
    with httpx.Client(transport=emu.transport(), base_url="http://emulator") as plain:
        assert plain.request("TRACE", entries_url("S")).json()["code"] == "NOT_FOUND"
        v1 = plain.request("OPTIONS", V1_ENTRY, params={"datastoreName": "S", "entryKey": "k"})
        assert v1.status_code == 404 and json.loads(v1.content)["error"] == "NOT_FOUND"


def _forged(token: str, cursor: object) -> str:
    """``token`` with its cursor replaced (tokens are base64 JSON ``[cursor, fingerprint]``)."""
    _, fingerprint = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    text = json.dumps([cursor, fingerprint]).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor", [[], [1e300], [2**70], [None, None, None], [True, "k"], "text", ["\ud800"]]
)
def test_edited_page_tokens_are_400_on_every_listing(client: httpx.Client, cursor: object) -> None:
    for key in ("a", "b"):
        client.post(entries_url("S"), params={"id": key}, json={"value": 1})
        client.post(entry_url("S", "a", suffix=":increment"), json={"amount": 1})
        client.post(ordered_url("O"), params={"id": key}, json={"value": 1})
        client.post(V1_ENTRY, params={"datastoreName": "V", "entryKey": key}, json=1)
        client.post(V1_ENTRY, params={"datastoreName": "V", "entryKey": "a"}, json=2)
    v2_next = ("maxPageSize", "pageToken", "nextPageToken")
    v1_next = ("limit", "cursor", "nextPageCursor")
    listings: list[tuple[str, dict[str, str], tuple[str, str, str]]] = [
        ("/cloud/v2/universes/1/data-stores", {}, v2_next),
        (entries_url("S"), {}, v2_next),
        (entry_url("S", "a", suffix=":listRevisions"), {}, v2_next),
        (ordered_url("O"), {}, v2_next),
        (ordered_url("O", v1=True), {}, ("max_page_size", "page_token", "nextPageToken")),
        (V1, {}, v1_next),
        (f"{V1}/datastore/entries", {"datastoreName": "V"}, v1_next),
        (f"{V1_ENTRY}/versions", {"datastoreName": "V", "entryKey": "a"}, v1_next),
    ]
    for url, params, (size, token_name, next_name) in listings:
        first = client.get(url, params={**params, size: "1"})
        token = first.json()[next_name]
        assert token, url
        forged = _forged(token, cursor)
        answer = client.get(url, params={**params, size: "1", token_name: forged})
        assert answer.status_code == 400, (url, answer.text)
