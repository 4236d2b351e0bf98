"""The minimal ``lock-break`` record: chained, verified, parsed back, described."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.errors import ConfigError
from dsgit.ledger import Ledger, LockBreakRecord, verify_ledger
from dsgit.ledger.query import describe
from dsgit.ledger.records import record_from_json

BREAK = LockBreakRecord(
    environment="production",
    universe_id=42,
    holder="5f0c",
    apply_id="20261203T000000Z-abc",
    lease_actor="octocat",
    host="runner-1",
    expires="2026-12-03T00:02:00Z",
    expired=True,
)


def test_a_lock_break_record_round_trips_and_verifies(tmp_path: Path) -> None:
    [written] = Ledger(tmp_path).append([BREAK], actor="admin")
    assert verify_ledger(tmp_path).ok
    [read] = list(Ledger(tmp_path).records())
    assert read.body == BREAK and read.hash == written.hash
    assert "lock-break env=production expired lease of octocat on runner-1" in describe(read)


def test_a_malformed_lock_break_record_names_its_line(tmp_path: Path) -> None:
    [written] = Ledger(tmp_path).append([BREAK], actor="admin")
    data = written.to_json()
    data["expired"] = "yes"
    with pytest.raises(ConfigError, match=r"ledger\.jsonl:3"):
        record_from_json(json.loads(json.dumps(data)), file="audit/ledger.jsonl", line=3)
