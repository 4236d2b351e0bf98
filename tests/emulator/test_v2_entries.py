"""v2 standard entries: shapes, revisions, etags, soft delete, listing, names, limits."""

from __future__ import annotations

import re

import httpx
import pytest

from .conftest import FakeClock
from .helpers import entries_url, entry_url, q, store_url

REVISION = re.compile(r"^[0-9A-F]{16}\.(\d{10})\.[0-9A-F]{16}\.01$")
TIME7 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$")


def create(
    client: httpx.Client,
    key: str,
    value: object,
    scope: str | None = "global",
    store: str = "S",
    **extra: object,
) -> httpx.Response:
    response = client.post(
        entries_url(store, scope), params={"id": key}, json={"value": value, **extra}
    )
    assert response.status_code == 200, response.text
    return response


def test_created_entry_carries_every_field_in_the_recorded_shape(client: httpx.Client) -> None:
    body = create(client, "k", {"a": 1}, users=["users/45348281"], attributes={"x": "y"}).json()
    assert list(body) == [
        "path",
        "createTime",
        "revisionId",
        "revisionCreateTime",
        "state",
        "etag",
        "value",
        "id",
        "users",
        "attributes",
    ]
    assert body["path"] == "universes/1/data-stores/S/scopes/global/entries/k"
    assert body["state"] == "ACTIVE" and body["id"] == "k" and body["value"] == {"a": 1}
    assert body["users"] == ["users/45348281"] and body["attributes"] == {"x": "y"}
    assert body["etag"] == body["revisionId"]
    match = REVISION.match(body["revisionId"])
    assert match is not None and match.group(1) == "0000000001"
    assert TIME7.match(body["createTime"]) and TIME7.match(body["revisionCreateTime"])


def test_empty_metadata_is_empty_list_and_object(client: httpx.Client) -> None:
    body = create(client, "k", 5).json()
    assert body["users"] == [] and body["attributes"] == {}


def test_path_follows_the_request_form(client: httpx.Client) -> None:
    create(client, "k", 1)
    scoped = client.get(entry_url("S", "k")).json()
    plain = client.get(entry_url("S", "k", scope=None)).json()
    assert scoped["path"] == "universes/1/data-stores/S/scopes/global/entries/k"
    assert plain["path"] == "universes/1/data-stores/S/entries/k"
    assert scoped["revisionId"] == plain["revisionId"]


def test_create_twice_is_400_and_missing_id_is_400(client: httpx.Client) -> None:
    create(client, "k", 1)
    again = client.post(entries_url("S"), params={"id": "k"}, json={"value": 2})
    assert again.status_code == 400 and again.json()["code"] == "INVALID_ARGUMENT"
    assert client.post(entries_url("S"), json={"value": 2}).status_code == 400


def test_update_replaces_the_whole_entry_and_clears_omitted_metadata(client: httpx.Client) -> None:
    create(client, "k", 1, users=["users/1"], attributes={"a": 1})
    body = client.patch(entry_url("S", "k"), json={"value": 2}).json()
    assert body["value"] == 2 and body["users"] == [] and body["attributes"] == {}
    assert REVISION.match(body["revisionId"]).group(1) == "0000000002"  # type: ignore[union-attr]


def test_update_missing_is_404_unless_allow_missing(client: httpx.Client) -> None:
    assert client.patch(entry_url("S", "k"), json={"value": 1}).status_code == 404
    for flag in ("true", "True", "TRUE"):
        response = client.patch(
            entry_url("S", f"k{flag}"), params={"allowMissing": flag}, json={"value": 1}
        )
        assert response.status_code == 200


def test_update_requires_a_value(client: httpx.Client) -> None:
    create(client, "k", 1)
    assert client.patch(entry_url("S", "k"), json={"users": []}).status_code == 400
    assert client.patch(entry_url("S", "k"), content=b"not json").status_code == 400


def test_etag_precondition(client: httpx.Client) -> None:
    etag = create(client, "k", 1).json()["etag"]
    ok = client.patch(entry_url("S", "k"), json={"value": 2, "etag": etag})
    assert ok.status_code == 200
    stale = client.patch(entry_url("S", "k"), json={"value": 3, "etag": etag})
    assert stale.status_code == 409 and stale.json()["code"] == "ABORTED"
    assert client.get(entry_url("S", "k")).json()["value"] == 2
    missing = client.patch(
        entry_url("S", "new"), params={"allowMissing": "true"}, json={"value": 1, "etag": etag}
    )
    assert missing.status_code == 409
    assert client.get(entry_url("S", "new")).status_code == 404


def test_soft_delete_keeps_history_and_is_permanent_after_30_days(
    client: httpx.Client, clock: FakeClock
) -> None:
    create(client, "k", 1)
    deleted = client.delete(entry_url("S", "k"))
    assert deleted.status_code == 200 and deleted.json() == {}
    assert client.delete(entry_url("S", "k")).status_code == 404
    body = client.get(entry_url("S", "k")).json()
    assert body["state"] == "DELETED" and body["value"] is None
    revisions = client.get(entry_url("S", "k", suffix=":listRevisions")).json()["dataStoreEntries"]
    assert [r["state"] for r in revisions] == ["ACTIVE", "DELETED"]
    listed = client.get(entries_url("S")).json()["dataStoreEntries"]
    assert listed == []
    shown = client.get(entries_url("S"), params={"showDeleted": "True"}).json()
    assert [e["id"] for e in shown["dataStoreEntries"]] == ["k"]
    clock.advance(days=30)
    assert client.get(entry_url("S", "k")).status_code == 404
    assert client.get(entries_url("S"), params={"showDeleted": "true"}).json() == {
        "dataStoreEntries": []
    }
    recreated = create(client, "k", 9).json()
    assert REVISION.match(recreated["revisionId"]).group(1) == "0000000001"  # type: ignore[union-attr]


def test_delete_absent_is_404(client: httpx.Client) -> None:
    response = client.delete(entry_url("S", "nope"))
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"


def test_create_after_soft_delete_continues_the_revision_count(client: httpx.Client) -> None:
    create(client, "k", 1)
    client.delete(entry_url("S", "k"))
    body = create(client, "k", 2).json()
    assert REVISION.match(body["revisionId"]).group(1) == "0000000003"  # type: ignore[union-attr]


def test_increment(client: httpx.Client) -> None:
    first = client.post(entry_url("S", "n", suffix=":increment"), json={"amount": 5})
    assert first.status_code == 200 and first.json()["value"] == 5
    again = client.post(
        entry_url("S", "n", suffix=":increment"), json={"amount": -2, "users": ["users/3"]}
    ).json()
    assert again["value"] == 3 and again["users"] == ["users/3"]
    create(client, "text", "abc")
    bad = client.post(entry_url("S", "text", suffix=":increment"), json={"amount": 1})
    assert bad.status_code == 400
    fraction = client.post(entry_url("S", "n", suffix=":increment"), json={"amount": 1.5})
    assert fraction.status_code == 400
    assert client.post(entry_url("S", "n", suffix=":increment"), json={}).status_code == 400


def test_revision_reads(client: httpx.Client, clock: FakeClock) -> None:
    first = create(client, "k", "one").json()
    clock.advance(minutes=5)
    middle = clock.now
    clock.advance(minutes=5)
    second = client.patch(entry_url("S", "k"), json={"value": "two"}).json()
    at_first = client.get(entry_url("S", "k", suffix=f"@{first['revisionId']}")).json()
    assert at_first["value"] == "one"
    assert at_first["id"] == f"k@{first['revisionId']}"
    latest = client.get(entry_url("S", "k", suffix="@latest")).json()
    assert latest["value"] == "two" and latest["revisionId"] == second["revisionId"]
    stamp = middle.strftime("%Y-%m-%dT%H:%M:%SZ")
    at_time = client.get(entry_url("S", "k", suffix=f"@latest:{stamp}")).json()
    assert at_time["value"] == "one"
    before = client.get(entry_url("S", "k", suffix="@latest:2000-01-01T00:00:00Z"))
    assert before.status_code == 404
    future = client.get(entry_url("S", "k", suffix="@latest:2999-01-01T00:00:00Z"))
    assert future.status_code == 400
    unknown = client.get(
        entry_url("S", "k", suffix="@08DC000000000000.0000000009.08DC000000000000.01")
    )
    assert unknown.status_code == 404


def test_key_containing_at_is_read_with_at_latest(client: httpx.Client) -> None:
    create(client, "my@entry", 1)
    assert client.get(entry_url("S", "my@entry", suffix="@latest")).json()["value"] == 1
    assert client.get(entry_url("S", "my@entry")).status_code == 404  # "entry" read as revision


def test_list_revisions_pagination_and_filter(client: httpx.Client, clock: FakeClock) -> None:
    create(client, "k", 0)
    for step in range(1, 12):
        clock.advance(minutes=1)
        client.patch(entry_url("S", "k"), json={"value": step})
    url = entry_url("S", "k", suffix=":listRevisions")
    page = client.get(url).json()
    assert len(page["dataStoreEntries"]) == 10 and "nextPageToken" in page
    rest = client.get(url, params={"pageToken": page["nextPageToken"]}).json()
    assert len(rest["dataStoreEntries"]) == 2 and "nextPageToken" not in rest
    item = page["dataStoreEntries"][0]
    assert set(item) == {
        "path",
        "createTime",
        "revisionId",
        "revisionCreateTime",
        "state",
        "etag",
        "id",
    }
    assert item["id"] == f"k@{item['revisionId']}" and item["path"].endswith(item["id"])
    times = [e["revisionCreateTime"] for e in page["dataStoreEntries"]]
    window = f"revision_create_time >= {times[2]} && revision_create_time <= {times[4]}"
    filtered = client.get(url, params={"filter": window}).json()["dataStoreEntries"]
    assert [e["revisionCreateTime"] for e in filtered] == times[2:5]
    huge = client.get(url, params={"maxPageSize": 1000}).json()["dataStoreEntries"]
    assert len(huge) == 12
    assert client.get(url, params={"filter": "value > 3"}).status_code == 400
    changed = client.get(url, params={"pageToken": page["nextPageToken"], "filter": window})
    assert changed.status_code == 400
    assert client.get(entry_url("S", "absent", suffix=":listRevisions")).status_code == 404


def test_list_entries_pagination_prefix_and_sizes(client: httpx.Client) -> None:
    for index in range(30):
        create(client, f"player_{index:02d}", index)
    create(client, "other", 0)
    url = entries_url("S")
    default = client.get(url).json()
    assert len(default["dataStoreEntries"]) == 10
    keys: list[str] = []
    token = None
    while True:
        params = {"maxPageSize": 7, "filter": 'id.startsWith("player_")'}
        if token:
            params["pageToken"] = token
        page = client.get(url, params=params).json()
        keys.extend(e["id"] for e in page["dataStoreEntries"])
        token = page.get("nextPageToken")
        if not token:
            break
    assert keys == [f"player_{i:02d}" for i in range(30)]
    item = default["dataStoreEntries"][0]
    assert set(item) == {"path", "id"}
    assert len(client.get(url, params={"maxPageSize": 999}).json()["dataStoreEntries"]) == 31
    assert client.get(url, params={"filter": ""}).status_code == 200
    assert client.get(url, params={"filter": "id == 'x'"}).status_code == 400
    assert client.get(url, params={"maxPageSize": -1}).status_code == 400
    assert client.get(url, params={"pageToken": "garbage!"}).status_code == 400
    assert client.get(url, params={"unknownParam": "1"}).status_code == 200


def test_scopes_and_wildcard_listing(client: httpx.Client) -> None:
    create(client, "a", 1, scope="global")
    create(client, "b", 2, scope="season 2")
    create(client, "c", 3, scope=None)  # no scope segment: the global scope
    assert client.get(entry_url("S", "c")).json()["value"] == 3
    season = client.get(entries_url("S", "season 2")).json()["dataStoreEntries"]
    assert season == [{"path": "universes/1/data-stores/S/scopes/season 2/entries/b", "id": "b"}]
    everything = client.get(entries_url("S", "-")).json()["dataStoreEntries"]
    assert everything == [
        {"path": "universes/1/data-stores/S/scopes/global/entries/a", "id": "a"},
        {"path": "universes/1/data-stores/S/scopes/global/entries/c", "id": "c"},
        {"path": "universes/1/data-stores/S/scopes/season 2/entries/b", "id": "b"},
    ]
    plain = client.get(entries_url("S", None)).json()["dataStoreEntries"]
    assert [e["path"] for e in plain] == [
        "universes/1/data-stores/S/entries/a",
        "universes/1/data-stores/S/entries/c",
    ]
    assert client.get(entry_url("S", "a", scope="-")).status_code == 400


@pytest.mark.parametrize(
    ("store", "key"),
    [
        ("DATA/12345", "1"),
        ("S", "user/45348281"),
        ("with space", "key with space"),
        ("ünïcödé", "ключ🙂"),
        ("S", "a:b"),
        ("S", "100%"),
        ("S", "plus+sign"),
    ],
)
def test_names_with_reserved_characters_round_trip(
    client: httpx.Client, store: str, key: str
) -> None:
    body = create(client, key, "v", store=store).json()
    assert body["id"] == key
    assert client.get(entry_url(store, key)).json()["value"] == "v"
    listed = client.get(entries_url(store)).json()["dataStoreEntries"]
    assert [e["id"] for e in listed] == [key]
    assert (
        client.post(entry_url(store, key, suffix=":increment"), json={"amount": 1}).status_code
        == 400
    )


def test_unencoded_slashes_are_accepted(client: httpx.Client) -> None:
    create(client, "user/7", "v", store="DATA/1")
    raw = "/cloud/v2/universes/1/data-stores/DATA/1/scopes/global/entries/user/7"
    assert client.get(raw).json()["value"] == "v"


def test_limits(client: httpx.Client) -> None:
    url = entries_url("S")
    assert client.post(url, params={"id": "k" * 50}, json={"value": 1}).status_code == 200
    assert client.post(url, params={"id": "k" * 51}, json={"value": 1}).status_code == 400
    assert (
        client.post(entries_url("s" * 51), params={"id": "k"}, json={"value": 1}).status_code == 400
    )
    assert (
        client.post(entries_url("S", "c" * 51), params={"id": "k"}, json={"value": 1}).status_code
        == 400
    )
    big = "x" * (4_194_304 - 2)  # the quotes make it exactly the limit once JSON-encoded
    assert client.post(url, params={"id": "big"}, json={"value": big}).status_code == 200
    over = client.post(url, params={"id": "big2"}, json={"value": big + "x"})
    assert over.status_code == 400
    assert client.post(url, params={"id": "n"}, json={"value": None}).status_code == 400
    attrs_ok = {"a": "v" * 250}
    assert (
        client.post(url, params={"id": "a1"}, json={"value": 1, "attributes": attrs_ok}).status_code
        == 200
    )
    for attributes in ({"a": "v" * 251}, {"k" * 51: 1}, {f"k{i}": "v" * 40 for i in range(8)}, [1]):
        response = client.post(
            url, params={"id": "a2"}, json={"value": 1, "attributes": attributes}
        )
        assert response.status_code == 400, attributes
    users_ok = [f"users/{i}" for i in range(4)]
    assert (
        client.post(url, params={"id": "u1"}, json={"value": 1, "users": users_ok}).status_code
        == 200
    )
    for users in ([f"users/{i}" for i in range(5)], ["45348281"], ["users/x"], "users/1"):
        response = client.post(url, params={"id": "u2"}, json={"value": 1, "users": users})
        assert response.status_code == 400, users
    assert client.get(entry_url("S", "")).status_code in (400, 404)


def test_writes_to_a_deleted_store_fail(client: httpx.Client) -> None:
    create(client, "k", 1)
    assert client.delete(store_url("S")).status_code == 200
    assert client.get(entry_url("S", "k")).status_code == 404
    assert client.patch(entry_url("S", "k"), json={"value": 2}).status_code == 404
    client.post(f"{store_url('S')}:undelete", json={})
    assert client.get(entry_url("S", "k")).json()["value"] == 1


def test_bad_universe_and_unknown_paths(client: httpx.Client) -> None:
    assert client.get("/cloud/v2/universes/abc/data-stores").status_code == 400
    assert client.get("/cloud/v2/nothing/here").status_code == 404
    assert client.put(entry_url("S", "k"), json={"value": 1}).status_code == 404


def test_quoted_names_are_used_verbatim(client: httpx.Client) -> None:
    create(client, "%41", 1)
    assert client.get(f"{entries_url('S')}/{q('%41')}").json()["id"] == "%41"
    assert client.get(f"{entries_url('S')}/A").status_code == 404


def test_every_operation_without_a_scope_segment(client: httpx.Client) -> None:
    create(client, "k", 1, scope=None)
    updated = client.patch(entry_url("S", "k", scope=None), json={"value": 2}).json()
    assert updated["path"] == "universes/1/data-stores/S/entries/k"
    incremented = client.post(
        entry_url("S", "k", scope=None, suffix=":increment"), json={"amount": 3}
    ).json()
    assert incremented["value"] == 5 and incremented["path"].endswith("/S/entries/k")
    revisions = client.get(entry_url("S", "k", scope=None, suffix=":listRevisions")).json()
    paths = [item["path"] for item in revisions["dataStoreEntries"]]
    assert len(paths) == 3 and all(
        p.startswith("universes/1/data-stores/S/entries/k@") for p in paths
    )
    assert client.delete(entry_url("S", "k", scope=None)).json() == {}
    assert client.get(entry_url("S", "k")).json()["state"] == "DELETED"


def test_hostile_bodies_are_400(client: httpx.Client) -> None:
    deep = b'{"value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = client.post(entries_url("S"), params={"id": "deep"}, content=deep)
    assert response.status_code == 400
    nan = client.post(entries_url("S"), params={"id": "nan"}, content=b'{"value": NaN}')
    assert nan.status_code == 400
    assert client.post(entries_url("S"), params={"id": "list"}, content=b"[1]").status_code == 400
