"""Realistic revision sequences: a ProfileStore profile over a few sessions, and a shop catalog."""

from __future__ import annotations

import copy
from typing import Any

from dsgit.model.entry import EntryData, JSONValue

CANARY_EMAIL = "canary-player-7734@example.com"
CANARY_CODE = "CANARY-REDEEM-0091"


def profile(coins: int, inventory: list[str], *, session: bool, loads: int) -> dict[str, Any]:
    """A ProfileStore save (``ProfileStore.luau``): Data, MetaData, RobloxMetaData, UserIds,
    GlobalUpdates; ``ActiveSession`` is absent once the session is released."""
    meta: dict[str, Any] = {
        "ProfileCreateTime": 1_733_000_000,
        "SessionLoadCount": loads,
        "LastUpdate": 1_733_000_000 + loads * 3600,
        "MetaTags": [],  # an empty Luau table comes back as [] or {}
    }
    if session:
        meta["ActiveSession"] = {
            "PlaceId": 920587237,
            "JobId": f"job-{loads}",
            "unique_session_id": loads,
        }
    return {
        "Data": {
            "Coins": coins,
            "Inventory": inventory,
            "Settings": {"Music": True},
            "Email": CANARY_EMAIL,
            "RedeemCode": CANARY_CODE,
        },
        "MetaData": meta,
        "RobloxMetaData": {},
        "UserIds": [7734],
        "GlobalUpdates": [0, []],
    }


def profile_revisions() -> list[EntryData]:
    """Four saves: first join, coins earned and a sword bought, session released, email changed."""
    first = profile(0, [], session=True, loads=1)
    second = profile(250, ["Sword"], session=True, loads=1)
    third = profile(250, ["Sword"], session=False, loads=1)
    fourth = copy.deepcopy(third)
    fourth["Data"]["Email"] = "canary-player-new@example.com"
    return [EntryData(v, {}, (7734,)) for v in (first, second, third, fourth)]


def catalog(price: int, extra: dict[str, JSONValue] | None = None) -> dict[str, Any]:
    items: dict[str, Any] = {
        "sword": {"name": "Sword", "price": price, "tags": ["melee"]},
        "bow": {"name": "Bow", "price": 300, "tags": ["ranged"]},
    }
    items.update(extra or {})
    return {"version": 3, "currency": "Coins", "items": items}
