"""``dsgit audit migrate``: from the single-file ledger to one chain per environment.

The single file ``audit/ledger.jsonl`` of earlier releases is checked (every hash, the chain,
signatures) and, only when it verifies, renamed to ``audit/ledger-v1.jsonl`` byte for byte. It
is never appended to again: it becomes the common first part of every environment's chain, so
the first new record of each environment follows its last record, and the original hashes and
signatures keep proving what they proved. A ledger that does not verify is left as it is.

A file two branches appended to and git then merged (the failure that the per-environment
layout ends) migrates too, when every record in it is intact: its branches are kept as they
are, and the new chains follow all of their last records (``verify.join_digest``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dsgit.errors import LedgerError
from dsgit.ledger.layout import ARCHIVE_FILE, LEGACY_FILE
from dsgit.ledger.verify import verify_single_file

__all__ = ["Migration", "migrate_ledger"]


@dataclass(frozen=True)
class Migration:
    """What ``migrate_ledger`` did: ``moved`` False when there was nothing to migrate."""

    moved: bool
    records: int
    head: str
    message: str
    branches: int = 1


def migrate_ledger(root: Path) -> Migration:
    legacy, archive = root / LEGACY_FILE, root / ARCHIVE_FILE
    if not legacy.exists():
        if archive.exists():
            done = verify_single_file(root, ARCHIVE_FILE)
            return Migration(
                False, done.records, done.head, f"already migrated: {ARCHIVE_FILE} exists"
            )
        return Migration(False, 0, "", f"no {LEGACY_FILE}: nothing to migrate")
    if legacy.is_symlink() or not legacy.is_file():
        raise LedgerError(f"{LEGACY_FILE} is not a regular file; not migrating it")
    if archive.exists():
        raise LedgerError(
            f"both {LEGACY_FILE} and {ARCHIVE_FILE} exist; an earlier migration was followed by "
            "appends from an older dsgit. Keep the one git history says is right"
        )
    checked = verify_single_file(root, LEGACY_FILE)
    problems = checked.problems
    if problems:
        listed = "; ".join(str(problem) for problem in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise LedgerError(
            f"{LEGACY_FILE} does not verify, so it was not migrated: {listed}{more}. Restore it "
            "from git history (`dsgit audit verify` lists every problem)"
        )
    os.rename(legacy, archive)
    descriptor = os.open(archive.parent, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    merged = (
        f", {checked.branches} branches that git merged, kept as they are"
        if checked.branches > 1
        else ""
    )
    return Migration(
        True,
        checked.records,
        checked.head,
        f"moved {LEGACY_FILE} to {ARCHIVE_FILE} unchanged ({checked.records} record(s)"
        f"{merged}, head {checked.head}); new records go to audit/ledger/<environment>/, each "
        "chain starting after it. Commit audit/",
        checked.branches,
    )
