"""How close does a retention scan come to the rate-budget bound, and is its memory flat?

Every figure runs ``dsgit.retention.plan_retention`` (the live scan, the visitor, the plan)
against a *served* emulator (a subprocess: its own interpreter) holding ProfileStore profiles
keyed by user id: 1 % last saved 800 days ago (the rule deletes those not session-locked),
every 500th locked by a game server.

1. **Budget** (judged): a retention scan of N keys (default 100,000) at CCU 1,000 with 80 ms
   latency, ``share`` 0.5. Every selected key must be read, so the scan cannot finish before
   ``max(N / read rate, listing pages / list rate)``: N / 335.8 s. Target: wall / bound <= 1.10.
2. **Memory**: peak RSS of a fresh process scanning 10,000 and N keys (limits off, the emulator
   in its own process, so the figure is dsgit's). Target: N's peak <= 1.2 x 10,000's, < 150 MB.
3. **Shards**: the same scan as 4 processes (``--shard K/4``, each ``share / 4``) at once against
   the same emulator; wall from the first start to the last end over the same bound. Target
   <= 1.15.
4. **Resume**: a scan checkpointing every 1,000 entries is killed (SIGKILL) at a random point,
   then resumed; the entries read twice (read before the kill but after the last checkpoint)
   against the checkpoint interval (plus the reads in flight at the kill).

    .venv/bin/python bench/scan_retention.py [--keys 100000] [--small 10000] [--only budget,...]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import latency_faults, served_emulator
from dsgit.config import Budget
from dsgit.model.entry import EntryData, JSONValue
from dsgit.remote.budget import Operation, RateBudget, RequestClass, per_minute
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.concurrent import map_concurrently
from dsgit.retention import RetentionPolicy, RetentionRequest, RetentionRule, plan_retention
from dsgit.scan import Shard

CCU = 1000
LATENCY = 0.080
SHARE = 0.5
NOW = datetime(2026, 9, 1, tzinfo=UTC)
DAY = 86400.0
INTERVAL = 1000  # checkpoint every this many entries in the resume figure


def profile(user: int) -> JSONValue:
    old = user % 100 == 0
    last = NOW.timestamp() - (800 if old else 3) * DAY
    meta: dict[str, JSONValue] = {
        "ProfileCreateTime": last - 90 * DAY,
        "SessionLoadCount": user % 40,
        "LastUpdate": last,
        "MetaTags": {},
    }
    if user % 500 == 0:
        meta["ActiveSession"] = [1818, f"job-{user}", f"{user:08x}"]
    return {
        "Data": {"Coins": user % 1000, "Inventory": ["sword", "shield"], "Level": user % 60},
        "MetaData": meta,
        "RobloxMetaData": {},
        "UserIds": [user],
        "GlobalUpdates": [0, []],
    }


def seed(db: Path, stores: dict[str, int]) -> float:
    """Profiles 1..n in each store (in process, limits off); seconds taken."""
    from dsgit.emulator import Emulator
    from dsgit.remote.testing import emulated_client

    started = time.perf_counter()
    emulator = Emulator(db=db, ccu=None)
    with emulated_client(emulator, universe_id=1, max_workers=8) as client:
        for store, n in stores.items():

            def put(user: int, store: str = store) -> None:
                data = EntryData(profile(user), {}, (user,))
                client.update_entry(store, str(user), data, allow_missing=True)

            for _ in map_concurrently(put, range(1, n + 1), workers=8):
                pass
    emulator.close()
    return time.perf_counter() - started


def policy(store: str) -> RetentionPolicy:
    rule = RetentionRule(
        name="inactive-profiles",
        store=store,
        older_than=timedelta(days=730),
        older_than_text="730d",
        timestamp="/MetaData/LastUpdate",
        max_deletes=1_000_000,
    )
    return RetentionPolicy((rule,), "sha256:bench")


def client_for(url: str, budget: Budget | None) -> OpenCloudClient:
    rate = RateBudget(budget) if budget is not None else RateBudget.unlimited()
    workers = None if budget is not None else 16
    return OpenCloudClient(1, base_url=url, api_key="bench", budget=rate, max_workers=workers)


def scan(
    url: str,
    store: str,
    budget: Budget | None,
    *,
    shard: Shard | None = None,
    checkpoint: Path | None = None,
    every: int = 1000,
) -> dict[str, float]:
    request = RetentionRequest(
        "bench", 1, shard=shard, checkpoint=checkpoint, every_entries=every, now=NOW
    )
    started = time.perf_counter()
    cpu_started = time.process_time()
    with client_for(url, budget) as client:
        run = plan_retention(client, policy(store), request)
        reads = client.meter.snapshot().get(Operation.READ, 0)
        lists = client.meter.snapshot().get(Operation.LIST, 0)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    figure = {
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "cpu_ms_per_entry": round(1000 * cpu / max(1, run.scan.counters["visited"]), 2),
        "visited": run.scan.counters["visited"],
        "deletions": len(run.plan.changes),
        "reads": reads,
        "list_requests": lists,
        "resumed": run.scan.resumed,
    }
    run.done()
    return figure


def bound_seconds(n: int, share: float = SHARE) -> float:
    budget = Budget(ccu=CCU, share=share)
    reads = per_minute(RequestClass(Operation.READ), budget) / 60
    lists = per_minute(RequestClass(Operation.LIST), budget) / 60
    pages = -(-n // 256)
    return max(n / reads, pages / lists)


def budget_figure(url: str, n: int) -> dict[str, float]:
    figure = scan(url, "Large", Budget(ccu=CCU, share=SHARE))
    bound = bound_seconds(n)
    return {
        "keys": n,
        "bound_seconds": round(bound, 2),
        **figure,
        "ratio": round(figure["wall_seconds"] / bound, 3),
    }


def memory_step(url: str, store: str) -> None:
    """In a fresh process: scan ``store`` with limits off; print the figure and peak RSS."""
    figure = scan(url, store, None)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({**figure, "peak_rss_mb": round(peak_kb / 1024, 1)}))


def _child(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def memory_figure(url: str, store: str) -> dict[str, float]:
    out, err = _child("--memory-step", url, store).communicate()
    if not out.strip():
        raise RuntimeError(err)
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def shard_step(url: str, index: int, count: int) -> None:
    budget = Shard(index, count).budget(Budget(ccu=CCU, share=SHARE))
    print(json.dumps(scan(url, "Large", budget, shard=Shard(index, count))))


def shards_figure(url: str, n: int, count: int = 4) -> dict[str, float]:
    started = time.perf_counter()
    children = [_child("--shard-step", url, str(k), str(count)) for k in range(1, count + 1)]
    results = []
    for child in children:
        out, err = child.communicate()
        if child.returncode != 0:
            raise RuntimeError(err)
        results.append(json.loads(out.strip().splitlines()[-1]))
    wall = time.perf_counter() - started
    bound = bound_seconds(n)
    return {
        "keys": n,
        "shards": count,
        "bound_seconds": round(bound, 2),
        "wall_seconds": round(wall, 2),
        "per_shard_wall": [r["wall_seconds"] for r in results],
        "visited": sum(r["visited"] for r in results),
        "deletions": sum(r["deletions"] for r in results),
        "ratio": round(wall / bound, 3),
    }


def resume_step(url: str, checkpoint: str, progress: str) -> None:
    """A scan that reports its read count to ``progress`` every 20 ms, until it is killed."""
    budget = Budget(ccu=CCU, share=SHARE)
    client = client_for(url, budget)

    def report() -> None:
        while True:
            reads = client.meter.snapshot().get(Operation.READ, 0)
            temp = progress + ".tmp"
            Path(temp).write_text(str(reads))
            os.replace(temp, progress)
            time.sleep(0.02)

    threading.Thread(target=report, daemon=True).start()
    request = RetentionRequest(
        "bench", 1, checkpoint=Path(checkpoint), every_entries=INTERVAL, now=NOW
    )
    plan_retention(client, policy("Small"), request)


def resume_figure(url: str, n: int, workdir: Path) -> dict[str, float]:
    checkpoint = workdir / "resume.json"
    progress = workdir / "resume.reads"
    child = _child("--resume-step", url, str(checkpoint), str(progress))
    rng = random.Random()
    # kill somewhere after the first checkpoints, before the end
    wait_until = rng.uniform(1.2 * INTERVAL, max(1.3 * INTERVAL, n - INTERVAL))
    while True:
        time.sleep(0.05)
        reads = int(progress.read_text()) if progress.exists() else 0
        if reads >= wait_until or child.poll() is not None:
            break
    child.send_signal(signal.SIGKILL)
    child.communicate()
    read_before_kill = int(progress.read_text())
    saved = json.loads(checkpoint.read_text())
    covered = saved["counters"]["visited"] + saved["counters"]["vanished"]
    figure = scan(url, "Small", Budget(ccu=CCU, share=SHARE), checkpoint=checkpoint, every=INTERVAL)
    total_reads = read_before_kill + figure["reads"]
    workers = RateBudget(Budget(ccu=CCU, share=SHARE)).concurrency(RequestClass(Operation.READ))
    return {
        "keys": n,
        "checkpoint_every": INTERVAL,
        "killed_after_reads": read_before_kill,
        "checkpoint_covered": covered,
        "resumed_reads": figure["reads"],
        "visited_in_result": figure["visited"],
        "read_twice": total_reads - n,
        "in_flight_at_most": 2 * workers,
        "deletions": figure["deletions"],
        "resumed": figure["resumed"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000, help="keys of the big scan")
    parser.add_argument("--small", type=int, default=10_000, help="keys of the small scan")
    parser.add_argument("--only", default="memory,resume,budget,shards")
    parser.add_argument("--memory-step", nargs=2, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--shard-step", nargs=3, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--resume-step", nargs=3, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_step:
        memory_step(*args.memory_step)
        return
    if args.shard_step:
        url, index, count = args.shard_step
        shard_step(url, int(index), int(count))
        return
    if args.resume_step:
        resume_step(*args.resume_step)
        return
    only = set(args.only.split(","))
    n, small = args.keys, args.small
    figures: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="dsgit-scan-bench-") as temp:
        workdir = Path(temp)
        db = workdir / "bench.db"
        seeded = seed(db, {"Small": small, "Large": n})
        print(f"seeded {small:,} + {n:,} profiles in {seeded:.0f} s", flush=True)
        if "memory" in only:
            with served_emulator(db, None) as url:
                figures["memory_small"] = memory_figure(url, "Small")
                print(f"memory_small: {json.dumps(figures['memory_small'])}", flush=True)
                figures["memory_big"] = memory_figure(url, "Large")
                print(f"memory_big: {json.dumps(figures['memory_big'])}", flush=True)
        with served_emulator(db, CCU, latency_faults(LATENCY)) as url:
            if "resume" in only:
                figures["resume"] = resume_figure(url, small, workdir)
                print(f"resume: {json.dumps(figures['resume'])}", flush=True)
            if "budget" in only:
                figures["budget"] = budget_figure(url, n)
                print(f"budget: {json.dumps(figures['budget'])}", flush=True)
        if "shards" in only:
            # a fresh server: its rate-limit window starts empty, as for the single scan
            with served_emulator(db, CCU, latency_faults(LATENCY)) as url:
                figures["shards"] = shards_figure(url, n)
                print(f"shards: {json.dumps(figures['shards'])}", flush=True)
    print()
    if "memory" in only:
        big, little = figures["memory_big"], figures["memory_small"]
        growth = float(big["peak_rss_mb"]) / float(little["peak_rss_mb"])  # type: ignore[arg-type]
        print(
            f"peak RSS: {little['peak_rss_mb']} MB at {small:,} keys, {big['peak_rss_mb']} MB at "
            f"{n:,}: x{growth:.2f} (target <= 1.2, < 150 MB)"
        )
    if "resume" in only:
        resume = figures["resume"]
        print(
            f"resume: read twice {resume['read_twice']} entries; checkpoint every {INTERVAL:,} "
            f"entries, at most {resume['in_flight_at_most']} reads in flight"
        )
    if "shards" in only:
        print(f"4 shards: wall / bound = {figures['shards']['ratio']:.3f} (target <= 1.15)")
    if "budget" in only:
        ratio = figures["budget"]["ratio"]
        print(f"retention scan wall time / rate-budget bound = {ratio:.3f} (target <= 1.10)")


if __name__ == "__main__":
    main()
