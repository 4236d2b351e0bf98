"""What an import did (or, with ``--dry-run``, would do), file by file and store by store."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dsgit.importer.ownership import StoreOwnership
from dsgit.model.entry import JSONValue, StoreKind

__all__ = ["FileAction", "FileResult", "ImportReport"]


class FileAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class FileResult:
    """One data file import wrote or checked: repository-relative ``path``, the entries it holds
    (1 for a standard entry file, every imported key for an ordered scope file)."""

    path: str
    action: FileAction
    kind: StoreKind
    store: str
    scope: str
    entries: int


@dataclass(frozen=True)
class ImportReport:
    """Data files (entry files and ordered scope files), the ownership of each store imported
    into, and notes on what was skipped."""

    files: tuple[FileResult, ...]
    dry_run: bool = False
    notes: tuple[str, ...] = ()
    stores: tuple[StoreOwnership, ...] = ()

    def count(self, action: FileAction) -> int:
        return sum(1 for result in self.files if result.action is action)

    @property
    def entries(self) -> int:
        return sum(result.entries for result in self.files)

    @property
    def settings_written(self) -> tuple[StoreOwnership, ...]:
        return tuple(store for store in self.stores if store.written)

    def summary(self) -> dict[str, int]:
        """Entries and data files are counted apart: one ordered scope file holds many entries.
        ``store_files_created`` counts the ``_store.yaml`` files import wrote."""
        return {
            "entries": self.entries,
            "files": len(self.files),
            "created": self.count(FileAction.CREATED),
            "updated": self.count(FileAction.UPDATED),
            "unchanged": self.count(FileAction.UNCHANGED),
            "store_files_created": len(self.settings_written),
        }

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "dry_run": self.dry_run,
            "summary": dict(self.summary()),
            "files": [
                {
                    "path": result.path,
                    "action": result.action.value,
                    "kind": result.kind.value,
                    "store": result.store,
                    "scope": result.scope,
                    "entries": result.entries,
                }
                for result in self.files
            ],
            "stores": [
                {
                    "kind": store.kind.value,
                    "store": store.store,
                    "ownership": None if store.ownership is None else store.ownership.value,
                    "source": store.source.value,
                    "reason": store.reason,
                    "settings_file": store.settings_file,
                    "settings_written": store.written,
                    "entries": store.entries,
                }
                for store in self.stores
            ],
            "notes": list(self.notes),
        }
