"""Where repository files are read from: the working tree or one git commit (no checkout).

Both list files under a top folder with their kind, so the loader treats them alike; symlinks
and anything that is not a regular file are reported, never followed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from dsgit.errors import ConfigError

__all__ = ["FileType", "GitSource", "RepoSource", "SourceFile", "WorktreeSource"]

MAX_FILE_BYTES = 16 * 1024 * 1024  # a value is at most 4 MiB characters; leave room for YAML


class FileType(StrEnum):
    FILE = "file"
    SYMLINK = "symlink"
    OTHER = "other"  # device, socket, git submodule...


@dataclass(frozen=True)
class SourceFile:
    """One path below the repository root, POSIX-separated; ``size`` in bytes."""

    path: str
    type: FileType
    size: int = 0


class RepoSource(Protocol):
    """Read-only access to the files of one repository state."""

    def kind(self, path: str) -> FileType | None:
        """The type of ``path``, or None when it does not exist."""
        ...

    def files(self, top: str) -> Iterator[SourceFile]:
        """Every file below the folder ``top`` (nothing when it is absent), sorted by path."""
        ...

    def read(self, path: str) -> bytes: ...


class WorktreeSource:
    """The files on disk under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def kind(self, path: str) -> FileType | None:
        try:
            mode = os.lstat(self.root / path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return None
        return _type(mode)

    def files(self, top: str) -> Iterator[SourceFile]:
        base = self.root / top
        if self.kind(top) is FileType.SYMLINK:
            yield SourceFile(top, FileType.SYMLINK)
            return
        if not base.is_dir():
            return
        found: list[SourceFile] = []
        pending = [(base, top)]
        while pending:
            folder, relative = pending.pop()
            with os.scandir(folder) as listing:
                for item in listing:
                    path = f"{relative}/{item.name}"
                    info = item.stat(follow_symlinks=False)
                    if stat.S_ISDIR(info.st_mode):
                        pending.append((Path(item.path), path))
                    else:
                        found.append(SourceFile(path, _type(info.st_mode), info.st_size))
        found.sort(key=lambda item: item.path)
        yield from found

    def read(self, path: str) -> bytes:
        return (self.root / path).read_bytes()


def _type(mode: int) -> FileType:
    if stat.S_ISLNK(mode):
        return FileType.SYMLINK
    if stat.S_ISREG(mode):
        return FileType.FILE
    if stat.S_ISDIR(mode):
        return FileType.OTHER
    return FileType.OTHER


class GitSource:
    """The files of one commit, read from git objects through GitPython (no checkout).

    ``prefix`` is the repository root's path inside the git work tree ('' at the top).
    """

    def __init__(self, tree: Any, prefix: str = "") -> None:
        self._tree = tree
        self._prefix = prefix.strip("/")
        # path -> blob, filled by files(): looking a path up in the tree parses every tree on
        # the way again, which is quadratic for a scope folder of thousands of entries
        self._blobs: dict[str, Any] = {}

    def _full(self, path: str) -> str:
        return f"{self._prefix}/{path}" if self._prefix else path

    def _object(self, path: str) -> Any | None:
        try:
            return self._tree[self._full(path)]
        except KeyError:
            return None

    def kind(self, path: str) -> FileType | None:
        item = self._object(path)
        if item is None:
            return None
        return _git_type(item)

    def files(self, top: str) -> Iterator[SourceFile]:
        item = self._object(top)
        if item is None:
            return
        if item.type != "tree":
            yield SourceFile(top, _git_type(item))
            return
        cut = len(self._prefix) + 1 if self._prefix else 0
        found = [
            SourceFile(blob.path[cut:], _git_type(blob), blob.size if blob.type == "blob" else 0)
            for blob in item.traverse()
            if blob.type != "tree"
        ]
        found.sort(key=lambda entry: entry.path)
        yield from found

    def read(self, path: str) -> bytes:
        item = self._object(path)
        if item is None:
            raise ConfigError(f"{path} is not in the commit")
        data: bytes = item.data_stream.read()
        return data


def _git_type(item: Any) -> FileType:
    if item.type == "blob":
        return FileType.SYMLINK if item.mode == 0o120000 else FileType.FILE
    return FileType.OTHER
