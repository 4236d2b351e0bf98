"""How close does ``dsgit scan --sample 1000`` come to the rate-budget bound, in flat memory?

A store of N keys (100,000 by default; ProfileStore-shaped values) in a *served* emulator (a
subprocess) with rate limits on at 1,000 CCU. A sampled scan must list every key (one list
request per 256 keys) and read the sample (1,000 entries), so with the environment's share of
the budget it cannot finish before

    ceil(N / 256) / list_rate + 1000 / read_rate

seconds (list_rate = share × (300 + 2 × CCU) / 60 a second, read_rate = share × (300 + 40 ×
CCU) / 60). The scan runs as ``dsgit scan STORE --sample 1000 --format json`` in a fresh
process; the ratio judged is its wall time / that bound (target <= 1.15), the last line.

Memory: the same scan's peak RSS at N / 5 keys and at N keys; flat means the ratio of the two
stays near 1 (the listing keeps only the 1,000 sampled keys, whatever N).

    .venv/bin/python bench/scan_sample.py [--keys 100000] [--sample 1000] [--share 0.5]

Seeding writes the emulator's SQLite file directly (the same rows the emulator writes), so it
takes seconds, not the minutes 100,000 creates over HTTP would.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import served_emulator
from dsgit.config import Budget
from dsgit.emulator.clock import dotnet_ticks, to_ticks
from dsgit.emulator.database import Database
from dsgit.remote.budget import Operation, RequestClass, per_minute

STORE = "PlayerStore"
CCU = 1000
PAGE = 256

# The scan's own peak RSS: VmHWM of its address space. (ru_maxrss would not do: Linux carries
# the parent's high-water mark across fork and exec, and the parent holds the seeding.)
_CHILD = """
import sys, json
from dsgit.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code or 0
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"code": code, "peak_kb": peak}), file=sys.stderr)
"""


def seed(db: Path, n: int) -> float:
    """N ProfileStore-shaped entries, written as the emulator stores them; seconds taken."""
    from datetime import UTC, datetime

    started = time.perf_counter()
    now = to_ticks(datetime.now(UTC))
    database = Database(db)
    rows, entries = [], []
    for i in range(n):
        key = str(1_000_000 + i)
        coins = 9_000_000 if i == 4242 else 100 + (i * 37) % 600
        value = json.dumps(
            {
                "Data": {"Coins": coins, "Stage": i % 30, "OwnedItems": ["speed_coil"]},
                "MetaData": {"ProfileCreateTime": 1717430400, "LastUpdate": 1751990400},
                "UserIds": [int(key)],
            },
            separators=(",", ":"),
        )
        time_ = now - (n - i)
        revision = f"{dotnet_ticks(time_):016X}.{1:010d}.{dotnet_ticks(time_):016X}.01"
        rows.append((1, STORE, "global", key, 1, revision, time_, value, f"[{key}]", "{}"))
        entries.append((1, STORE, "global", key, time_, 1, None))
    with database.write() as conn:
        conn.execute(
            "INSERT OR IGNORE INTO stores (universe, name, create_time, expire_time) "
            "VALUES (1, ?, ?, NULL)",
            (STORE, now - n - 1),
        )
        conn.executemany("INSERT INTO revisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)", entries)
    database.close()
    return time.perf_counter() - started


def bound(n: int, sample: int, budget: Budget) -> float:
    list_rate = per_minute(RequestClass(Operation.LIST), budget) / 60
    read_rate = per_minute(RequestClass(Operation.READ), budget) / 60
    return math.ceil(n / PAGE) / list_rate + min(sample, n) / read_rate


def run_scan(url: str, sample: int, share: float, workdir: Path) -> dict[str, float]:
    repo = workdir / "repo"
    repo.mkdir(exist_ok=True)
    (repo / "dsgit.yaml").write_text(
        "version: 1\ndefault_environment: bench\nenvironments:\n  bench:\n"
        f"    universe_id: 1\n    url: {url}\n    api_key_env: DSGIT_BENCH_KEY\n"
        f"    budget: {{ccu: {CCU}, share: {share}}}\n",
        encoding="utf-8",
    )
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _CHILD,
            "-C",
            str(repo),
            "scan",
            STORE,
            "--sample",
            str(sample),
            "--format",
            "json",
            "-q",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "DSGIT_BENCH_KEY": "bench-key"},
        check=False,
    )
    wall = time.perf_counter() - started
    child = json.loads(done.stderr.strip().splitlines()[-1])
    if child["code"] != 0:
        raise RuntimeError(done.stderr[-3000:])
    body = json.loads(done.stdout)
    figures = body["stores"][0]
    return {
        "wall": wall,
        "peak_mb": child["peak_kb"] / 1024,
        "keys": figures["keys"],
        "read": figures["read"],
        "outliers": sum(len(f["outliers"]) for f in figures["outliers"]),
    }


def measure(n: int, sample: int, share: float, workdir: Path) -> dict[str, float]:
    db = workdir / f"emulator-{n}.db"
    seconds = seed(db, n)
    print(f"seeded {n:,} keys in {seconds:.1f} s", flush=True)
    with served_emulator(db, CCU) as url:
        result = run_scan(url, sample, share, workdir)
    budget = Budget(CCU, share)
    result["bound"] = bound(n, sample, budget)
    result["ratio"] = result["wall"] / result["bound"]
    assert result["keys"] == n and result["read"] == min(sample, n), result
    print(
        f"{n:>9,} keys, sample {sample:,}: wall {result['wall']:.1f} s, bound "
        f"{result['bound']:.1f} s (ratio {result['ratio']:.3f}), peak RSS "
        f"{result['peak_mb']:.0f} MB",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--share", type=float, default=0.5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dsgit-bench-scan-") as folder:
        workdir = Path(folder)
        small = measure(args.keys // 5, args.sample, args.share, workdir)
        large = measure(args.keys, args.sample, args.share, workdir)
    growth = large["peak_mb"] / small["peak_mb"]
    print(
        f"peak RSS at {args.keys // 5:,} keys {small['peak_mb']:.0f} MB, at {args.keys:,} "
        f"keys {large['peak_mb']:.0f} MB (x{growth:.2f} for x5 keys)"
    )
    print(f"scan --sample wall time / rate-budget bound = {large['ratio']:.3f} (target <= 1.15)")


if __name__ == "__main__":
    main()
