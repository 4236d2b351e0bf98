"""v1 standard data stores: headers, checksums, preconditions, and the state shared with v2."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx

from .helpers import V1, entries_url, entry_url

ENTRY = f"{V1}/datastore/entries/entry"
OFFSET_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}\+00:00$")


def md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def params(key: str = "k", **extra: str) -> dict[str, str]:
    return {"datastoreName": "S", "entryKey": key, **extra}


def set_entry(
    client: httpx.Client,
    value: bytes,
    key: str = "k",
    headers: dict[str, str] | None = None,
    **extra: str,
) -> httpx.Response:
    return client.post(
        ENTRY,
        params=params(key, **extra),
        content=value,
        headers={"content-type": "application/json", **(headers or {})},
    )


def test_set_then_get_with_headers(client: httpx.Client) -> None:
    written = set_entry(
        client,
        b'{"coins": 5}',
        headers={
            "roblox-entry-userids": "[269323, 7]",
            "roblox-entry-attributes": '{"myAttribute": "myValue"}',
        },
    )
    assert written.status_code == 200
    version = written.json()
    assert set(version) == {
        "version",
        "deleted",
        "contentLength",
        "createdTime",
        "objectCreatedTime",
    }
    assert version["deleted"] is False and version["contentLength"] == len(b'{"coins":5}')
    assert written.headers["content-md5"] == md5(written.content)
    got = client.get(ENTRY, params=params())
    assert got.json() == {"coins": 5}
    assert got.headers["content-md5"] == md5(got.content)
    assert got.headers["roblox-entry-version"] == version["version"]
    assert OFFSET_TIME.match(got.headers["roblox-entry-created-time"])
    assert OFFSET_TIME.match(got.headers["roblox-entry-version-created-time"])
    assert got.headers["roblox-entry-userids"] == "[269323, 7]"
    assert got.headers["roblox-entry-attributes"] == '{"myAttribute": "myValue"}'
    assert got.headers["content-type"].startswith("application/json")


def test_v1_writes_are_v2_revisions_and_back(client: httpx.Client) -> None:
    version = set_entry(client, b"[1,2]", headers={"roblox-entry-userids": "1,2"}).json()["version"]
    v2 = client.get(entry_url("S", "k")).json()
    assert v2["revisionId"] == version and v2["value"] == [1, 2]
    assert v2["users"] == ["users/1", "users/2"]
    patched = client.patch(entry_url("S", "k"), json={"value": "new"}).json()
    v1 = client.get(ENTRY, params=params())
    assert v1.json() == "new" and v1.headers["roblox-entry-version"] == patched["revisionId"]
    assert v1.headers["roblox-entry-userids"] == "[]"
    assert v1.headers["roblox-entry-attributes"] == "{}"


def test_content_md5_is_checked(client: httpx.Client) -> None:
    assert set_entry(client, b"750", headers={"content-md5": md5(b"750")}).status_code == 200
    bad = set_entry(client, b"750", headers={"content-md5": md5(b"751")})
    assert bad.status_code == 400
    assert bad.json()["errorDetails"][0]["datastoreErrorCode"] == "ChecksumMismatch"
    assert set_entry(client, b"not json").status_code == 400


def test_match_version_and_exclusive_create(client: httpx.Client) -> None:
    first = set_entry(client, b"1", exclusiveCreate="true").json()["version"]
    taken = set_entry(client, b"2", exclusiveCreate="True")
    assert taken.status_code == 412 and taken.json() == 1
    assert taken.headers["content-md5"] == md5(taken.content)
    assert taken.headers["roblox-entry-version"] == first
    assert set_entry(client, b"3", matchVersion=first).status_code == 200
    stale = set_entry(client, b"4", matchVersion=first)
    assert stale.status_code == 412 and stale.json() == 3
    assert stale.headers["content-md5"] == md5(stale.content)
    absent = set_entry(client, b"5", key="absent", matchVersion=first)
    assert absent.status_code == 412 and absent.headers["content-md5"] == md5(absent.content)
    both = set_entry(client, b"6", matchVersion=first, exclusiveCreate="true")
    assert both.status_code == 400


def test_delete_is_204_and_tombstone_reads_204(client: httpx.Client) -> None:
    set_entry(client, b"1")
    deleted = client.delete(ENTRY, params=params())
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(ENTRY, params=params()).status_code == 204
    assert client.delete(ENTRY, params=params()).status_code == 404
    missing = client.get(ENTRY, params=params("never"))
    assert missing.status_code == 404
    assert missing.json()["errorDetails"][0]["datastoreErrorCode"] == "EntryNotFound"
    assert client.get(entry_url("S", "k")).json()["state"] == "DELETED"
    assert set_entry(client, b"2", exclusiveCreate="true").status_code == 200


def test_increment(client: httpx.Client) -> None:
    first = client.post(f"{ENTRY}/increment", params=params("n", incrementBy="3"))
    assert first.status_code == 200 and first.json() == 3
    assert first.headers["content-md5"] == md5(first.content)
    second = client.post(
        f"{ENTRY}/increment", params=params("n"), headers={"roblox-entry-userids": "[5]"}
    )
    assert second.json() == 4 and second.headers["roblox-entry-userids"] == "[5]"
    set_entry(client, b'"text"', key="t")
    bad = client.post(f"{ENTRY}/increment", params=params("t"))
    assert bad.status_code == 400
    assert bad.json()["errorDetails"][0]["datastoreErrorCode"] == "ExistingValueNotNumeric"


def test_list_keys_scopes_and_cursor(client: httpx.Client) -> None:
    for key in ("a", "b", "c"):
        set_entry(client, b"1", key=key)
    set_entry(client, b"1", key="z", scope="other")
    client.delete(ENTRY, params=params("b"))  # tombstoned keys are still listed in v1
    page = client.get(f"{V1}/datastore/entries", params={"datastoreName": "S", "limit": "2"})
    body = page.json()
    assert body["keys"] == [{"scope": "global", "key": "a"}, {"scope": "global", "key": "b"}]
    rest = client.get(
        f"{V1}/datastore/entries",
        params={"datastoreName": "S", "limit": "2", "cursor": body["nextPageCursor"]},
    )
    assert rest.json() == {"keys": [{"scope": "global", "key": "c"}], "nextPageCursor": ""}
    every = client.get(
        f"{V1}/datastore/entries",
        params={"datastoreName": "S", "allScopes": "true", "prefix": "other/"},
    )
    assert every.json()["keys"] == [{"scope": "other", "key": "z"}]


def test_list_data_stores(client: httpx.Client) -> None:
    for store in ("A", "B"):
        client.post(entries_url(store), params={"id": "k"}, json={"value": 1})
    first = client.get(V1).json()  # limit defaults to 1
    assert [s["name"] for s in first["datastores"]] == ["A"]
    assert first["data"] == first["datastores"] and first["nextPageCursor"]
    rest = client.get(V1, params={"cursor": first["nextPageCursor"], "limit": "5"}).json()
    assert [s["name"] for s in rest["datastores"]] == ["B"] and rest["nextPageCursor"] == ""
    assert client.get(V1, params={"prefix": "B"}).json()["datastores"][0]["name"] == "B"


def test_versions(client: httpx.Client) -> None:
    versions = [set_entry(client, str(i).encode()).json()["version"] for i in range(3)]
    listed = client.get(f"{ENTRY}/versions", params=params()).json()
    assert [v["version"] for v in listed["versions"]] == versions
    assert listed["nextPageCursor"] == ""
    newest = client.get(f"{ENTRY}/versions", params=params(sortOrder="Descending", limit="1"))
    assert newest.json()["versions"][0]["version"] == versions[-1]
    assert newest.json()["nextPageCursor"]
    one = client.get(f"{ENTRY}/versions/version", params=params(versionId=versions[0]))
    assert one.json() == 0 and one.headers["roblox-entry-version"] == versions[0]
    missing = client.get(f"{ENTRY}/versions/version", params=params(versionId="nope"))
    assert missing.status_code == 404
    bad = client.get(f"{ENTRY}/versions", params=params(sortOrder="Sideways"))
    assert bad.status_code == 400


def test_v1_argument_errors(client: httpx.Client) -> None:
    no_store = client.get(ENTRY, params={"entryKey": "k"})
    assert no_store.status_code == 400
    assert no_store.json()["errorDetails"][0]["datastoreErrorCode"] == "InvalidDataStoreName"
    assert client.get(ENTRY, params={"datastoreName": "S"}).status_code == 400
    long_key = set_entry(client, b"1", key="k" * 51)
    assert long_key.json()["errorDetails"][0]["datastoreErrorCode"] == "InvalidEntryKey"
    bad_users = set_entry(client, b"1", headers={"roblox-entry-userids": "[a]"})
    assert bad_users.status_code == 400
    bad_attrs = set_entry(client, b"1", headers={"roblox-entry-attributes": "{"})
    assert bad_attrs.status_code == 400
    assert client.get("/datastores/v1/universes/x/standard-datastores").status_code == 400
