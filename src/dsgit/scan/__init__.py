"""The live scan: every live-data command (retention, migrations, erasure, insight) is built on
it. See docs/lifecycle.md, "The live scan", for the guarantees and the consumer API:

    from dsgit.scan import Selection, ScanOptions, Visitor, run_scan

    class CountCoins(Visitor):
        def __init__(self) -> None:
            self.coins = 0
        def visit(self, entry, emit):
            self.coins += entry.value.get("Coins", 0)
        def snapshot(self):
            return self.coins
        def restore(self, state):
            self.coins = state

    result = run_scan(client, [Selection(("PlayerData",), keys="Player_*")], CountCoins(),
                      ScanOptions(checkpoint=Path(".dsgit/scans/coins.json")))
"""

from __future__ import annotations

from dsgit.scan.checkpoint import records_path
from dsgit.scan.engine import (
    ScanClient,
    ScanObserver,
    ScanOptions,
    ScanResult,
    ScanStats,
    run_scan,
    scan_fingerprint,
)
from dsgit.scan.entry import ScanEntry, parse_rfc3339
from dsgit.scan.select import ALL_SCOPES, Lane, Selection
from dsgit.scan.shard import Shard, shard_of
from dsgit.scan.visitor import Emit, ScanVisitor, Visitor

__all__ = [
    "ALL_SCOPES",
    "Emit",
    "Lane",
    "ScanClient",
    "ScanEntry",
    "ScanObserver",
    "ScanOptions",
    "ScanResult",
    "ScanStats",
    "ScanVisitor",
    "Selection",
    "Shard",
    "Visitor",
    "parse_rfc3339",
    "records_path",
    "run_scan",
    "scan_fingerprint",
    "shard_of",
]
