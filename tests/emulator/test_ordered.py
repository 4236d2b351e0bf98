"""Ordered data stores, v2 and v1, on one state."""

from __future__ import annotations

import httpx
import pytest

from .helpers import ordered_url


def fill(client: httpx.Client, values: dict[str, int], v1: bool = False) -> None:
    for key, value in values.items():
        response = client.post(ordered_url("P", v1=v1), params={"id": key}, json={"value": value})
        assert response.status_code == 200, response.text


def test_v2_crud(client: httpx.Client) -> None:
    created = client.post(ordered_url("P"), params={"id": "K"}, json={"value": 78}).json()
    assert created == {
        "path": "universes/1/ordered-data-stores/P/scopes/global/entries/K",
        "value": 78,
        "id": "K",
    }
    again = client.post(ordered_url("P"), params={"id": "K"}, json={"value": 1})
    assert again.status_code == 400
    assert client.get(ordered_url("P", key="K")).json()["value"] == 78
    assert client.patch(ordered_url("P", key="K"), json={"value": 10.6}).json()["value"] == 11
    assert client.patch(ordered_url("P", key="new"), json={"value": 1}).status_code == 404
    made = client.patch(
        ordered_url("P", key="new"), params={"allowMissing": "true"}, json={"value": 3}
    )
    assert made.json()["value"] == 3
    assert (
        client.post(ordered_url("P", key="K") + ":increment", json={"amount": 4}).json()["value"]
        == 15
    )
    assert (
        client.post(ordered_url("P", key="fresh") + ":increment", json={"amount": 2}).json()[
            "value"
        ]
        == 2
    )
    assert (
        client.post(ordered_url("P", key="K") + ":increment", json={"amount": 0.5}).status_code
        == 400
    )
    assert client.delete(ordered_url("P", key="K")).json() == {}
    assert client.get(ordered_url("P", key="K")).status_code == 404
    assert client.delete(ordered_url("P", key="K")).status_code == 404
    assert client.post(ordered_url("P"), params={"id": "x"}, json={"value": "a"}).status_code == 400
    assert (
        client.post(ordered_url("P"), params={"id": "x"}, json={"value": 2**63}).status_code == 400
    )


def test_v2_listing_order_range_and_pages(client: httpx.Client) -> None:
    fill(client, {"a": 5, "b": 7, "c": 1, "d": 7, "e": 30, "f": -2})
    url = ordered_url("P")
    ascending = client.get(url).json()["orderedDataStoreEntries"]
    assert [e["id"] for e in ascending] == ["f", "c", "a", "b", "d", "e"]
    keys: list[str] = []
    token = None
    while True:
        params: dict[str, str | int] = {"orderBy": "value desc", "maxPageSize": 4}
        if token:
            params["pageToken"] = token
        page = client.get(url, params=params).json()
        keys += [e["id"] for e in page["orderedDataStoreEntries"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert keys == ["e", "d", "b", "a", "c", "f"]
    ranged = client.get(url, params={"filter": "entry >= 5 && entry <= 7"}).json()
    assert [e["value"] for e in ranged["orderedDataStoreEntries"]] == [5, 7, 7]
    assert client.get(url, params={"orderBy": "", "filter": ""}).status_code == 200
    assert client.get(url, params={"orderBy": "key"}).status_code == 400
    assert client.get(url, params={"filter": "entry > 5"}).status_code == 400


def test_v1_ordered_shares_state_with_v2(client: httpx.Client) -> None:
    fill(client, {"a": 5}, v1=True)
    fill(client, {"b": 9})
    v1_list = client.get(ordered_url("P", v1=True), params={"order_by": "desc"}).json()
    assert v1_list == {
        "entries": [
            {
                "path": "universes/1/orderedDataStores/P/scopes/global/entries/b",
                "value": 9,
                "id": "b",
            },
            {
                "path": "universes/1/orderedDataStores/P/scopes/global/entries/a",
                "value": 5,
                "id": "a",
            },
        ]
    }
    paged = client.get(ordered_url("P", v1=True), params={"max_page_size": 1}).json()
    assert len(paged["entries"]) == 1 and "nextPageToken" in paged
    assert client.get(ordered_url("P", key="a")).json()["value"] == 5
    updated = client.patch(ordered_url("P", key="b", v1=True), json={"value": 1}).json()
    assert updated["value"] == 1
    inc = client.post(ordered_url("P", key="b", v1=True) + ":increment", json={"amount": 2})
    assert inc.json()["value"] == 3
    assert (
        client.patch(
            ordered_url("P", key="z", v1=True), params={"allow_missing": "true"}, json={"value": 4}
        ).status_code
        == 200
    )
    assert client.delete(ordered_url("P", key="a", v1=True)).status_code == 200
    # v1: "the entry was successfully deleted or didn't exist"
    assert client.delete(ordered_url("P", key="a", v1=True)).status_code == 200
    missing = client.get(ordered_url("P", key="a", v1=True))
    assert missing.status_code == 404 and set(missing.json()) == {"code", "message"}


@pytest.mark.parametrize("key", ["k" * 63, "user/1", "ключ"])
def test_ordered_keys(client: httpx.Client, key: str) -> None:
    fill(client, {key: 1})
    assert client.get(ordered_url("P", key=key)).json()["id"] == key


def test_ordered_key_limit(client: httpx.Client) -> None:
    response = client.post(ordered_url("P"), params={"id": "k" * 64}, json={"value": 1})
    assert response.status_code == 400
