"""Paths dsgit writes below the repository root, refused when any part of them is a symlink.

Plan and apply write the ledger and pre-images (``audit/``), journals and the embedded
emulator's database (``.dsgit/``). A repository can commit any of those names as a symlink to
a place outside itself, and following it would write there (DS106). Every write site calls
:func:`safe_path` (or :func:`open_nofollow`) first: each existing part of the path below the
root is checked with ``lstat`` and must not be a link, missing folders are created and checked
again, and files are opened with ``O_NOFOLLOW`` so a link swapped in at the last moment fails
instead of being followed.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

from dsgit.errors import ConfigError, Location

__all__ = ["LINK_CODE", "make_parents", "open_nofollow", "safe_database_path", "safe_path"]

LINK_CODE = "DS106"


def _refuse(root: Path, where: Path, why: str) -> ConfigError:
    try:
        shown = where.relative_to(root).as_posix()
    except ValueError:
        shown = str(where)
    return ConfigError(f"{LINK_CODE} {why}", Location(shown))


def _link(path: Path) -> str:
    return (
        f"a symlink (to {_link_target(path)}) where dsgit writes: writing would follow it, "
        "possibly outside the repository (replace it with a real folder or file)"
    )


def _link_target(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def safe_path(root: Path, path: Path | str, *, parents: bool = False) -> Path:
    """``root / path`` (``path`` relative, or absolute below ``root``), after checking that no
    existing part of it below ``root`` is a symlink; with ``parents``, missing folders of it
    are created. Raises :class:`ConfigError` (DS106) otherwise. ``..`` never leaves ``root``."""
    base = Path(os.path.abspath(root))
    target = Path(os.path.abspath(base / path))
    try:
        relative = target.relative_to(base)
    except ValueError:
        raise _refuse(
            base, target, f"outside the repository ({base}): dsgit writes only below it"
        ) from None
    current = base
    last = len(relative.parts) - 1
    for index, part in enumerate(relative.parts):
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            if not parents or index == last:
                break
            with contextlib.suppress(FileExistsError):  # a concurrent writer made it first
                os.mkdir(current)
            mode = os.lstat(current).st_mode
        if stat.S_ISLNK(mode):
            raise _refuse(base, current, _link(current))
        if index < last and not stat.S_ISDIR(mode):
            break  # a file where a folder must go: the write fails with the OS's own error
    return target


def open_nofollow(path: Path, *, root: Path | None = None) -> BinaryIO:
    """Open ``path`` for binary reading and appending (as ``open(path, "a+b")``), never
    through a symlink: with ``root``, every part below it is checked and missing folders are
    made (:func:`safe_path`); the file itself is opened with ``O_NOFOLLOW``."""
    if root is not None:
        path = safe_path(root, path, parents=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags, 0o644)
    except OSError as exc:
        if os.path.islink(path):
            raise _refuse(root or path.parent, path, _link(path)) from None
        raise exc
    return os.fdopen(descriptor, "a+b")


def make_parents(path: Path, root: Path | None) -> None:
    """Create the folders of ``path``: through :func:`safe_path` when ``path`` is below
    ``root`` (a file dsgit places in the repository), plainly when the user chose a place
    outside it (``--key-file ~/keys/game.key``)."""
    if root is not None:
        base = Path(os.path.abspath(root))
        target = Path(os.path.abspath(path))
        if target == base or base in target.parents:
            safe_path(base, target, parents=True)
            return
    path.parent.mkdir(parents=True, exist_ok=True)


_SQLITE_SIDECARS = ("-journal", "-wal", "-shm")  # files SQLite creates next to a database


def safe_database_path(root: Path, path: Path) -> Path:
    """:func:`safe_path` (folders made) for a SQLite database below ``root`` and for the
    files SQLite writes next to it, which it would open through a symlink just the same."""
    target = safe_path(root, path, parents=True)
    for suffix in _SQLITE_SIDECARS:
        safe_path(root, target.with_name(target.name + suffix))
    return target
