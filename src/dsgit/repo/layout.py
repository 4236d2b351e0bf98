"""Grouping a kind's files by store folder: which are settings, which are entries, and which do
not belong (DESIGN.md §1; the folder names are in :mod:`dsgit.model.layout`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dsgit.model.layout import (
    DATASTORES_DIR,
    ENTRY_SUFFIX,
    ORDERED_DIR,
    OTHER_YAML_DIRS,
    STORE_FILE,
)
from dsgit.repo.file_reader import FileReader
from dsgit.repo.source import FileType, SourceFile

__all__ = [
    "DATASTORES_DIR",
    "ENTRY_SUFFIX",
    "ORDERED_DIR",
    "OTHER_YAML_DIRS",
    "STORE_FILE",
    "StoreFiles",
    "group_stores",
    "ignored",
]

_IGNORED_NAMES = frozenset({"Thumbs.db", "desktop.ini"})


@dataclass
class StoreFiles:
    """The files of one store folder: its settings file and its entry files (with the path
    parts below the store folder)."""

    segment: str
    settings: SourceFile | None = None
    entries: list[tuple[list[str], SourceFile]] = field(default_factory=list)


def ignored(name: str) -> bool:
    """Files dsgit never reads: docs, and dotfiles other than entries (``.gitkeep``,
    ``.DS_Store``, editor swap files); entry names never start with ``.`` once encoded."""
    if name in _IGNORED_NAMES or name.endswith(".md"):
        return True
    return name.startswith(".") and not name.endswith(ENTRY_SUFFIX)


def group_stores(
    reader: FileReader, top: str, entry_depth: int, layout: str
) -> dict[str, StoreFiles]:
    """The store folders under ``top`` by folder name, with the entry files ``entry_depth``
    path parts below the top folder (``datastores/<store>/<scope>/<key>.yaml``: 3); files that
    do not fit the layout are reported (naming ``layout``), not returned."""
    stores: dict[str, StoreFiles] = {}
    for item in reader.source.files(top):
        parts = item.path.split("/")[1:]
        if not parts or item.path == top:
            reader.text(item)  # the folder itself is a symlink or a file
            continue
        name = parts[-1]
        if ignored(name):
            continue
        if item.type is not FileType.FILE:
            reader.text(item)
            continue
        if len(parts) == 1:
            reader.add(item.path, "DS108", f"unexpected file: stores are folders under {top}/")
            continue
        store = stores.setdefault(parts[0], StoreFiles(parts[0]))
        if len(parts) == 2 and name == STORE_FILE:
            store.settings = item
        elif not name.endswith(ENTRY_SUFFIX):
            reader.add(item.path, "DS108", f"unexpected file: only {ENTRY_SUFFIX} files are read")
        elif len(parts) == entry_depth:
            store.entries.append((parts[1:], item))
        else:
            reader.add(item.path, "DS108", f"unexpected file: the layout is {layout}")
    reader.collisions(((segment, f"{top}/{segment}") for segment in sorted(stores)), "store folder")
    return stores
