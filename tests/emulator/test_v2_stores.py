"""v2 data stores: listing, delete and undelete, snapshots."""

from __future__ import annotations

import re

import httpx

from .conftest import FakeClock
from .helpers import V2, entries_url, store_url

TIME3 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def make_store(client: httpx.Client, name: str) -> None:
    response = client.post(entries_url(name), params={"id": "k"}, json={"value": 1})
    assert response.status_code == 200


def test_list_data_stores_shape_filter_and_pages(client: httpx.Client) -> None:
    for name in ("Bans", "DATA/1", "DATA/2", "Players", "Zeta"):
        make_store(client, name)
    body = client.get(f"{V2}/data-stores").json()
    # Every listed store carries createTime and state (rblx-open-cloud reads entry["state"]).
    assert body["dataStores"][0] == {
        "path": "universes/1/data-stores/Bans",
        "createTime": "2024-07-22T19:40:35.0025200Z",
        "state": "ACTIVE",
        "id": "Bans",
    }
    assert "nextPageToken" not in body
    data = client.get(f"{V2}/data-stores", params={"filter": 'id.startsWith("DATA/")'}).json()
    assert [s["id"] for s in data["dataStores"]] == ["DATA/1", "DATA/2"]
    first = client.get(f"{V2}/data-stores", params={"maxPageSize": 2}).json()
    second = client.get(
        f"{V2}/data-stores", params={"maxPageSize": 2, "pageToken": first["nextPageToken"]}
    ).json()
    assert [s["id"] for s in first["dataStores"] + second["dataStores"]] == [
        "Bans",
        "DATA/1",
        "DATA/2",
        "Players",
    ]


def test_delete_and_undelete_a_data_store(client: httpx.Client, clock: FakeClock) -> None:
    make_store(client, "Old")
    deleted = client.delete(store_url("Old")).json()
    assert deleted["state"] == "DELETED" and deleted["id"] == "Old"
    assert deleted["path"] == "universes/1/data-stores/Old" and "expireTime" in deleted
    again = client.delete(store_url("Old")).json()
    assert again["expireTime"] == deleted["expireTime"]  # already deleted: a no-op
    assert client.get(f"{V2}/data-stores").json()["dataStores"] == []
    shown = client.get(f"{V2}/data-stores", params={"showDeleted": "true"}).json()["dataStores"]
    assert shown == [
        {
            "path": "universes/1/data-stores/Old",
            "createTime": deleted["createTime"],
            "state": "DELETED",
            "expireTime": deleted["expireTime"],
            "id": "Old",
        }
    ]
    restored = client.post(f"{store_url('Old')}:undelete", json={}).json()
    assert restored["state"] == "ACTIVE" and "expireTime" not in restored
    client.delete(store_url("Old"))
    clock.advance(days=30)
    assert client.get(f"{V2}/data-stores", params={"showDeleted": "true"}).json() == {
        "dataStores": []
    }
    assert client.delete(store_url("Old")).status_code == 404
    assert client.post(f"{store_url('Nope')}:undelete").status_code == 404


def test_snapshot_once_per_utc_day(client: httpx.Client, clock: FakeClock) -> None:
    first = client.post(f"{V2}/data-stores:snapshot", json={}).json()
    assert first["newSnapshotTaken"] is True and TIME3.match(first["latestSnapshotTime"])
    again = client.post(f"{V2}/data-stores:snapshot", json={}).json()
    assert again == {"newSnapshotTaken": False, "latestSnapshotTime": first["latestSnapshotTime"]}
    clock.advance(days=1)
    later = client.post(f"{V2}/data-stores:snapshot").json()
    assert later["newSnapshotTaken"] is True
    assert later["latestSnapshotTime"] != first["latestSnapshotTime"]
