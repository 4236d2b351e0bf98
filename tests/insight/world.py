"""A repository and an embedded-emulator universe holding realistic live data for the CLI
tests of ``dsgit scan``, ``schema infer`` and ``report``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from dsgit.emulator import Emulator
from dsgit.model.entry import EntryData
from dsgit.remote.client import OpenCloudClient
from support import LOCAL_CONFIG, write_files

from .fixtures import catalog_item, datastore2_blob, player_store

PROFILE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["Data", "MetaData"],
    "properties": {
        "Data": {
            "type": "object",
            "required": ["Coins"],
            "properties": {"Coins": {"type": "integer", "maximum": 1000000}},
        }
    },
}
CANARY = "canary-sensitive-4f1d9a"  # a sensitive value: must never be printed


def make_repo(root: Path) -> Path:
    return write_files(
        root,
        {
            "dsgit.yaml": LOCAL_CONFIG,
            "datastores/PlayerStore/_store.yaml": (
                "ownership: observed\nschema: schemas/profile.schema.json\n"
                "sensitive: [/Data/Secret]\n"
            ),
            "schemas/profile.schema.json": json.dumps(PROFILE_SCHEMA, indent=2),
        },
    )


class _Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def seed(root: Path, now: datetime | None = None) -> None:
    """PlayerStore (60 ProfileStore profiles: a hoarder, two locked, one stale, one with an
    e-mail and a sensitive canary), DATA/1007 (DataStore2, no users metadata) and a catalog."""
    clock = _Clock(datetime(2023, 1, 5, 8, tzinfo=UTC))
    emulator = Emulator(db=root / ".dsgit" / "emulator.db", clock=clock)
    try:
        api = OpenCloudClient(1, transport=emulator.transport())
        for item in player_store(60):
            clock.moment = (
                datetime(2023, 1, 5, 8, tzinfo=UTC)
                if item.key == "1003"
                else (now or datetime.now(UTC))
            )
            value = item.value
            if item.key == "1010":
                value["Data"]["Email"] = "kid@example.com"  # type: ignore[index]
                value["Data"]["Secret"] = CANARY  # type: ignore[index]
            api.create_entry("PlayerStore", item.key, EntryData(value, users=item.users))
        clock.moment = now or datetime.now(UTC)
        for save in range(1, 4):
            blob = datastore2_blob(150 * save, ["speed_coil"] if save > 1 else [])
            api.create_entry("DATA/1007", str(save), EntryData(blob))
        for index in range(12):
            api.create_entry("ShopCatalog", f"item_{index}", EntryData(catalog_item(index)))
    finally:
        emulator.close()


HOSTILE_KEY = "<img src=x onerror=alert(1)>"
HOSTILE_POINTER = "<b>mail</b>"


def make_report_repo(root: Path) -> Path:
    """``make_repo`` plus an owned ShopCatalog with two entries (one not live yet)."""
    make_repo(root)
    item = catalog_item(0)
    lines = "\n".join(f"  {name}: {json.dumps(value)}" for name, value in item.items())
    new = "\n".join(f"  {name}: {json.dumps(value)}" for name, value in catalog_item(99).items())
    return write_files(
        root,
        {
            "datastores/ShopCatalog/global/item_0.yaml": f"value:\n{lines}\n",
            "datastores/ShopCatalog/global/item_new.yaml": f"value:\n{new}\n",
        },
    )


def seed_hostile(root: Path) -> None:
    """A store whose key, pointer and value hold HTML (and an e-mail under that pointer)."""
    with Emulator(db=root / ".dsgit" / "emulator.db") as emulator:
        api = OpenCloudClient(1, transport=emulator.transport())
        value = {HOSTILE_POINTER: "kid@example.com", "note": "<script>alert('v')</script>"}
        api.create_entry("Notes", HOSTILE_KEY, EntryData(value))


def change_live(root: Path, store: str, key: str, value: object) -> None:
    with Emulator(db=root / ".dsgit" / "emulator.db") as emulator:
        api = OpenCloudClient(1, transport=emulator.transport())
        api.update_entry(store, key, EntryData(value))  # type: ignore[arg-type]
