"""Write a file whole or not at all: a temporary file in the same folder, then a rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``text`` (UTF-8, ``\\n`` line ends) in one rename.

    An existing file keeps its permission bits; ``mode`` sets them for a new one
    (default ``0o644``).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    keep: int
    try:
        keep = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        keep = 0o644 if mode is None else mode
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, keep)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
