"""How close does ``dsgit apply`` come to the write-budget bound, and what does it cost itself?

1. **Budget** (the figure judged): apply a plan of N updates (1,000) against a *served*
   emulator (a subprocess) with rate limits on at 1,000 CCU and 80 ms of injected latency,
   through a client holding ``share`` (0.5) of the budget. Every update is one write, so the
   apply cannot finish before ``N / (share × (300 + 20 × CCU) / 60)`` seconds. The ratio judged
   is wall time / that bound: target <= 1.10. Each change also costs a read (the re-read that
   checks the precondition and captures the pre-image), a pre-image file and two fsync'd journal
   records; the read class has twice the write budget, so the write budget stays the bound.
2. **Overhead**: the same apply with limits off (in-process emulator, no latency, unlimited
   budget): changes per second, i.e. what dsgit itself costs per change (journal, pre-images,
   ledger, the re-read and the write through the in-process emulator).

    .venv/bin/python bench/apply_budget.py [--quick] [--changes 1000] [--workers 48]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import latency_faults, served_emulator
from dsgit.apply.result import ApplyStatus
from dsgit.apply.run import ApplyDeps, ApplyOptions, apply_plan
from dsgit.config import Budget, Environment
from dsgit.model.declaration import (
    Declaration,
    DeclaredEntry,
    SourceInfo,
    StoreDeclaration,
    StorePolicy,
)
from dsgit.model.entry import Address, EntryData, JSONValue, StoreKind
from dsgit.plan.model import Plan
from dsgit.planning.usecase import PlanRequest, make_plan
from dsgit.remote.budget import Operation, RateBudget, RequestClass, per_minute
from dsgit.remote.client import OpenCloudClient
from dsgit.repo.digest import declaration_digest

STORE = "Bench"
CCU = 1000
LATENCY = 0.080


def value(n: int, *, new: bool) -> JSONValue:
    return {"Name": f"item-{n}", "Price": n % 97 + (1 if new else 0), "Tags": ["a", "b"]}


def declaration(n: int) -> Declaration:
    entries = {}
    for i in range(n):
        address = Address(StoreKind.STANDARD, STORE, "global", f"key{i:06d}")
        entries[("global", address.key)] = DeclaredEntry(
            address, EntryData(value(i, new=True)), f"datastores/{STORE}/global/{address.key}.yaml"
        )
    stores = {
        (StoreKind.STANDARD, STORE): StoreDeclaration(
            StoreKind.STANDARD, STORE, StorePolicy(), entries
        )
    }
    return Declaration(stores, {}, SourceInfo(None, True, declaration_digest(stores, {})))


def seed_and_plan(db: Path, decl: Declaration, n: int) -> Plan:
    """Fill an emulator database with the old values and plan the new ones (limits off)."""
    from dsgit.emulator import Emulator
    from dsgit.remote.testing import emulated_client

    emulator = Emulator(db=db, ccu=None)
    with emulated_client(emulator, universe_id=1, max_workers=8) as client:
        for i in range(n):
            client.create_entry(STORE, f"key{i:06d}", EntryData(value(i, new=False)))
        plan = make_plan(decl, client, PlanRequest("bench", 1, now=datetime.now(UTC)))
    emulator.close()
    assert sum(1 for c in plan.changes if not c.is_noop) == n
    return plan


def run_apply(
    root: Path, plan: Plan, decl: Declaration, client: OpenCloudClient, workers: int
) -> float:
    env = Environment(name="bench", universe_id=1, url="http://bench")
    deps = ApplyDeps(root=root, env=env, api=client, declaration=decl, actor="bench")
    started = time.perf_counter()
    cpu = time.process_time()
    result = apply_plan(plan, deps, ApplyOptions(workers=workers))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    assert result.status is ApplyStatus.COMPLETE, (result.status, result.failure)
    assert len(result.written) == len(plan.changes)
    print(f"  (apply process CPU {cpu:.2f} s: {cpu / len(plan.changes) * 1000:.2f} ms a change)")
    return elapsed


def budget_run(n: int, share: float, workers: int) -> None:
    budget = Budget(ccu=CCU, share=share)
    per_second = per_minute(RequestClass(Operation.WRITE), budget) / 60
    bound = n / per_second
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "emulator.db"
        decl = declaration(n)
        plan = seed_and_plan(db, decl, n)
        with served_emulator(db, CCU, latency_faults(LATENCY)) as url:
            client = OpenCloudClient(
                1, base_url=url, api_key="bench", budget=RateBudget(budget), max_workers=64
            )
            with client:
                elapsed = run_apply(Path(folder) / "repo", plan, decl, client, workers)
    print(
        f"budget: {n} updates at CCU {CCU}, {LATENCY * 1000:.0f} ms latency, share {share}, "
        f"{workers} workers: {elapsed:.2f} s; write budget {per_second:.1f}/s, "
        f"bound {bound:.2f} s; ratio {elapsed / bound:.3f} (target <= 1.10)"
    )


def overhead_run(n: int, workers: int) -> None:
    from dsgit.emulator import Emulator

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "emulator.db"
        decl = declaration(n)
        plan = seed_and_plan(db, decl, n)
        emulator = Emulator(db=db, ccu=None)
        client = OpenCloudClient(
            1,
            base_url="http://embedded",
            transport=emulator.transport(),
            budget=RateBudget.unlimited(),
            on_close=emulator.close,
        )
        with client:
            elapsed = run_apply(Path(folder) / "repo", plan, decl, client, workers)
    print(
        f"limits off: {n} updates (in-process emulator, no latency, {workers} workers): "
        f"{elapsed:.2f} s, {n / elapsed:.0f} changes/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 changes instead of 1,000")
    parser.add_argument("--changes", type=int, default=None)
    parser.add_argument("--share", type=float, default=0.5)
    parser.add_argument("--workers", type=int, default=48)
    args = parser.parse_args()
    n = args.changes or (200 if args.quick else 1000)
    budget_run(n, args.share, args.workers)
    overhead_run(n, args.workers)


if __name__ == "__main__":
    main()
