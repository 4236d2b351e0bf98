"""Realistic live data for scan tests: ProfileStore / ProfileService profiles, DataStore2 pairs.

Shapes from the libraries' sources (ProfileService.lua, ProfileStore.luau, DataStore2): see
docs/lifecycle.md. Empty Luau tables come back as ``[]`` or ``{}``, so both appear.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dsgit.emulator import Emulator
from dsgit.model.entry import EntryData, JSONValue
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import emulated_client

DAY = 86400.0
NOW = 1_790_000_000.0  # 2026-09-21T14:13:20Z, the "now" of the fixtures


def profile_store(user: int, *, last_update: float, locked: bool, coins: int = 10) -> JSONValue:
    """A ProfileStore profile (``ProfileStore.New("PlayerStore", TEMPLATE)``)."""
    meta: dict[str, JSONValue] = {
        "ProfileCreateTime": last_update - 90 * DAY,
        "SessionLoadCount": 12,
        "LastUpdate": last_update,
        "MetaTags": [] if user % 2 else {},
    }
    if locked:
        meta["ActiveSession"] = [1818, f"job-{user:04d}-a1b2", f"{user:08x}-5f3c"]
    return {
        "Data": {"Coins": coins, "Inventory": [] if user % 3 else {}, "Level": user % 50},
        "MetaData": meta,
        "RobloxMetaData": {},
        "UserIds": [user],
        "GlobalUpdates": [0, []],
    }


def profile_service(user: int, *, last_update: float, locked: bool) -> JSONValue:
    """A ProfileService profile (``GetProfileStore("PlayerData", template)``)."""
    meta: dict[str, JSONValue] = {
        "ProfileCreateTime": last_update - 30 * DAY,
        "SessionLoadCount": 3,
        "LastUpdate": last_update,
        "MetaTags": {},
    }
    if locked:
        meta["ActiveSession"] = [1818, f"job-{user:04d}"]
    return {
        "Data": {"Cash": user * 3, "Pets": []},
        "MetaData": meta,
        "RobloxMetaData": {},
        "UserIds": [user],
        "GlobalUpdates": [0, {}],
        "WasCorrupted": False,
    }


def seed_profiles(client: OpenCloudClient, count: int, *, store: str = "PlayerStore") -> None:
    """``count`` ProfileStore profiles keyed by user id: user % 5 == 0 is locked, user % 4 == 0
    was last saved 800 days before NOW, the others 10 days before."""
    for user in range(1, count + 1):
        age = 800 if user % 4 == 0 else 10
        value = profile_store(user, last_update=NOW - age * DAY, locked=user % 5 == 0)
        client.update_entry(store, str(user), EntryData(value, {}, (user,)), allow_missing=True)


def seed_datastore2(client: OpenCloudClient, users: range, saves: int) -> None:
    """DataStore2 "OrderedBackups": per user a standard store ``DATA/<id>`` with keys 1..saves
    holding the combined blob, and an ordered store of the same name with entry n = n."""
    for user in users:
        name = f"DATA/{user}"
        for n in range(1, saves + 1):
            blob: JSONValue = {"coins": n * 10, "inventory": [] if n % 2 else {}}
            client.update_entry(name, str(n), EntryData(blob, {}, (user,)), allow_missing=True)
            client.update_ordered(name, str(n), n, allow_missing=True)


@contextmanager
def emulated(universe_id: int = 7) -> Iterator[OpenCloudClient]:
    emulator = Emulator(db=":memory:", ccu=None)
    with emulated_client(emulator, universe_id=universe_id, max_workers=4) as client:
        yield client
