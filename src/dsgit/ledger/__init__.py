"""The append-only, hash-chained audit ledger under ``audit/`` (docs/ledger.md).

One file per apply under ``audit/ledger/<environment>/``, one hash chain per environment whose
head the environment's universe also holds, so branches that applied merge without conflicts
and ``audit verify`` still proves one order.
"""

from __future__ import annotations

from dsgit.ledger.canonical import canonical_json, sha256_digest, user_digest
from dsgit.ledger.file import LEDGER_FILE, Ledger
from dsgit.ledger.head import ChainHead, UniverseHead
from dsgit.ledger.layout import ARCHIVE_FILE, CHAINS_DIR, LEGACY_FILE
from dsgit.ledger.migrate import Migration, migrate_ledger
from dsgit.ledger.query import (
    AppliedRun,
    LastApplied,
    LogFilter,
    filter_records,
    last_applied,
    list_applies,
)
from dsgit.ledger.records import (
    ApplyRecord,
    ApprovalKind,
    ApprovalRecord,
    ChangeOutcome,
    ChangeRecord,
    EntryState,
    ErasureRecord,
    LedgerRecord,
    LockBreakRecord,
    NotificationRecord,
    RecordType,
    Suppression,
)
from dsgit.ledger.signing import Signer, load_signer
from dsgit.ledger.verify import Gap, Problem, VerifyReport, verify_ledger

__all__ = [
    "ARCHIVE_FILE",
    "CHAINS_DIR",
    "LEDGER_FILE",
    "LEGACY_FILE",
    "AppliedRun",
    "ApplyRecord",
    "ApprovalKind",
    "ApprovalRecord",
    "ChainHead",
    "ChangeOutcome",
    "ChangeRecord",
    "EntryState",
    "ErasureRecord",
    "Gap",
    "LastApplied",
    "Ledger",
    "LedgerRecord",
    "LockBreakRecord",
    "LogFilter",
    "Migration",
    "NotificationRecord",
    "Problem",
    "RecordType",
    "Signer",
    "Suppression",
    "UniverseHead",
    "VerifyReport",
    "canonical_json",
    "filter_records",
    "last_applied",
    "list_applies",
    "load_signer",
    "migrate_ledger",
    "sha256_digest",
    "user_digest",
    "verify_ledger",
]
