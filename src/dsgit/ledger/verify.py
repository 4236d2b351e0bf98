"""Check a ledger: every record intact, chained in order, signatures valid (``audit verify``).

- an edited record no longer matches its own ``hash``;
- a removed, inserted or reordered record breaks ``seq`` and the ``prev`` chain at the line
  after it;
- a signature must verify with a public key of ``audit/keys/``.

A last line without its final newline (a write cut short) is reported: appending refuses it.

Cutting records off the end leaves a valid shorter chain: only a known head (``expect_head``,
for example the head printed by the last verify, or the copy in git history) reveals that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dsgit.errors import ConfigError
from dsgit.ledger.canonical import ZERO_DIGEST
from dsgit.ledger.file import LEDGER_FILE, Ledger, record_hash
from dsgit.ledger.records import record_from_json
from dsgit.ledger.signing import load_public_keys, verify_signature

__all__ = ["Problem", "VerifyReport", "verify_ledger"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong, at a 1-based line of the ledger (0: the ledger as a whole)."""

    line: int
    message: str

    def __str__(self) -> str:
        where = f"{LEDGER_FILE}:{self.line}" if self.line else LEDGER_FILE
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class VerifyReport:
    records: int
    signed: int
    head: str  # hash of the last record (ZERO_DIGEST for an empty ledger)
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_ledger(
    root: Path, *, require_signatures: bool = False, expect_head: str | None = None
) -> VerifyReport:
    keys = load_public_keys(root)
    problems: list[Problem] = []
    expected_prev = ZERO_DIGEST
    expected_seq = 0
    records = signed = 0
    seen_head = expect_head is None
    for number, text in Ledger(root).lines():
        try:
            record = record_from_json(json.loads(text), file=LEDGER_FILE, line=number)
        except json.JSONDecodeError as exc:
            problems.append(Problem(number, f"not JSON ({exc.msg})"))
            continue
        except ConfigError as exc:
            problems.append(Problem(number, exc.message))
            continue
        records += 1
        if record_hash(record) != record.hash:
            problems.append(Problem(number, f"record seq {record.seq} was edited (hash mismatch)"))
        if record.seq != expected_seq or record.prev != expected_prev:
            problems.append(
                Problem(
                    number,
                    f"chain broken before record seq {record.seq} (expected seq {expected_seq}):"
                    " a record was removed, inserted or reordered",
                )
            )
        if record.signature is not None:
            signed += 1
            reason = verify_signature(record.hash, record.signature, keys)
            if reason is not None:
                problems.append(Problem(number, reason))
        elif require_signatures:
            problems.append(Problem(number, f"record seq {record.seq} is not signed"))
        if record.hash == expect_head:
            seen_head = True
        # Resynchronise on what this record claims, so one break is reported once.
        expected_prev, expected_seq = record.hash, record.seq + 1
    if records and not _ends_with_newline(root):
        problems.append(
            Problem(
                0,
                "the last line has no final newline, so nothing can be appended (a write cut "
                "short?); if no other problem is listed, its record is whole: add the newline",
            )
        )
    if not seen_head:
        problems.append(
            Problem(0, f"expected head {expect_head} is missing: records were cut off the end")
        )
    head = expected_prev if records else ZERO_DIGEST
    return VerifyReport(records, signed, head, tuple(problems))


def _ends_with_newline(root: Path) -> bool:
    with (root / LEDGER_FILE).open("rb") as handle:
        if handle.seek(0, 2) == 0:
            return True
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"
