"""Configs repositories: drafts, publish with draftHash, revisions, restore."""

from __future__ import annotations

import httpx

from .helpers import CONFIGS

REPO = f"{CONFIGS}/DataStoresConfig"


def overwrite(client: httpx.Client, entries: dict[str, object]) -> str:
    response = client.put(f"{REPO}/draft:overwrite", json={"entries": entries})
    assert response.status_code == 200, response.text
    return str(response.json()["draftHash"])


def publish(client: httpx.Client, draft_hash: str, message: str = "m") -> int:
    return publish_to(client, REPO, draft_hash, message)


def publish_to(client: httpx.Client, repo: str, draft_hash: str, message: str = "m") -> int:
    response = client.post(
        f"{repo}/publish",
        json={"draftHash": draft_hash, "message": message, "deploymentStrategy": "Immediate"},
    )
    assert response.status_code == 200, response.text
    return int(response.json()["configVersion"])


def test_empty_repository(client: httpx.Client) -> None:
    assert client.get(REPO).json() == {"metadata": {"configVersion": 0}, "entries": {}}
    draft = client.get(f"{REPO}/draft").json()
    assert draft["entries"] == {} and draft["draftHash"]


def test_overwrite_publish_and_read(client: httpx.Client) -> None:
    draft_hash = overwrite(client, {"user_data_templates": [{"key": "Player_{UserId}"}], "x": 1})
    draft = client.get(f"{REPO}/draft").json()
    assert draft["draftHash"] == draft_hash
    assert draft["entries"]["x"] == {"value": 1}
    wrong = client.post(f"{REPO}/publish", json={"draftHash": "stale"})
    assert wrong.status_code == 409 and "draftHash" in wrong.json()["errors"][0]["message"]
    assert client.post(f"{REPO}/publish", json={}).status_code == 400
    assert publish(client, draft_hash) == 1
    values = client.get(REPO).json()
    assert values == {
        "metadata": {"configVersion": 1},
        "entries": {"user_data_templates": [{"key": "Player_{UserId}"}], "x": 1},
    }
    full = client.get(f"{REPO}/full").json()
    assert full["entries"]["x"]["value"] == 1 and "lastModifiedTime" in full["entries"]["x"]
    assert client.get(f"{REPO}/draft").json()["entries"] == {}
    empty = client.get(f"{REPO}/draft").json()["draftHash"]
    assert client.post(f"{REPO}/publish", json={"draftHash": empty}).status_code == 400


def test_patch_merges_and_null_deletes(client: httpx.Client) -> None:
    publish(client, overwrite(client, {"a": 1, "b": 2}))
    patched = client.patch(f"{REPO}/draft", json={"entries": {"b": None, "c": 3}})
    assert patched.status_code == 200
    entries = client.get(f"{REPO}/draft").json()["entries"]
    assert entries == {"b": {"value": None}, "c": {"value": 3}}
    back = client.patch(f"{REPO}/draft", json={"entries": {"c": None, "b": 2}})
    assert client.get(f"{REPO}/draft").json()["entries"] == {}
    stale = client.patch(f"{REPO}/draft", json={"entries": {"a": 5}, "draftHash": "old"})
    assert stale.status_code == 409
    current = back.json()["draftHash"]
    moved = client.patch(f"{REPO}/draft", json={"entries": {"a": 5}, "draftHash": current})
    assert moved.status_code == 200 and moved.json()["draftHash"] != current
    reset = client.request("DELETE", f"{REPO}/draft", json={})
    assert reset.status_code == 200
    assert client.get(f"{REPO}/draft").json()["entries"] == {}


def test_overwrite_removes_omitted_published_keys(client: httpx.Client) -> None:
    publish(client, overwrite(client, {"a": 1, "b": 2}))
    overwrite(client, {"a": 1})
    assert client.get(f"{REPO}/draft").json()["entries"] == {"b": {"value": None}}


def test_revisions_and_restore(client: httpx.Client) -> None:
    publish(client, overwrite(client, {"a": 1}), "first")
    publish(client, overwrite(client, {"a": 2, "b": True}), "second")
    revisions = client.get(f"{REPO}/revisions").json()["revisions"]
    assert [r["message"] for r in revisions] == ["second", "first"]
    assert revisions[0]["changes"]["a"] == {"before": 1, "after": 2}
    assert revisions[0]["changes"]["b"] == {"before": None, "after": True}
    ascending = client.get(
        f"{REPO}/revisions", params={"sortOrder": "SORT_ORDER_ASCENDING", "maxPageSize": 1}
    )
    assert [r["version"] for r in ascending.json()["revisions"]] == [1]
    skipped = client.get(f"{REPO}/revisions", params={"Skip": 1}).json()["revisions"]
    assert [r["message"] for r in skipped] == ["first"]
    first_id = revisions[1]["revisionId"]
    restored = client.post(f"{REPO}/revisions/{first_id}/restore")
    assert restored.status_code == 200
    assert client.get(f"{REPO}/draft").json()["entries"] == {
        "a": {"value": 1},
        "b": {"value": None},
    }
    publish(client, restored.json()["draftHash"])
    assert client.get(REPO).json()["entries"] == {"a": 1}
    assert client.post(f"{REPO}/revisions/nope/restore").status_code == 404


def test_unknown_repository_and_bad_bodies(client: httpx.Client) -> None:
    assert client.get(f"{CONFIGS}/NotARepo").status_code == 400
    assert client.put(f"{REPO}/draft:overwrite", json={"entries": [1]}).status_code == 400
    assert client.put(f"{REPO}/draft:overwrite", content=b"{").status_code == 400
    bad = client.post(f"{REPO}/publish", json={"draftHash": "x", "deploymentStrategy": "Slow"})
    assert bad.status_code == 400
