"""The append-only, hash-chained audit ledger under ``audit/`` (DESIGN.md §7)."""

from __future__ import annotations

from dsgit.ledger.canonical import canonical_json, sha256_digest, user_digest
from dsgit.ledger.file import LEDGER_FILE, Ledger
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
    ApprovalRecord,
    ChangeOutcome,
    ChangeRecord,
    EntryState,
    ErasureRecord,
    LedgerRecord,
    LockBreakRecord,
    RecordType,
)
from dsgit.ledger.signing import Signer, load_signer
from dsgit.ledger.verify import Problem, VerifyReport, verify_ledger

__all__ = [
    "LEDGER_FILE",
    "AppliedRun",
    "ApplyRecord",
    "ApprovalRecord",
    "ChangeOutcome",
    "ChangeRecord",
    "EntryState",
    "ErasureRecord",
    "LastApplied",
    "Ledger",
    "LedgerRecord",
    "LockBreakRecord",
    "LogFilter",
    "Problem",
    "RecordType",
    "Signer",
    "VerifyReport",
    "canonical_json",
    "filter_records",
    "last_applied",
    "list_applies",
    "load_signer",
    "sha256_digest",
    "user_digest",
    "verify_ledger",
]
