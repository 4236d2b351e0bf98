"""Request shapes third-party Open Cloud clients send (rblx-open-cloud, openblox), replayed with
plain httpx: each test pins one incompatibility found by running those clients against
``dsgit emulator serve`` (see docs/emulator.md, Compatibility)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsgit.emulator import Emulator
from dsgit.emulator.clock import format_time, parse_time, to_ticks
from dsgit.emulator.params import KNOWN_NAMES, canonical_query
from openapi_check import SPEC_DIR, SPEC_FILES

from .helpers import V1, V1_ORDERED, V2, entries_url, entry_url, ordered_url, store_url

ENTRY = f"{V1}/datastore/entries/entry"


def md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def v1_set(client: httpx.Client, key: str, value: object, **params: str) -> httpx.Response:
    body = json.dumps(value).encode()
    return client.post(
        ENTRY,
        params={"datastoreName": "S", "entryKey": key, **params},
        content=body,
        headers={"content-type": "application/json", "content-md5": md5(body)},
    )


# --- data stores listing (rblx-open-cloud: DataStore(..., entry["state"], ...)) ----------------
def test_listed_data_stores_carry_state_and_create_time(client: httpx.Client) -> None:
    assert v1_set(client, "k", 1).status_code == 200
    params = {"maxPageSize": "100", "showDeleted": "False"}  # Python's str(False)
    listed = client.get(f"{V2}/data-stores", params=params).json()["dataStores"]
    assert [(s["id"], s["state"]) for s in listed] == [("S", "ACTIVE")]
    assert listed[0]["createTime"].endswith("Z")
    client.delete(store_url("S"))
    shown = client.get(f"{V2}/data-stores", params={"showDeleted": "True"}).json()["dataStores"]
    assert shown[0]["state"] == "DELETED" and "expireTime" in shown[0]


# --- query parameter spellings ------------------------------------------------------------------
def test_v1_parameter_names_match_in_any_letter_case(client: httpx.Client) -> None:
    body = b'{"a": 1}'
    response = client.post(
        ENTRY, params={"DatastoreName": "S", "EntryKey": "k", "Scope": "sc"}, content=body
    )
    assert response.status_code == 200
    got = client.get(ENTRY, params={"datastorename": "S", "entrykey": "k", "SCOPE": "sc"})
    assert got.status_code == 200 and got.json() == {"a": 1}
    listed = client.get(f"{V1}/datastore/entries", params={"datastore_name": "S", "AllScopes": "1"})
    assert listed.json()["keys"] == [{"scope": "sc", "key": "k"}]


def test_v2_snake_case_and_nonstandard_page_parameters(client: httpx.Client) -> None:
    for key in ("a", "b", "c"):
        client.post(entries_url("S"), params={"id": key}, json={"value": 1})
    first = client.get(entries_url("S"), params={"max_page_size": "2"}).json()
    assert [e["id"] for e in first["dataStoreEntries"]] == ["a", "b"]
    token = first["nextPageToken"]
    # the v2 name, its snake_case form, rblx-open-cloud's nextPageToken= and v1's cursor=
    for name in ("pageToken", "page_token", "nextPageToken", "cursor"):
        page = client.get(entries_url("S"), params={"maxPageSize": "2", name: token}).json()
        assert [e["id"] for e in page["dataStoreEntries"]] == ["c"], name
    limited = client.get(entries_url("S"), params={"limit": "1"}).json()
    assert len(limited["dataStoreEntries"]) == 1 and "nextPageToken" in limited
    patched = client.patch(
        entry_url("S", "new"), params={"allow_missing": "true"}, json={"value": 2}
    )
    assert patched.status_code == 200


def test_v1_accepts_v2_page_parameter_names(client: httpx.Client) -> None:
    for key in ("a", "b", "c"):
        assert v1_set(client, key, 1).status_code == 200
    first = client.get(f"{V1}/datastore/entries", params={"datastoreName": "S", "maxPageSize": "2"})
    cursor = first.json()["nextPageCursor"]
    assert [k["key"] for k in first.json()["keys"]] == ["a", "b"] and cursor
    second = client.get(
        f"{V1}/datastore/entries",
        params={"datastoreName": "S", "maxPageSize": "2", "pageToken": cursor},
    )
    assert [k["key"] for k in second.json()["keys"]] == ["c"]


def test_canonical_query_first_value_wins_and_keeps_unknown_names() -> None:
    pairs = [("Page_Token", "t1"), ("pageToken", "t2"), ("x-custom", "v"), ("LIMIT", "5")]
    assert canonical_query(pairs) == {
        "pageToken": "t1",
        "cursor": "t1",
        "x-custom": "v",
        "limit": "5",
        "maxPageSize": "5",
    }
    both = canonical_query([("cursor", "c"), ("pageToken", "p")])
    assert both == {"cursor": "c", "pageToken": "p"}


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["maxPageSize", "pageToken", "showDeleted", "datastoreName", "entryKey"]),
    st.lists(st.booleans(), min_size=20, max_size=20),
    st.booleans(),
)
def test_any_case_or_snake_spelling_maps_to_the_spec_name(
    name: str, upper: list[bool], snake: bool
) -> None:
    spelled = "".join(
        ("_" + c.lower() if snake and c.isupper() else c) for c in name
    )  # camelCase -> snake_case
    spelled = "".join(c.upper() if up else c.lower() for c, up in zip(spelled, upper, strict=False))
    assert canonical_query([(spelled, "v")])[name] == "v"


# --- times as clients format them -------------------------------------------------------------
def test_revision_filter_with_naive_and_offset_times(client: httpx.Client) -> None:
    client.post(entries_url("S"), params={"id": "k"}, json={"value": 1})
    url = entry_url("S", "k", suffix=":listRevisions")
    filters = (
        # rblx-open-cloud with naive datetimes: datetime.isoformat() has no offset
        "revision_create_time >= 2020-01-01T00:00:00 && "
        "revision_create_time <= 2100-01-01T00:00:00",
        # rblx-open-cloud with aware datetimes (microseconds, +00:00)
        "revision_create_time >= 2020-01-01T00:00:00.123456+00:00",
        # openblox: Date.toISOString(), bounds in the other order
        "revision_create_time <= 2100-01-01T00:00:00.000Z && "
        "revision_create_time >= 2020-01-01T00:00:00.000Z",
    )
    for text in filters:
        response = client.get(url, params={"maxPageSize": "100", "filter": text})
        assert response.status_code == 200, text
        assert len(response.json()["dataStoreEntries"]) == 1, text
    empty = client.get(url, params={"filter": "revision_create_time <= 2001-01-01T00:00:00"})
    assert empty.json()["dataStoreEntries"] == []


def test_point_in_time_read_with_offset_and_z(client: httpx.Client) -> None:
    client.post(entries_url("S"), params={"id": "k"}, json={"value": 1})
    # rblx-open-cloud builds latest:{isoformat().split('.')[0]}Z: a whole-second aware time
    # keeps its +00:00 and gets a Z appended. Before the entry existed: 404, not 400.
    before = client.get(entry_url("S", "k", scope=None) + "@latest:2001-01-01T00:00:00+00:00Z")
    assert before.status_code == 404
    now = client.get(entry_url("S", "k", scope=None) + "@latest:2024-07-22T19:40:36+00:00Z")
    assert now.status_code == 200 and now.json()["value"] == 1


def test_v1_version_window_with_naive_and_space_offset_times(client: httpx.Client) -> None:
    assert v1_set(client, "k", 1).status_code == 200
    url = f"{ENTRY}/versions"
    base = {"datastoreName": "S", "entryKey": "k"}
    for start, end in (
        ("2020-01-01T00:00:00", "2100-01-01T00:00:00"),
        # an unencoded + in a query string arrives as a space
        ("2020-01-01T00:00:00 00:00", "2100-01-01T00:00:00 00:00"),
    ):
        target = f"{url}?datastoreName=S&entryKey=k&startTime={start}&endTime={end}".replace(
            " ", "+"
        )
        response = client.get(target)
        assert response.status_code == 200, start
        assert len(response.json()["versions"]) == 1
    assert client.get(url, params={**base, "startTime": "yesterday"}).status_code == 400


@settings(max_examples=60, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2200, 1, 1),
    ),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_times_parse_in_every_spelling_clients_use(moment: datetime, offset_minutes: int) -> None:
    utc = moment.replace(tzinfo=UTC)
    expected = to_ticks(utc)
    assert parse_time(moment.isoformat()) == expected  # naive: UTC
    assert parse_time(utc.isoformat()) == expected  # +00:00
    assert parse_time(format_time(expected)) == expected  # 7 digits, Z
    shifted = utc.astimezone(timezone(timedelta(minutes=offset_minutes)))
    assert parse_time(shifted.isoformat()) == expected
    assert parse_time(shifted.isoformat().replace("+", " ")) == expected
    if shifted.microsecond == 0:
        assert parse_time(shifted.isoformat() + "Z") == expected


# --- ordered data stores ------------------------------------------------------------------------
@pytest.mark.parametrize("v1", [True, False])
def test_ordered_create_of_an_existing_key_says_entry_already_exists(
    client: httpx.Client, v1: bool
) -> None:
    url = ordered_url("Board", v1=v1)
    assert client.post(url, params={"id": "carol"}, json={"value": 5}).status_code == 200
    again = client.post(url, params={"id": "carol"}, json={"value": 5})
    # rblx-open-cloud compares the message to raise PreconditionFailed
    assert again.status_code == 400 and again.json()["message"] == "Entry already exists."


def test_ordered_v1_snake_case_list_parameters(client: httpx.Client) -> None:
    url = f"{V1_ORDERED}/Board/scopes/global/entries"
    for name, value in (("a", 10), ("b", 30), ("c", 20)):
        client.patch(f"{url}/{name}", params={"allow_missing": "True"}, json={"value": value})
    page = client.get(url, params={"max_page_size": "2", "order_by": "desc"}).json()
    assert [e["id"] for e in page["entries"]] == ["b", "c"]
    rest = client.get(
        url, params={"max_page_size": "2", "order_by": "desc", "page_token": page["nextPageToken"]}
    ).json()
    assert [e["id"] for e in rest["entries"]] == ["a"]


def test_numbers_sent_as_json_strings(client: httpx.Client) -> None:
    incremented = client.post(entry_url("S", "n", suffix=":increment"), json={"amount": "5"})
    assert incremented.status_code == 200 and incremented.json()["value"] == 5
    created = client.post(ordered_url("Board"), params={"id": "p"}, json={"value": "12"})
    assert created.status_code == 200 and created.json()["value"] == 12
    bumped = client.post(ordered_url("Board", key="p") + ":increment", json={"amount": "-2"})
    assert bumped.json()["value"] == 10
    assert client.post(ordered_url("Board"), params={"id": "q"}, json={"value": "x"}).is_error
    fractional = client.post(entry_url("S", "n", suffix=":increment"), json={"amount": "1.5"})
    assert fractional.status_code == 400


# --- paths ------------------------------------------------------------------------------------
def test_trailing_slash_is_ignored_except_after_entries(emu: Emulator) -> None:
    # a plain client: the schema check knows only the spec's spellings of the paths
    with httpx.Client(transport=emu.transport(), base_url="http://emulator.test") as client:
        client.post(entries_url("S"), params={"id": "k"}, json={"value": 1})
        assert client.get(f"{V2}/data-stores/").json()["dataStores"][0]["id"] == "S"
        assert client.get(entry_url("S", "k") + "/").json()["value"] == 1
        got = client.get(f"{ENTRY}/", params={"datastoreName": "S", "entryKey": "k"})
        assert got.status_code == 200 and got.json() == 1
        # entries/ names an empty key: an error, never the collection
        assert client.get(entries_url("S") + "/").status_code in (400, 404)


def test_unencoded_names_as_clients_build_them(client: httpx.Client) -> None:
    """openblox and rblx-open-cloud put names into paths without percent-encoding: spaces
    and Unicode are encoded by the HTTP stack, ``/`` and ``@`` stay literal."""
    assert v1_set(client, "user/45348281", {"a": 1}, scope="season 1").status_code == 200
    assert v1_set(client, "ünï", 2).status_code == 200
    path = f"{V2}/data-stores/S/scopes/season%201/entries/user/45348281@latest"
    assert client.get(path).json()["value"] == {"a": 1}
    assert (
        client.get(f"{V2}/data-stores/S/scopes/global/entries/%C3%BCn%C3%AF@latest").json()["value"]
        == 2
    )
    ordered = f"{V1_ORDERED}/Top%20Players/scopes/global/entries"
    assert client.post(ordered, params={"id": "user/7"}, json={"value": 3}).status_code == 200
    assert client.post(f"{ordered}/user/7:increment", json={"amount": 4}).json()["value"] == 7
    assert client.get(f"{ordered}/user/7").json()["id"] == "user/7"


def test_openblox_v1_set_shape(client: httpx.Client) -> None:
    """openblox: JSON body as text, content-md5 of it, userids as ``[1,2]`` with no spaces,
    a stray ``x-csrf-token`` header and ``application/json`` on every request."""
    body = json.dumps({"k": "ünï"}, ensure_ascii=False, separators=(",", ":")).encode()
    response = client.post(
        ENTRY,
        params={"datastoreName": "Open Blox", "entryKey": "a@b"},
        content=body,
        headers={
            "content-type": "application/json",
            "content-md5": md5(body),
            "roblox-entry-attributes": '{"a":"b"}',
            "roblox-entry-userids": "[45348281,2]",
            "x-csrf-token": "undefined",
        },
    )
    assert response.status_code == 200 and response.json()["contentLength"] == len(body)
    got = client.get(
        ENTRY,
        params={"datastoreName": "Open Blox", "entryKey": "a@b"},
        headers={"content-type": "application/json"},
    )
    assert got.json() == {"k": "ünï"}
    assert got.headers["content-md5"] == md5(got.content)
    assert json.loads(got.headers["roblox-entry-userids"]) == [45348281, 2]
    deleted = client.delete(ENTRY, params={"datastoreName": "Open Blox", "entryKey": "a@b"})
    assert deleted.status_code == 204 and deleted.content == b""


# --- bodies and auth ----------------------------------------------------------------------------
def test_create_takes_the_id_from_the_body_when_the_query_has_none(client: httpx.Client) -> None:
    created = client.post(entries_url("S"), json={"id": "from-body", "value": 1})
    assert created.status_code == 200 and created.json()["id"] == "from-body"
    query_wins = client.post(entries_url("S"), params={"id": "q"}, json={"id": "b", "value": 1})
    assert query_wins.json()["id"] == "q"
    ordered = client.post(ordered_url("Board"), json={"id": "p", "value": 1})
    assert ordered.status_code == 200 and ordered.json()["id"] == "p"
    assert client.post(entries_url("S"), json={"value": 1}).status_code == 400


def test_json_bodies_may_start_with_a_utf8_bom(client: httpx.Client) -> None:
    bom = b"\xef\xbb\xbf"
    created = client.post(entries_url("S"), params={"id": "k"}, content=bom + b'{"value": 1}')
    assert created.status_code == 200 and created.json()["value"] == 1
    body = bom + b'{"a": 1}'
    response = client.post(
        ENTRY,
        params={"datastoreName": "S", "entryKey": "v1"},
        content=body,
        headers={"content-md5": md5(body)},  # the checksum covers the bytes as sent
    )
    assert response.status_code == 200
    assert client.get(ENTRY, params={"datastoreName": "S", "entryKey": "v1"}).json() == {"a": 1}


def test_bearer_authorization_is_checked_like_an_api_key() -> None:
    canary = "canary-key-7f3e"
    emulator = Emulator(api_keys={canary: frozenset({"*"})})
    try:
        with httpx.Client(transport=emulator.transport(), base_url="http://e.test") as client:
            url = entries_url("S")
            bearer = {"authorization": f"Bearer {canary}"}
            assert client.get(url, headers=bearer).status_code == 200
            assert client.get(url, headers={"x-api-key": canary}).status_code == 200
            refused = client.get(url, headers={"authorization": "Bearer wrong"})
            assert refused.status_code == 401 and canary not in refused.text
            assert client.get(url, headers={"authorization": f"Basic {canary}"}).status_code == 401
            assert client.get(url).status_code == 401
    finally:
        emulator.close()


# --- the spec's own parameters ------------------------------------------------------------------
def _spec_query_parameters() -> set[str]:
    """Every query parameter the data store operations of the OpenAPI files declare."""
    names: set[str] = set()
    for file in SPEC_FILES:
        spec = json.loads((SPEC_DIR / file).read_text(encoding="utf-8"))
        shared = spec.get("components", {}).get("parameters", {})
        for path, item in spec["paths"].items():
            if "configs" in path:
                continue  # configs match their names case-insensitively on their own
            for method, operation in item.items():
                if not isinstance(operation, dict) or method == "parameters":
                    continue
                for declared in operation.get("parameters", []):
                    ref = declared.get("$ref")
                    parameter = shared[ref.rsplit("/", 1)[-1]] if ref else declared
                    if parameter["in"] == "query":
                        names.add(parameter["name"])
    return names


def test_every_spec_query_parameter_keeps_a_spelling_the_handlers_read() -> None:
    names = _spec_query_parameters()
    assert {"maxPageSize", "max_page_size", "datastoreName", "allow_missing"} <= names
    for name in names:
        canonical = next(iter(canonical_query([(name, "v")])))
        assert canonical in KNOWN_NAMES, name
        # the same name in camelCase, snake_case and any letter case lands in the same place
        for variant in (name.upper(), name.lower(), name.replace("_", "")):
            assert next(iter(canonical_query([(variant, "v")]))) == canonical, variant
