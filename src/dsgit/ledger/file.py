"""The ledger file: append records under a file lock, read them back.

Appends take an exclusive ``flock`` on the file, read the last record for its ``seq`` and
``hash``, write every new line in one ``write`` and ``fsync`` before releasing the lock, so
concurrent appenders (two applies, an approval and an apply) interleave whole batches and the
hash chain stays linear.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from dsgit.errors import ConfigError, Location
from dsgit.ledger.canonical import ZERO_DIGEST, canonical_json, sha256_digest
from dsgit.ledger.records import Body, LedgerRecord, record_from_json
from dsgit.ledger.signing import Signer
from dsgit.yamlio.safe_paths import open_nofollow, safe_path

__all__ = ["LEDGER_FILE", "Ledger", "now_rfc3339", "record_hash"]

LEDGER_FILE = "audit/ledger.jsonl"


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def record_hash(record: LedgerRecord) -> str:
    """The digest a record must carry in ``hash``: of its canonical form without hash and sig."""
    return sha256_digest(canonical_json(record.unsigned_json()))


class Ledger:
    """``audit/ledger.jsonl`` of one repository."""

    def __init__(self, root: Path, signer: Signer | None = None) -> None:
        self.root = root
        self.path = root / LEDGER_FILE
        self.signer = signer

    def append(
        self, bodies: Sequence[Body], *, actor: str, time: str | None = None
    ) -> list[LedgerRecord]:
        """Append one record per body, chained to the current last record; returns them."""
        if not bodies:
            return []
        stamp = time or now_rfc3339()
        with open_nofollow(self.path, root=self.root) as handle:  # never through a symlink
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                seq, prev = self._tail(handle)
                written: list[LedgerRecord] = []
                lines: list[str] = []
                for body in bodies:
                    draft = LedgerRecord(seq, stamp, actor, prev, body, hash="")
                    digest = record_hash(draft)
                    signature = self.signer.sign(digest) if self.signer is not None else None
                    record = LedgerRecord(seq, stamp, actor, prev, body, digest, signature)
                    lines.append(canonical_json(record.to_json()) + "\n")
                    written.append(record)
                    seq, prev = seq + 1, digest
                handle.seek(0, os.SEEK_END)
                handle.write("".join(lines).encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return written

    def check_appendable(self) -> None:
        """Raise ``ConfigError`` now if the last record is damaged (appending would fail later)."""
        safe_path(self.root, LEDGER_FILE)  # DS106: audit/ or the ledger is a symlink
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return
        with handle:
            self._tail(handle)

    def _tail(self, handle: IO[bytes]) -> tuple[int, str]:
        """``(seq, prev)`` for the next record: after the last line of the file."""
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return 0, ZERO_DIGEST
        block = 4096
        data = b""
        position = size
        while position > 0:
            step = min(block, position)
            position -= step
            handle.seek(position)
            data = handle.read(step) + data
            if data.count(b"\n") >= 2 or position == 0:
                break
        if not data.endswith(b"\n"):
            raise ConfigError(
                "the ledger ends with an incomplete record; run `dsgit audit verify`",
                Location(LEDGER_FILE),
            )
        last = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
        try:
            record = record_from_json(json.loads(last), file=LEDGER_FILE, line=0)
        except (json.JSONDecodeError, ConfigError):
            raise ConfigError(
                "the last ledger record is malformed; run `dsgit audit verify`",
                Location(LEDGER_FILE, self._count_lines(handle)),
            ) from None
        return record.seq + 1, record.hash

    @staticmethod
    def _count_lines(handle: IO[bytes]) -> int:
        handle.seek(0)
        count = 0
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            count += chunk.count(b"\n")
        return count

    def lines(self) -> Iterator[tuple[int, str]]:
        """``(line number, text)`` of every line, 1-based; nothing when there is no ledger."""
        try:
            handle = self.path.open("r", encoding="utf-8", newline="\n")
        except FileNotFoundError:
            return
        with handle:
            for number, text in enumerate(handle, start=1):
                yield number, text.rstrip("\n")

    def records(self, *, skip_malformed: bool = False) -> Iterator[LedgerRecord]:
        """Every record, parsed (not verified: see :mod:`dsgit.ledger.verify`).

        A malformed line raises ``ConfigError`` naming it, or is passed over with
        ``skip_malformed`` (``audit verify`` still reports it).
        """
        for number, text in self.lines():
            try:
                try:
                    data = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ConfigError(
                        f"ledger record is not JSON: {exc.msg}", Location(LEDGER_FILE, number)
                    ) from None
                record = record_from_json(data, file=LEDGER_FILE, line=number)
            except ConfigError:
                if skip_malformed:
                    continue
                raise
            yield record
