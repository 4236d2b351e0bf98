"""Realistic save formats (real-world-data.md): ProfileStore profiles in an old and a new
format, with and without an active session, and DataStore2 ``DATA/<id>`` blobs."""

from __future__ import annotations

import copy
from typing import Any

# ProfileStore (the successor of ProfileService), the game's first save format.
PROFILE_V1: dict[str, Any] = {
    "Data": {
        "Gold": 120,
        "Level": "7",
        "Items": ["Sword", "Shield"],
        "Settings": [],  # an empty Luau table: saved as [] (or {})
        "Pets": [{"Name": "Rex", "Lvl": 3}, {"Name": "Mia", "Lvl": 1}],
    },
    "MetaData": {
        "ProfileCreateTime": 1700000000,
        "SessionLoadCount": 12,
        "LastUpdate": 1733000000,
        "MetaTags": {},
        "ForceLoadSession": None,
    },
    "RobloxMetaData": {},
    "UserIds": [123456],
    "GlobalUpdates": [0, []],
}

# The same profile in the new format the migration produces.
PROFILE_V2: dict[str, Any] = {
    "Data": {
        "Coins": 120,
        "Level": 7,
        "Inventory": {"Items": ["Sword", "Shield"], "Capacity": 20},
        "Settings": {},
        "Pets": [{"Name": "Rex", "Level": 3}, {"Name": "Mia", "Level": 1}],
        "SaveVersion": 2,
    },
    "MetaData": PROFILE_V1["MetaData"],
    "RobloxMetaData": {},
    "UserIds": [123456],
    "GlobalUpdates": [0, []],
}


def with_session(profile: dict[str, Any]) -> dict[str, Any]:
    """The profile while a game server holds it (ProfileStore's ActiveSession shape)."""
    held = copy.deepcopy(profile)
    held["MetaData"]["ActiveSession"] = {
        "PlaceId": 4242,
        "JobId": "b5f0c1de-9a51-4b3e-8f10-7d0e0e4c2a11",
        "unique_session_id": "a1b2c3",
    }
    return held


# DataStore2 "OrderedBackups": standard store DATA/<UserId>, keys "1", "2"... one per save,
# value the combined blob of DataStore2.Combine("DATA", "coins", "inventory").
DS2_OLD: dict[str, Any] = {"coins": "150", "inventory": {}}
DS2_NEW: dict[str, Any] = {"coins": 150, "inventory": [], "version": 2}

PROFILE_MIGRATION = """\
# yaml-language-server: $schema=../schemas/dsgit/migration.schema.json
version: 1
description: save format 2 (Gold becomes Coins, items move under Inventory)
select:
  store: PlayerStore
  keys: "*"
  match:
    type: object
    required: [Data]
    properties:
      Data:
        type: object
        not: {required: [SaveVersion]}
transform:
  - rename: {path: /Data/Gold, to: Coins}
  - rename: {path: /Data/Pets/*/Lvl, to: Level}
  - move: {from: /Data/Items, to: /Data/Inventory/Items}
  - default: {path: /Data/Inventory/Capacity, value: 20}
  - convert: {path: /Data/Level, to: integer}
  - convert: {path: /Data/Settings, to: object}
  - patch:
      - {op: add, path: /Data/SaveVersion, value: 2}
"""
