"""Where repository files are read from: the working tree or one git commit (no checkout).

Both list files under a top folder with their kind, so the loader treats them alike; symlinks
and anything that is not a regular file are reported, never followed.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from dsgit.errors import ConfigError

__all__ = ["FileType", "GitSource", "RepoSource", "SourceFile", "WorktreeSource"]

MAX_FILE_BYTES = 16 * 1024 * 1024  # a value is at most 4 MiB characters; leave room for YAML
PREFETCH_BYTES = 256 * 1024 * 1024  # read a commit's folder in one batch below this size


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
        if _nested_repository(base):
            yield SourceFile(top, FileType.OTHER)
            return
        found: list[SourceFile] = []
        pending = [(base, top)]
        while pending:
            folder, relative = pending.pop()
            with os.scandir(folder) as listing:
                for item in listing:
                    path = f"{relative}/{item.name}"
                    info = item.stat(follow_symlinks=False)
                    if stat.S_ISDIR(info.st_mode) and _nested_repository(Path(item.path)):
                        found.append(SourceFile(path, FileType.OTHER))
                    elif stat.S_ISDIR(info.st_mode):
                        pending.append((Path(item.path), path))
                    else:
                        found.append(SourceFile(path, _type(info.st_mode), info.st_size))
        found.sort(key=lambda item: item.path)
        yield from found

    def read(self, path: str) -> bytes:
        return (self.root / path).read_bytes()


def _nested_repository(folder: Path) -> bool:
    """A checked-out submodule (or any nested git repository): its files belong to another
    repository, and a commit of this one holds only a link to it, so neither view reads them."""
    return os.path.lexists(folder / ".git")


def _type(mode: int) -> FileType:
    if stat.S_ISLNK(mode):
        return FileType.SYMLINK
    if stat.S_ISREG(mode):
        return FileType.FILE
    if stat.S_ISDIR(mode):
        return FileType.OTHER
    return FileType.OTHER


class GitSource:
    """The files of one commit, read from git objects (no checkout).

    ``repo`` is a GitPython ``Repo``; ``prefix`` is the repository root's path inside the git
    work tree ('' at the top). A folder is listed with one ``git ls-tree -r -l`` (path, mode,
    object and size at once) and blobs are read through git's persistent ``cat-file``: looking
    paths up tree by tree would parse a scope folder of thousands of entries once per entry.
    """

    def __init__(self, repo: Any, commit: str, prefix: str = "") -> None:
        self._repo = repo
        self._commit = commit
        self._prefix = prefix.strip("/")
        self._objects: dict[str, str] = {}  # path -> object id, filled by files() and kind()
        self._contents: dict[str, bytes] = {}  # object id -> bytes, prefetched by files()

    def _full(self, path: str) -> str:
        return f"{self._prefix}/{path}" if self._prefix else path

    def _ls_tree(self, path: str, *, recursive: bool) -> list[tuple[str, FileType, str, int]]:
        flags = ["-r", "-l", "-z"] if recursive else ["-l", "-z"]
        raw: bytes = self._repo.git.ls_tree(
            *flags, "--full-tree", self._commit, "--", self._full(path), stdout_as_string=False
        )
        cut = len(self._prefix) + 1 if self._prefix else 0
        found = []
        for record in raw.split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, kind, object_id, size = meta.split()
            if kind == b"tree":
                continue
            file_type = FileType.OTHER
            if kind == b"blob":
                file_type = FileType.SYMLINK if mode == b"120000" else FileType.FILE
            relative = name.decode("utf-8", errors="surrogateescape")[cut:]  # as os.listdir
            found.append(
                (relative, file_type, object_id.decode(), int(size) if size.isdigit() else 0)
            )
        return found

    def kind(self, path: str) -> FileType | None:
        for relative, file_type, object_id, _size in self._ls_tree(path, recursive=False):
            if relative == path:
                self._objects[path] = object_id
                return file_type
        return None

    def files(self, top: str) -> Iterator[SourceFile]:
        found = []
        for relative, file_type, object_id, size in self._ls_tree(top, recursive=True):
            if relative != top and not relative.startswith(top + "/"):
                continue
            self._objects[relative] = object_id
            found.append(SourceFile(relative, file_type, size))
        found.sort(key=lambda entry: entry.path)
        wanted = [f for f in found if f.type is FileType.FILE and f.size <= MAX_FILE_BYTES]
        if sum(f.size for f in wanted) <= PREFETCH_BYTES:
            self._prefetch([self._objects[f.path] for f in wanted])
        yield from found

    def _prefetch(self, object_ids: list[str]) -> None:
        """Read many blobs with one ``git cat-file --batch`` instead of a round trip each."""
        git = shutil.which("git")
        if git is None or not object_ids:
            return
        result = subprocess.run(
            [git, "--git-dir", str(self._repo.git_dir), "cat-file", "--batch"],
            input="".join(f"{object_id}\n" for object_id in object_ids).encode(),
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            return  # read() falls back to one object at a time
        out, position = result.stdout, 0
        while position < len(out):
            header_end = out.index(b"\n", position)
            parts = out[position:header_end].split()
            if len(parts) != 3:  # "<id> missing": leave it to read()
                position = header_end + 1
                continue
            size = int(parts[2])
            start = header_end + 1
            self._contents[parts[0].decode()] = out[start : start + size]
            position = start + size + 1

    def read(self, path: str) -> bytes:
        object_id = self._objects.get(path)
        if object_id is None and self.kind(path) is not None:
            object_id = self._objects.get(path)
        if object_id is None:
            raise ConfigError(f"{path} is not in the commit")
        prefetched = self._contents.pop(object_id, None)
        if prefetched is not None:
            return prefetched
        data: bytes = self._repo.odb.stream(bytes.fromhex(object_id)).read()
        return data
