"""What an import did (or, with ``--dry-run``, would do), file by file."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dsgit.model.entry import JSONValue, StoreKind

__all__ = ["FileAction", "FileResult", "ImportReport"]


class FileAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class FileResult:
    """One file import wrote or checked: repository-relative ``path``, the entries it holds."""

    path: str
    action: FileAction
    kind: StoreKind
    store: str
    scope: str
    entries: int


@dataclass(frozen=True)
class ImportReport:
    files: tuple[FileResult, ...]
    dry_run: bool = False
    notes: tuple[str, ...] = ()

    def count(self, action: FileAction) -> int:
        return sum(1 for result in self.files if result.action is action)

    @property
    def entries(self) -> int:
        return sum(result.entries for result in self.files)

    def summary(self) -> dict[str, int]:
        return {
            "created": self.count(FileAction.CREATED),
            "updated": self.count(FileAction.UPDATED),
            "unchanged": self.count(FileAction.UNCHANGED),
            "entries": self.entries,
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
            "notes": list(self.notes),
        }
