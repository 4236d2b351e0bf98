"""CPU seconds a retention scan spends per entry, in the scanning process and in the emulator.

Wall time on a shared machine says little about cost; CPU time does. This runs the judged
scan's path (``dsgit.retention.plan_retention`` through ``OpenCloudClient`` against a *served*
emulator subprocess, the same ProfileStore profiles as ``scan_retention.py``) and reports, per
entry visited, the scanning process's CPU (``time.process_time``) and the emulator process's
(user + system time from ``/proc/<pid>/stat``, taken just before and after the scan).

By default the emulator has limits off and no latency, and the client a budget so large
(``--client-ccu``, 1,000,000) that it never makes a request wait: the budget's limiter and
its sizing of the reader pool stay on the path, as in the judged scan, but the figure is the
cost of the path itself. ``--ccu`` and ``--latency-ms`` put limits and latency on the
emulator (then the scan takes as long as they say; CPU per entry is still comparable).

    .venv/bin/python bench/scan_cpu.py [--keys 5000] [--repeat 3] [--client-ccu N]
        [--ccu N] [--latency-ms 80] [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from _common import latency_faults, served_emulator
from dsgit.config import Budget
from dsgit.remote.budget import Operation, RateBudget, RequestClass
from dsgit.remote.client import OpenCloudClient
from dsgit.retention import RetentionRequest, plan_retention
from scan_retention import NOW, SHARE, policy, seed

_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def one_scan(url: str, server_pid: int, budget: Budget, profile: Path | None) -> dict[str, float]:
    request = RetentionRequest("bench", 1, now=NOW)
    server_before = process_cpu(server_pid)
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = time.process_time()
    started = time.perf_counter()
    profiler = cProfile.Profile() if profile is not None else None
    with OpenCloudClient(1, base_url=url, api_key="bench", budget=RateBudget(budget)) as client:
        readers = client.budget.concurrency(RequestClass(Operation.READ))
        if profiler is not None:
            profiler.enable()
        run = plan_retention(client, policy("Large"), request)
        if profiler is not None:
            profiler.disable()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    usage = resource.getrusage(resource.RUSAGE_SELF)
    server = process_cpu(server_pid) - server_before
    visited = run.scan.counters["visited"]
    run.done()
    if profiler is not None and profile is not None:
        profiler.dump_stats(str(profile))
    return {
        "visited": visited,
        "readers": readers,
        "wall_seconds": round(wall, 2),
        "entries_per_second": round(visited / wall, 1),
        "client_cpu_ms_per_entry": round(1000 * cpu / visited, 3),
        "emulator_cpu_ms_per_entry": round(1000 * server / visited, 3),
        "client_system_share": round((usage.ru_stime - usage_before.ru_stime) / cpu, 2),
        "client_switches_per_entry": round(
            (usage.ru_nvcsw + usage.ru_nivcsw - usage_before.ru_nvcsw - usage_before.ru_nivcsw)
            / visited,
            1,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--client-ccu", type=int, default=1_000_000, help="the client's budget (sizes its readers)"
    )
    parser.add_argument("--ccu", type=int, default=None, help="the emulator's limits (none: off)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="the emulator's latency")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile the last scan")
    args = parser.parse_args()
    budget = Budget(ccu=args.client_ccu, share=SHARE)
    with tempfile.TemporaryDirectory(prefix="dsgit-scan-cpu-") as temp:
        db = Path(temp) / "bench.db"
        seeded = seed(db, {"Large": args.keys})
        print(f"seeded {args.keys:,} profiles in {seeded:.0f} s", flush=True)
        pid: list[int] = []
        faults = latency_faults(args.latency_ms / 1000)
        with served_emulator(db, args.ccu, faults, on_start=pid.append) as url:
            runs = []
            for index in range(args.repeat):
                last = index == args.repeat - 1
                figure = one_scan(url, pid[0], budget, args.profile if last else None)
                print(json.dumps(figure), flush=True)
                runs.append(figure)
    client = statistics.median(r["client_cpu_ms_per_entry"] for r in runs)
    server = statistics.median(r["emulator_cpu_ms_per_entry"] for r in runs)
    print()
    print(
        f"load average {os.getloadavg()[0]:.1f}; {args.keys:,} keys, {runs[-1]['readers']} readers"
    )
    print(f"CPU per entry (median of {len(runs)}): scan {client:.3f} ms, emulator {server:.3f} ms")


if __name__ == "__main__":
    main()
