"""Every client operation against the in-process emulator, errors included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsgit.emulator import Emulator
from dsgit.errors import NotFoundError, PreconditionFailed, RemoteError
from dsgit.model.entry import EntryData
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import emulated_client

UNIVERSE = 4242  # as in conftest.py

PROFILE = {"Data": {"Coins": 10, "Items": []}, "MetaData": {"SessionLoadCount": 3}}


# --- standard entries ----------------------------------------------------------------------------
def test_create_then_get_returns_typed_entry(client: OpenCloudClient) -> None:
    data = EntryData(PROFILE, {"source": "dsgit"}, (45348281,))
    created = client.create_entry("PlayerData", "Player_1", data)
    assert (created.store, created.scope, created.key) == ("PlayerData", "global", "Player_1")
    assert created.value == PROFILE
    assert created.users == (45348281,)
    assert dict(created.attributes) == {"source": "dsgit"}
    assert created.etag and created.revision_id and created.revision_create_time
    assert created.state == "ACTIVE"
    read = client.get_entry("PlayerData", "Player_1")
    assert read == created


def test_missing_entry_reads_as_none(client: OpenCloudClient) -> None:
    assert client.get_entry("PlayerData", "nobody") is None
    assert client.get_entry("NoSuchStore", "nobody", "other") is None


def test_create_of_an_existing_key_fails(client: OpenCloudClient) -> None:
    client.create_entry("S", "k", EntryData(1))
    with pytest.raises(RemoteError) as caught:
        client.create_entry("S", "k", EntryData(2))
    assert caught.value.status in (400, 409)
    assert "POST /cloud/v2/universes/4242/data-stores/S/scopes/global/entries" in str(caught.value)
    assert client.get_entry("S", "k").value == 1  # type: ignore[union-attr]


def test_update_with_matching_etag_then_stale_etag(client: OpenCloudClient) -> None:
    first = client.create_entry("S", "k", EntryData({"v": 1}))
    second = client.update_entry("S", "k", EntryData({"v": 2}), etag=first.etag)
    assert second.value == {"v": 2} and second.etag != first.etag
    with pytest.raises(PreconditionFailed) as caught:
        client.update_entry("S", "k", EntryData({"v": 3}), etag=first.etag)
    assert "PATCH /cloud/v2/universes/4242/data-stores/S/scopes/global/entries/k" in str(
        caught.value
    )
    assert client.get_entry("S", "k").value == {"v": 2}  # type: ignore[union-attr]


def test_update_clears_omitted_metadata(client: OpenCloudClient) -> None:
    client.create_entry("S", "k", EntryData(1, {"a": 1}, (5,)))
    updated = client.update_entry("S", "k", EntryData(2))
    assert updated.users == () and dict(updated.attributes) == {}


def test_update_missing_needs_allow_missing(client: OpenCloudClient) -> None:
    with pytest.raises(NotFoundError):
        client.update_entry("S", "new", EntryData(1))
    created = client.update_entry("S", "new", EntryData(1), allow_missing=True)
    assert created.value == 1


def test_increment(client: OpenCloudClient) -> None:
    client.create_entry("Counters", "visits", EntryData(40))
    assert client.increment_entry("Counters", "visits", 2).value == 42
    client.create_entry("Counters", "text", EntryData("x"))
    with pytest.raises(RemoteError) as caught:
        client.increment_entry("Counters", "text", 1)
    assert caught.value.status == 400


def test_delete_is_soft_and_listed_with_show_deleted(client: OpenCloudClient) -> None:
    client.create_entry("S", "gone", EntryData(1))
    client.create_entry("S", "kept", EntryData(1))
    client.delete_entry("S", "gone")
    assert client.get_entry("S", "gone") is None
    assert [k.key for k in client.list_keys("S")] == ["kept"]
    assert {k.key for k in client.list_keys("S", show_deleted=True)} == {"gone", "kept"}
    with pytest.raises(NotFoundError):
        client.delete_entry("S", "never")


def test_list_keys_pages_through_hundreds(client: OpenCloudClient) -> None:
    keys = [f"user_{i:04d}" for i in range(600)]
    for key in keys:
        client.update_entry("Big", key, EntryData(0), allow_missing=True)
    listed = [k.key for k in client.list_keys("Big")]
    assert sorted(listed) == keys
    assert len(set(listed)) == 600
    assert [k.key for k in client.list_keys("Big", prefix="user_059")] == [
        f"user_059{i}" for i in range(10)
    ]


def test_list_keys_of_all_scopes(client: OpenCloudClient) -> None:
    client.create_entry("S", "a", EntryData(1), scope="global")
    client.create_entry("S", "b/c", EntryData(1), scope="season 2")
    found = {(k.scope, k.key) for k in client.list_keys("S", "-")}
    assert found == {("global", "a"), ("season 2", "b/c")}


NAMES = st.text(alphabet=st.sampled_from(list("aZ09._-/@%:?#& +ü€'\"")), min_size=1, max_size=12)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(store=NAMES, scope=NAMES.filter(lambda name: name != "-"), key=NAMES)
def test_any_name_round_trips(client: OpenCloudClient, store: str, scope: str, key: str) -> None:
    client.update_entry(store, key, EntryData({"k": key}), scope, allow_missing=True)
    read = client.get_entry(store, key, scope)
    assert read is not None and read.value == {"k": key} and read.key == key
    assert key in {k.key for k in client.list_keys(store, scope)}
    assert (scope, key) in {(k.scope, k.key) for k in client.list_keys(store, "-")}
    assert store in {s.id for s in client.list_data_stores()}


def test_a_key_with_at_sign_reads_latest(client: OpenCloudClient) -> None:
    client.create_entry("S", "mail@example", EntryData("v1"))
    client.update_entry("S", "mail@example", EntryData("v2"))
    assert client.get_entry("S", "mail@example").value == "v2"  # type: ignore[union-attr]


def test_revisions_and_reads_of_old_versions(client: OpenCloudClient) -> None:
    for value in ("one", "two", "three"):
        client.update_entry("S", "k", EntryData(value), allow_missing=True)
    revisions = list(client.list_revisions("S", "k"))
    assert len(revisions) == 3
    values = {
        client.get_entry("S", "k", revision=r.revision_id).value  # type: ignore[union-attr]
        for r in revisions
    }
    assert values == {"one", "two", "three"}
    future = datetime.now(UTC) + timedelta(days=1)
    soon = datetime.now(UTC) + timedelta(minutes=1)
    past = datetime(2000, 1, 1, tzinfo=UTC)
    assert len(list(client.list_revisions("S", "k", start=future))) == 0
    assert len(list(client.list_revisions("S", "k", start=past, end=future))) == 3
    assert client.get_entry("S", "k", at=soon).value == "three"  # type: ignore[union-attr]
    assert client.get_entry("S", "k", at=past) is None


def test_point_in_time_reads_follow_the_emulator_clock() -> None:
    moments = iter(
        datetime(2024, 7, 1, tzinfo=UTC) + timedelta(minutes=minute) for minute in range(10_000)
    )
    emulator = Emulator(db=":memory:", clock=lambda: next(moments), versions="all")
    with emulated_client(emulator, universe_id=UNIVERSE) as client:
        client.create_entry("S", "k", EntryData("early"))
        for _ in range(5):
            client.get_entry("S", "k")  # let the clock move on
        client.update_entry("S", "k", EntryData("late"))
        middle = datetime(2024, 7, 1, 0, 3, tzinfo=UTC)
        assert client.get_entry("S", "k", at=middle).value == "early"  # type: ignore[union-attr]


def test_get_entries_runs_concurrently_and_reports_missing(client: OpenCloudClient) -> None:
    for i in range(40):
        client.create_entry("S", f"k{i}", EntryData(i))
    wanted = [("S", "global", f"k{i}") for i in range(45)]
    results = dict(client.get_entries(iter(wanted)))
    assert len(results) == 45
    assert all(results[("S", "global", f"k{i}")].value == i for i in range(40))  # type: ignore[union-attr]
    assert all(results[("S", "global", f"k{i}")] is None for i in range(40, 45))


def test_get_entries_stops_on_first_error() -> None:
    denied = Emulator(db=":memory:", api_keys={"good": frozenset()})
    with (
        emulated_client(denied, universe_id=UNIVERSE, api_key="bad") as client,
        pytest.raises(RemoteError),
    ):
        list(client.get_entries([("S", "global", "a"), ("S", "global", "b")]))


# --- data stores and snapshots -------------------------------------------------------------------
def test_data_stores_list_delete_undelete(client: OpenCloudClient) -> None:
    for store in ("Bans", "DATA/12345", "PlayerData"):
        client.create_entry(store, "k", EntryData(1))
    assert [s.id for s in client.list_data_stores()] == ["Bans", "DATA/12345", "PlayerData"]
    assert [s.id for s in client.list_data_stores(prefix="DATA/")] == ["DATA/12345"]
    deleted = client.delete_data_store("DATA/12345")
    assert deleted.id == "DATA/12345" and deleted.state == "DELETED" and deleted.expire_time
    assert [s.id for s in client.list_data_stores()] == ["Bans", "PlayerData"]
    states = {s.id: s.state for s in client.list_data_stores(show_deleted=True)}
    assert states["DATA/12345"] == "DELETED"
    restored = client.undelete_data_store("DATA/12345")
    assert restored.state == "ACTIVE"
    with pytest.raises(NotFoundError):
        client.delete_data_store("Nope")


def test_many_data_stores_page(client: OpenCloudClient) -> None:
    names = [f"DATA/{i:03d}" for i in range(130)]
    for name in names:
        client.create_entry(name, "1", EntryData(1))
    assert [s.id for s in client.list_data_stores()] == names


def test_snapshot_once_a_day(client: OpenCloudClient) -> None:
    first = client.snapshot()
    second = client.snapshot()
    assert first.new_snapshot_taken is True
    assert second.new_snapshot_taken is False
    assert second.latest_snapshot_time == first.latest_snapshot_time


# --- ordered entries -----------------------------------------------------------------------------
def test_ordered_entries_lifecycle(client: OpenCloudClient) -> None:
    created = client.create_ordered("Wins", "alice", 5)
    assert (created.key, created.value) == ("alice", 5)
    assert client.get_ordered("Wins", "alice") == created
    assert client.get_ordered("Wins", "bob") is None
    assert client.update_ordered("Wins", "alice", 9).value == 9
    assert client.update_ordered("Wins", "bob", 3, allow_missing=True).value == 3
    assert client.increment_ordered("Wins", "bob", 4).value == 7
    client.create_ordered("Wins", "carol", 1)
    assert [e.key for e in client.list_ordered("Wins")] == ["carol", "bob", "alice"]
    assert [e.key for e in client.list_ordered("Wins", descending=True)] == [
        "alice",
        "bob",
        "carol",
    ]
    assert [e.key for e in client.list_ordered("Wins", min_value=2, max_value=8)] == ["bob"]
    client.delete_ordered("Wins", "carol")
    assert client.get_ordered("Wins", "carol") is None
    with pytest.raises(NotFoundError):
        client.delete_ordered("Wins", "carol")
    with pytest.raises(NotFoundError):
        client.update_ordered("Wins", "dave", 1)


def test_ordered_listing_pages(client: OpenCloudClient) -> None:
    for i in range(250):
        client.create_ordered("Big", f"k{i}", i, "s")
    values = [e.value for e in client.list_ordered("Big", "s", descending=True)]
    assert values == list(range(249, -1, -1))
