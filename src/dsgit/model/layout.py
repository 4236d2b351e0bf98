"""The data repository's layout (DESIGN.md §1): where each kind's files live, one module.

Pure paths (no file system): the loader, the importer, ``init``, completion and encryption all
take their folder names and file paths from here, and each kind in :mod:`dsgit.kinds` names its
top folder with these constants.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from dsgit.model.encoding import decode_segment, encode_segment
from dsgit.model.entry import Address, StoreKind

__all__ = [
    "CONFIGS_DIR",
    "DATASTORES_DIR",
    "EDITOR_SCHEMA_DIR",
    "ENTRY_SUFFIX",
    "ORDERED_DIR",
    "OTHER_YAML_DIRS",
    "PROJECT_FILE",
    "STORE_FILE",
    "address_of_entry_file",
    "entry_file",
    "ordered_scope_file",
    "settings_file",
    "store_folder",
]

PROJECT_FILE = "dsgit.yaml"
DATASTORES_DIR = "datastores"  # standard data stores: <store>/<scope>/<key>.yaml
ORDERED_DIR = "ordered"  # ordered data stores: <store>/<scope>.yaml
CONFIGS_DIR = "configs"  # Experience Configs: <repository>.yaml
STORE_FILE = "_store.yaml"  # a store's settings, in its folder
ENTRY_SUFFIX = ".yaml"
OTHER_YAML_DIRS = ("policies", "migrations")
EDITOR_SCHEMA_DIR = "schemas/dsgit"  # where `dsgit init` puts the file schemas for editors

_FOLDERS = {StoreKind.STANDARD: DATASTORES_DIR, StoreKind.ORDERED: ORDERED_DIR}


def store_folder(kind: StoreKind, store: str) -> PurePosixPath:
    """``datastores/<store>`` or ``ordered/<store>`` (the name path-encoded)."""
    return PurePosixPath(_FOLDERS[kind], encode_segment(store))


def settings_file(kind: StoreKind, store: str) -> PurePosixPath:
    """``datastores/<store>/_store.yaml`` or ``ordered/<store>/_store.yaml``."""
    return store_folder(kind, store) / STORE_FILE


def entry_file(address: Address) -> PurePosixPath:
    """``datastores/<store>/<scope>/<key>.yaml`` of a standard entry (segments path-encoded)."""
    store, scope, key = (
        encode_segment(part) for part in (address.store, address.scope, address.key)
    )
    return PurePosixPath(DATASTORES_DIR, store, scope, f"{key}{ENTRY_SUFFIX}")


def ordered_scope_file(store: str, scope: str) -> PurePosixPath:
    """``ordered/<store>/<scope>.yaml``: one scope of an ordered data store."""
    return PurePosixPath(
        ORDERED_DIR, encode_segment(store), f"{encode_segment(scope)}{ENTRY_SUFFIX}"
    )


def address_of_entry_file(path: PurePosixPath) -> Address | None:
    """The address of a repository-relative entry file path, None for anything else."""
    parts = path.parts
    if len(parts) != 4 or parts[0] != DATASTORES_DIR or not parts[3].endswith(ENTRY_SUFFIX):
        return None
    try:
        store, scope, key = (
            decode_segment(part) for part in (parts[1], parts[2], parts[3][: -len(ENTRY_SUFFIX)])
        )
    except ValueError:
        return None
    return Address(StoreKind.STANDARD, store, scope, key)
