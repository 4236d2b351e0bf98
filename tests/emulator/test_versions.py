"""Version retention as Roblox keeps it, on an injected clock: the first write to a key in each
UTC hour is kept as a version, later writes in that hour overwrite it, and a snapshot makes the
next write keep one. ``versions="all"`` keeps every write."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsgit.config import Environment
from dsgit.emulator import Emulator
from dsgit.emulator.versions import Versions, versions_from_env
from dsgit.errors import ConfigError
from dsgit.model.entry import EntryData
from dsgit.remote.connect import open_client

from .conftest import FakeClock, validated_client
from .helpers import V1, V2, entries_url, entry_url

START = datetime(2026, 12, 3, 9, 10, tzinfo=UTC)  # ten past nine: 50 minutes left in the hour


@pytest.fixture
def hourly() -> Iterator[tuple[httpx.Client, FakeClock]]:
    clock = FakeClock(START)
    with Emulator(clock=clock) as emulator, validated_client(emulator.transport()) as client:
        assert emulator.versions is Versions.HOURLY  # the default, as Roblox
        yield client, clock


def write(client: httpx.Client, value: object, key: str = "k") -> dict[str, object]:
    response = client.patch(
        entry_url("S", key), params={"allowMissing": "true"}, json={"value": value}
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def versions(client: httpx.Client, key: str = "k") -> list[object]:
    """The value of every version kept, oldest first."""
    listed = client.get(entry_url("S", key, suffix=":listRevisions"), params={"maxPageSize": 100})
    assert listed.status_code == 200, listed.text
    values = []
    for item in listed.json()["dataStoreEntries"]:
        read = client.get(entry_url("S", key, suffix=f"@{item['revisionId']}"))
        assert read.status_code == 200, read.text
        values.append(read.json()["value"])
    return values


def test_two_writes_in_one_hour_keep_one_version(hourly: tuple[httpx.Client, FakeClock]) -> None:
    client, clock = hourly
    first = write(client, "one")
    clock.advance(minutes=20)
    second = write(client, "two")
    assert versions(client) == ["two"]
    # The overwrite is a new revision id and etag (optimistic concurrency still sees it) at the
    # same place in the key's history; the first id no longer answers.
    assert second["revisionId"] != first["revisionId"] and second["etag"] == second["revisionId"]
    assert str(second["revisionId"]).split(".")[1] == str(first["revisionId"]).split(".")[1]
    assert client.get(entry_url("S", "k", suffix=f"@{first['revisionId']}")).status_code == 404
    stale = client.patch(entry_url("S", "k"), json={"value": "x", "etag": first["etag"]})
    assert stale.status_code == 409


def test_a_write_in_the_next_hour_keeps_two(hourly: tuple[httpx.Client, FakeClock]) -> None:
    client, clock = hourly
    write(client, "one")
    clock.advance(minutes=10)
    write(client, "one, later")  # same hour: overwrites
    clock.advance(minutes=45)  # 10:05, the next UTC hour
    third = write(client, "two")
    assert versions(client) == ["one, later", "two"]
    assert str(third["revisionId"]).split(".")[1] == "0000000002"
    clock.advance(minutes=1)
    write(client, "three")  # same hour as "two": overwrites it
    assert versions(client) == ["one, later", "three"]


def test_a_snapshot_then_a_write_keeps_the_old_one(hourly: tuple[httpx.Client, FakeClock]) -> None:
    client, clock = hourly
    write(client, "before")
    clock.advance(minutes=1)
    taken = client.post(f"{V2}/data-stores:snapshot", json={})
    assert taken.json()["newSnapshotTaken"] is True
    clock.advance(minutes=1)
    write(client, "after")
    assert versions(client) == ["before", "after"]
    clock.advance(minutes=1)
    write(client, "after again")  # only the next write after the snapshot keeps one
    assert versions(client) == ["before", "after again"]


def test_a_point_in_time_read_finds_the_version_kept(
    hourly: tuple[httpx.Client, FakeClock],
) -> None:
    client, clock = hourly
    write(client, "nine o'clock")
    clock.advance(hours=1)  # 10:10
    write(client, "first at ten")
    moment = clock.now + timedelta(minutes=5)
    clock.advance(minutes=10)
    write(client, "second at ten")  # overwrites "first at ten"
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    at = client.get(entry_url("S", "k", suffix=f"@latest:{stamp}")).json()
    # 10:15 held "first at ten" live, but Roblox kept only the hour's last write (at 10:20):
    # the value found is the one kept from 9 o'clock.
    assert at["value"] == "nine o'clock"


def test_deletes_follow_the_same_rule(hourly: tuple[httpx.Client, FakeClock]) -> None:
    client, clock = hourly
    write(client, "v")
    clock.advance(minutes=1)
    assert client.delete(entry_url("S", "k")).status_code == 200
    listed = client.get(entry_url("S", "k", suffix=":listRevisions")).json()["dataStoreEntries"]
    assert [item["state"] for item in listed] == ["DELETED"]


def test_v1_versions_follow_the_same_rule(hourly: tuple[httpx.Client, FakeClock]) -> None:
    client, clock = hourly
    params = {"datastoreName": "S", "entryKey": "v1"}
    for value in (1, 2):
        assert client.post(f"{V1}/datastore/entries/entry", params=params, json=value).is_success
        clock.advance(minutes=5)
    clock.advance(hours=1)
    assert client.post(f"{V1}/datastore/entries/entry", params=params, json=3).is_success
    listed = client.get(f"{V1}/datastore/entries/entry/versions", params={**params, "limit": 10})
    assert len(listed.json()["versions"]) == 2


def test_versions_all_keeps_every_write() -> None:
    clock = FakeClock(START)
    with (
        Emulator(clock=clock, versions="all") as emulator,
        validated_client(emulator.transport()) as client,
    ):
        for value in range(5):
            write(client, value)
        assert versions(client) == [0, 1, 2, 3, 4]
        assert client.get(entries_url("S")).json()["dataStoreEntries"][0]["id"] == "k"


def test_versions_from_the_environment() -> None:
    assert versions_from_env({}) is Versions.HOURLY
    assert versions_from_env({"DSGIT_EMULATOR_VERSIONS": " ALL "}) is Versions.ALL
    with pytest.raises(ConfigError, match="must be hourly or all"):
        versions_from_env({"DSGIT_EMULATOR_VERSIONS": "some"})
    with pytest.raises(ValueError):
        Emulator(versions="weekly")


def test_the_embedded_emulator_reads_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = Environment("local", 1, emulator=tmp_path / ".dsgit/emulator.db")
    for setting, kept in (("all", 2), ("hourly", 1)):
        monkeypatch.setenv("DSGIT_EMULATOR_VERSIONS", setting)
        with open_client(env) as client:
            for value in range(2):
                client.update_entry("S", setting, EntryData(value), allow_missing=True)
            assert len(list(client.list_revisions("S", setting))) == kept
    monkeypatch.setenv("DSGIT_EMULATOR_VERSIONS", "sometimes")
    with pytest.raises(ConfigError, match="DSGIT_EMULATOR_VERSIONS must be hourly or all"):
        open_client(env)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=5 * 60), min_size=1, max_size=12))
def test_one_version_per_hour_holding_its_last_write(gaps: list[int]) -> None:
    """Writes at increasing minutes: the versions kept are the last write of each hour written,
    oldest first, and the entry reads as the last write."""
    clock = FakeClock(START)
    with Emulator(clock=clock) as emulator, validated_client(emulator.transport()) as client:
        last_of_hour: dict[int, int] = {}
        for index, gap in enumerate(gaps):
            clock.advance(minutes=gap)
            write(client, index)
            hour = int(clock.now.timestamp()) // 3600
            last_of_hour[hour] = index
        assert versions(client) == [last_of_hour[hour] for hour in sorted(last_of_hour)]
        assert client.get(entry_url("S", "k")).json()["value"] == len(gaps) - 1
