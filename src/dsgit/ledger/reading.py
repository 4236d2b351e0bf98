"""Reading ledger files: every line with its number, parsed records, the last line of a file."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from dsgit.errors import ConfigError, Location
from dsgit.ledger.records import LedgerRecord, record_from_json

__all__ = ["count_lines", "file_lines", "file_records", "last_line", "parse_line"]


def file_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of every line, 1-based; nothing when the file does not exist."""
    try:
        handle = path.open("r", encoding="utf-8", newline="\n")
    except FileNotFoundError:
        return
    with handle:
        for number, text in enumerate(handle, start=1):
            yield number, text.rstrip("\n")


def parse_line(text: str, where: str, number: int) -> LedgerRecord:
    """One line as a record; ``ConfigError`` naming ``where:number`` when it is not one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"ledger record is not JSON: {exc.msg}", Location(where, number)
        ) from None
    return record_from_json(data, file=where, line=number)


def file_records(
    path: Path, where: str, *, skip_malformed: bool = False
) -> Iterator[tuple[int, LedgerRecord]]:
    """``(line number, record)`` of one file, in file order."""
    for number, text in file_lines(path):
        try:
            record = parse_line(text, where, number)
        except ConfigError:
            if skip_malformed:
                continue
            raise
        yield number, record


def last_line(path: Path) -> tuple[bytes, bool] | None:
    """``(bytes, complete)`` of the last line; None for a missing or empty file.

    Reads backwards from the end only as far as the line needs. ``complete`` is False when the
    file does not end with a newline (a write cut short).
    """
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return None
    with handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return None
        handle.seek(size - 1)
        complete = handle.read(1) == b"\n"
        end = size - 1 if complete else size
        data = b""
        position = end
        while position > 0 and b"\n" not in data:
            step = min(4096, position)
            position -= step
            handle.seek(position)
            data = handle.read(step) + data
        return data.rsplit(b"\n", 1)[-1], complete


def count_lines(path: Path) -> int:
    """How many lines the file has (a last line without its newline counts)."""
    count = 0
    last = b"\n"
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count if last == b"\n" else count + 1
