"""How close does ``dsgit plan`` come to the rate-budget bound, and what does it cost itself?

1. **Budget** (the figure judged): a plan of N owned entries (10,000; 10 % differing live)
   against a *served* emulator (a subprocess: its own interpreter) with rate limits on at
   1,000 CCU and 80 ms of injected latency. A plan must read every declared entry that exists
   live, so it cannot finish before ``N / (share × (300 + 40 × CCU) / 60)`` seconds. The ratio
   judged is wall time / that bound: target <= 1.10.
2. **Overhead**: the same plan with limits off (in-process emulator, no latency, unlimited
   budget): entries per second, i.e. what dsgit itself costs per entry.
3. **Memory**: peak RSS of a fresh process planning 10,000 and 100,000 entries (in-process
   emulator, limits off; the emulator's own memory is included, so this is an upper bound).
   Target: under 1 GB at 100,000.

    .venv/bin/python bench/plan_budget.py [--quick] [--entries 10000] [--share 0.5]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import latency_faults, served_emulator
from dsgit.config import Budget
from dsgit.model.declaration import Declaration, DeclaredEntry, StoreDeclaration, StorePolicy
from dsgit.model.entry import Address, EntryData, JSONValue, StoreKind
from dsgit.remote.budget import Operation, RateBudget, RequestClass, per_minute
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.concurrent import map_concurrently

STORE = "Bench"
CCU = 1000
LATENCY = 0.080


def value(n: int, *, live: bool) -> JSONValue:
    """A small realistic config value; every tenth entry differs between git and live."""
    price = n % 97 + (1 if live and n % 10 == 0 else 0)
    return {"Name": f"item-{n}", "Price": price, "Tags": ["a", "b"], "Stock": {"max": n % 13}}


def declaration(n: int) -> Declaration:
    entries = {}
    for i in range(n):
        address = Address(StoreKind.STANDARD, STORE, "global", f"key{i:06d}")
        entries[("global", address.key)] = DeclaredEntry(
            address,
            EntryData(value(i, live=False)),
            f"datastores/{STORE}/global/{address.key}.yaml",
        )
    store = StoreDeclaration(StoreKind.STANDARD, STORE, StorePolicy(), entries)
    return Declaration({(StoreKind.STANDARD, STORE): store})


def seed(db: Path, n: int) -> float:
    """Fill an emulator database with N live entries (in process, limits off); seconds taken."""
    from dsgit.emulator import Emulator
    from dsgit.remote.testing import emulated_client

    started = time.perf_counter()
    emulator = Emulator(db=db, ccu=None)
    with emulated_client(emulator, universe_id=1, max_workers=8) as client:

        def put(i: int) -> None:
            client.update_entry(
                STORE, f"key{i:06d}", EntryData(value(i, live=True)), allow_missing=True
            )

        for _ in map_concurrently(put, range(n), workers=8):
            pass
    emulator.close()
    return time.perf_counter() - started


def run_plan(client: OpenCloudClient, n: int) -> dict[str, float]:
    """Plan N entries as ``make_plan`` does, timing the live reads and the pure core apart."""
    from dsgit.plan.build import PlanSettings, build_plan
    from dsgit.plan.desired import desired_from_declaration
    from dsgit.plan.targets import AddressFilter
    from dsgit.planning.read import read_live

    decl = declaration(n)
    started = time.perf_counter()
    desired = desired_from_declaration(decl)
    read_started = time.perf_counter()
    live = read_live(client, desired, AddressFilter())
    read_done = time.perf_counter()
    settings = PlanSettings("bench", 1, datetime.now(UTC), expires_in=timedelta(hours=1))
    plan = build_plan(desired, live, settings)
    done = time.perf_counter()
    return {
        "wall": done - started,
        "read": read_done - read_started,
        "core": (read_started - started) + (done - read_done),
        "updates": plan.summary["update"],
        "unchanged": plan.summary["no-op"],
        "errors": sum(1 for d in plan.all_diagnostics if d.severity.value == "error"),
    }


def budget_figure(n: int, share: float, workdir: Path) -> dict[str, float]:
    db = workdir / "budget.db"
    seeded = seed(db, n)
    budget = Budget(ccu=CCU, share=share)
    reads_per_second = per_minute(RequestClass(Operation.READ), budget) / 60
    bound = n / reads_per_second
    with served_emulator(db, CCU, latency_faults(LATENCY)) as url:
        client = OpenCloudClient(1, base_url=url, api_key="bench", budget=RateBudget(budget))
        with client:
            result = run_plan(client, n)
    return {
        "entries": n,
        "seed_seconds": round(seeded, 1),
        "read_budget_per_second": round(reads_per_second, 1),
        "bound_seconds": round(bound, 2),
        "wall_seconds": round(result["wall"], 2),
        "ratio": round(result["wall"] / bound, 3),
        "updates": result["updates"],
        "unchanged": result["unchanged"],
        "errors": result["errors"],
    }


def overhead_figure(n: int, workdir: Path) -> dict[str, float]:
    from dsgit.emulator import Emulator
    from dsgit.remote.testing import emulated_client

    db = workdir / "overhead.db"
    seed(db, n)
    emulator = Emulator(db=db, ccu=None)
    with emulated_client(emulator, universe_id=1, max_workers=8) as client:
        result = run_plan(client, n)
    emulator.close()
    return {
        "entries": n,
        "wall_seconds": round(result["wall"], 2),
        "entries_per_second": round(n / result["wall"]),
        "read_entries_per_second": round(n / result["read"]),
        "core_entries_per_second": round(n / result["core"]),
        "errors": result["errors"],
    }


def memory_step(n: int, db: str) -> None:
    """Run in a fresh process: plan N entries, print peak RSS."""
    from dsgit.emulator import Emulator
    from dsgit.remote.testing import emulated_client

    emulator = Emulator(db=db, ccu=None)
    with emulated_client(emulator, universe_id=1, max_workers=8) as client:
        result = run_plan(client, n)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figure = {
        "entries": n,
        "peak_rss_mb": round(peak_kb / 1024),
        "wall_seconds": round(result["wall"], 1),
        "errors": result["errors"],
    }
    print(json.dumps(figure))


def memory_figure(n: int, workdir: Path) -> dict[str, float]:
    db = workdir / f"memory{n}.db"
    seed(db, n)
    out = subprocess.run(
        [sys.executable, __file__, "--memory-step", str(n), "--db", str(db)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (2,000 / 20,000)")
    parser.add_argument("--entries", type=int, default=None)
    parser.add_argument("--share", type=float, default=0.5)
    parser.add_argument("--memory-step", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--db", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_step is not None:
        memory_step(args.memory_step, args.db)
        return
    n = args.entries or (2_000 if args.quick else 10_000)
    big = 20_000 if args.quick else 100_000
    with tempfile.TemporaryDirectory(prefix="dsgit-plan-bench-") as temp:
        workdir = Path(temp)
        figures = {
            "budget": budget_figure(n, args.share, workdir),
            "overhead": overhead_figure(n, workdir),
            "memory_small": memory_figure(n, workdir),
            "memory_big": memory_figure(big, workdir),
        }
    for name, figure in figures.items():
        print(f"{name}: {json.dumps(figure)}")
    ratio = figures["budget"]["ratio"]
    print(f"\nplan wall time / rate-budget bound = {ratio:.3f} (target <= 1.10)")
    overhead = figures["overhead"]
    print(
        f"limits off: {overhead['entries_per_second']} entries/s end to end "
        f"(reads through client + in-process emulator: {overhead['read_entries_per_second']}/s, "
        f"planning core: {overhead['core_entries_per_second']}/s)"
    )
    print(f"peak RSS at {big:,} entries: {figures['memory_big']['peak_rss_mb']} MB (target < 1024)")


if __name__ == "__main__":
    main()
