"""The Open Cloud permission scopes each dsgit command needs, from the packaged OpenAPI files.

Every operation of ``openapi/*.min.json`` names its ``x-roblox-scopes``. Each command is mapped
to the operations (by ``operationId``) its code sends, so the scopes come from Roblox's own
description of the API rather than from a hand-written list that could drift.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

__all__ = [
    "COMMAND_OPERATIONS",
    "CONFIGS_READ",
    "CONFIGS_REVISIONS",
    "CONFIGS_WRITE",
    "command_scopes",
    "operation_scopes",
]

_FILES = ("openapi-v2-subset.min.json", "datastores-v1.min.json", "ordered-datastores-v1.min.json")

LIST_STORES = "Cloud_ListDataStores"
LIST_ENTRIES = "Cloud_ListDataStoreEntries__Using_Universes_DataStores"
GET_ENTRY = "Cloud_GetDataStoreEntry__Using_Universes_DataStores_Scopes"
CREATE_ENTRY = "Cloud_CreateDataStoreEntry__Using_Universes_DataStores"
UPDATE_ENTRY = "Cloud_UpdateDataStoreEntry__Using_Universes_DataStores_Scopes"
DELETE_ENTRY = "Cloud_DeleteDataStoreEntry__Using_Universes_DataStores_Scopes"
INCREMENT_ENTRY = "Cloud_IncrementDataStoreEntry__Using_Universes_DataStores_Scopes"
LIST_REVISIONS = "Cloud_ListDataStoreEntryRevisions__Using_Universes_DataStores_Scopes"
SNAPSHOT = "Cloud_SnapshotDataStores"
LIST_ORDERED = "Cloud_ListOrderedDataStoreEntries"
GET_ORDERED = "Cloud_GetOrderedDataStoreEntry"
WRITE_ORDERED = (
    "Cloud_CreateOrderedDataStoreEntry",
    "Cloud_UpdateOrderedDataStoreEntry",
    "Cloud_IncrementOrderedDataStoreEntry",
    "Cloud_DeleteOrderedDataStoreEntry",
)
_CONFIGS = "CreatorConfigsPublicApi_"
CONFIGS_READ = (f"{_CONFIGS}GetConfigRepositoryFull", f"{_CONFIGS}GetConfigRepositoryDraft")
CONFIGS_REVISIONS = f"{_CONFIGS}ListRevisions"
# publish verifies an unanswered publish against the revisions; revert restores a revision
CONFIGS_WRITE = (
    f"{_CONFIGS}OverwriteDraft",
    f"{_CONFIGS}PublishDraft",
    CONFIGS_REVISIONS,
    f"{_CONFIGS}RestoreRevision",
)
_READ_LIVE = (LIST_ENTRIES, GET_ENTRY, LIST_ORDERED, GET_ORDERED)
_SCAN = (LIST_STORES, LIST_ENTRIES, GET_ENTRY, LIST_ORDERED, GET_ORDERED)
_LOCK = (GET_ENTRY, CREATE_ENTRY, UPDATE_ENTRY, DELETE_ENTRY)  # the apply lock in `_dsgit`
_WRITE_LIVE = (CREATE_ENTRY, UPDATE_ENTRY, DELETE_ENTRY, INCREMENT_ENTRY, *WRITE_ORDERED)

COMMAND_OPERATIONS: dict[str, tuple[str, ...]] = {
    "plan": (*_READ_LIVE, *CONFIGS_READ),
    "drift": (*_READ_LIVE, *CONFIGS_READ),
    # revisions: resuming an increment whose outcome was lost counts the revisions after it
    "apply": (
        *_READ_LIVE,
        *_LOCK,
        *_WRITE_LIVE,
        LIST_REVISIONS,
        SNAPSHOT,
        *CONFIGS_READ,
        *CONFIGS_WRITE,
    ),
    "import": (LIST_STORES, LIST_ENTRIES, GET_ENTRY, LIST_ORDERED),
    "rollback": (*_READ_LIVE, *CONFIGS_READ),
    "revert": (*_READ_LIVE, *CONFIGS_READ),
    "restore": (LIST_ENTRIES, GET_ENTRY),
    "ls": (LIST_STORES, LIST_ENTRIES, LIST_ORDERED),
    "get": (GET_ENTRY, GET_ORDERED),
    "history": (LIST_REVISIONS,),
    "import --configs": CONFIGS_READ,
    "ls|get --configs": CONFIGS_READ,
    "history --configs": (CONFIGS_REVISIONS,),
    # scan and report also ask the Analytics Query API (universe.analytics:read, outside the
    # OpenAPI files), and leave the storage figure out without it
    "scan": (LIST_STORES, LIST_ENTRIES, GET_ENTRY),
    "schema": (LIST_ENTRIES, GET_ENTRY),
    "report": (LIST_STORES, *_READ_LIVE),
    # live scans; their plans are applied by `apply`
    "retention plan": _SCAN,
    "migrate plan": (LIST_STORES, LIST_ENTRIES, GET_ENTRY),
    "erase": _SCAN,
    # erase's scan; with auto_apply, apply's operations too
    "webhook serve": (*_SCAN, *_LOCK, *_WRITE_LIVE, LIST_REVISIONS),
}
"""Command -> the Open Cloud operations it may send (``apply`` of a protected environment
snapshots first; every apply takes the lock entry in dsgit's own ``_dsgit`` store)."""


@functools.cache
def _scopes_by_operation() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    folder = resources.files("dsgit") / "openapi"
    for name in _FILES:
        document = json.loads((folder / name).read_text(encoding="utf-8"))
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                found[str(operation["operationId"])] = tuple(
                    str(item["name"])
                    for item in operation.get("x-roblox-scopes", [])
                    if isinstance(item, dict) and "name" in item
                )
    return found


def operation_scopes(operation_id: str) -> tuple[str, ...]:
    """The ``x-roblox-scopes`` of one operation; ``KeyError`` for an unknown operation."""
    return _scopes_by_operation()[operation_id]


def command_scopes(command: str) -> tuple[str, ...]:
    """Every scope the command's operations need, sorted."""
    return tuple(
        sorted({scope for op in COMMAND_OPERATIONS[command] for scope in operation_scopes(op)})
    )
