"""Realistic live values (real-world-data.md): ProfileStore profiles, DataStore2 blobs, a shop
catalog; deterministic, so every figure a test checks is known in advance."""

from __future__ import annotations

from typing import Any

from dsgit.model.entry import JSONValue, LiveEntry

ITEMS = ("speed_coil", "rainbow_trail", "gravity_coil", "vip_pass")


def profile(
    user_id: int,
    coins: int,
    *,
    active: bool = False,
    empty_pets_as_list: bool = False,
    last_update: int = 1_751_990_400,
) -> dict[str, Any]:
    """A ProfileStore profile (``Data``, ``MetaData``, ``UserIds`` ...)."""
    meta: dict[str, Any] = {
        "ProfileCreateTime": 1_717_430_400,
        "SessionLoadCount": 1 + user_id % 40,
        "LastUpdate": last_update,
        "MetaTags": {},
    }
    if active:
        meta["ActiveSession"] = {
            "PlaceId": 17_384_920_011,
            "JobId": "6f1c2d7e-5a4b-4c3d-9e8f-0a1b2c3d4e5f",
            "unique_session_id": f"6f1c2d7e-5a4b-4c3d-9e8f-0a1b2c3d4e5f-{user_id}",
        }
    pets: JSONValue = [] if empty_pets_as_list else {"dragon": 1 + user_id % 3}
    return {
        "Data": {
            "Coins": coins,
            "Gems": user_id % 15,
            "Stage": 1 + user_id % 30,
            "OwnedItems": [ITEMS[user_id % len(ITEMS)]],
            "Pets": pets,
            "Settings": {"music": user_id % 2 == 0},
        },
        "MetaData": meta,
        "RobloxMetaData": {},
        "UserIds": [user_id],
        "GlobalUpdates": [0, []],
    }


def datastore2_blob(coins: int, inventory: list[str]) -> dict[str, Any]:
    """``DataStore2.Combine("DATA", "coins", "inventory", "checkpoint")``; empty inventory as
    ``{}`` or ``[]`` alike, as Luau serializes it."""
    return {"coins": coins, "inventory": inventory or {}, "checkpoint": coins // 40}


def catalog_item(index: int) -> dict[str, Any]:
    return {
        "display_name": f"Item {index}",
        "price": 100 + 25 * (index % 12),
        "currency": ("coins", "gems")[index % 2],
        "category": ("gear", "cosmetic", "pass")[index % 3],
        "on_sale": index % 4 == 0,
    }


def entry(
    store: str,
    key: str,
    value: JSONValue,
    *,
    users: tuple[int, ...] = (),
    written: str = "2026-11-20T10:00:00.1234567Z",
    scope: str = "global",
) -> LiveEntry:
    return LiveEntry(
        store=store,
        scope=scope,
        key=key,
        value=value,
        attributes={},
        users=users,
        etag="08DCAA80D489FD52.0000000003.08DCAA8627CF76E1.01",
        revision_id="08DCAA80D489FD52.0000000003.08DCAA8627CF76E1.01",
        revision_create_time=written,
        create_time="2024-07-22T19:40:35.001520100Z",
    )


def player_store(count: int = 60) -> list[LiveEntry]:
    """``count`` profiles: coins 100..~700, one hoarder (user 1007 with 9,000,000 coins), two
    held by a game server, every tenth with ``Pets`` as ``[]``, user 1003 last written in
    2023 (stale)."""
    entries = []
    for index in range(count):
        user = 1000 + index
        coins = 9_000_000 if user == 1007 else 100 + (index * 37) % 600
        value = profile(
            user, coins, active=user in (1001, 1002), empty_pets_as_list=index % 10 == 5
        )
        written = "2023-01-05T08:00:00Z" if user == 1003 else "2026-11-20T10:00:00.1234567Z"
        entries.append(entry("PlayerStore", str(user), value, users=(user,), written=written))
    return entries
