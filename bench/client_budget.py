"""Does the client spend the rate budget of a served emulator, without 429s reaching the user?

A served emulator (a subprocess, so it has its own interpreter) runs with its rate limits on at
1,000 CCU and 80 ms of injected latency (``FaultSpec`` ``latency=80ms``; ``--latency-at client``
adds it in the client's transport instead, 40 ms each way); the client reads with the
budget ``share × (300 + 40 × 1000)`` reads a minute. The figure judged is achieved reads per
minute (after a short warm-up) divided by that budget: the target is at least 0.95, with no
429 surfacing to the user (429s the server answered are counted too; there should be none).

    .venv/bin/python bench/client_budget.py [--quick] [--seconds 90] [--share 0.5]
        [--server subprocess|inprocess] [--latency-at server|client]
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx

from _common import latency_faults, served_emulator
from dsgit.config import Budget
from dsgit.model.entry import EntryData
from dsgit.remote.budget import Operation, RateBudget, RequestClass, per_minute
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.concurrent import map_concurrently


class LatencyTransport(httpx.BaseTransport):
    """Adds network-like latency (half before sending, half after) and counts statuses."""

    def __init__(self, inner: httpx.BaseTransport, latency: float) -> None:
        self._inner = inner
        self._half = latency / 2
        self.statuses: Counter[int] = Counter()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(self._half)
        response = self._inner.handle_request(request)
        response.read()
        time.sleep(self._half)
        with self._lock:
            self.statuses[response.status_code] += 1
        return response

    def close(self) -> None:
        self._inner.close()


def subprocess_server(ccu: int, latency: float) -> AbstractContextManager[str]:
    return served_emulator(
        ":memory:",
        ccu,
        latency_faults(latency),
        on_stop=lambda pid: SERVER_CPU.append(process_cpu_seconds(pid)),
    )


SERVER_CPU: list[float] = []


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def inprocess_server(ccu: int, latency: float) -> Iterator[str]:
    from dsgit.emulator import Emulator, FaultSpec

    faults = FaultSpec.parse(latency_faults(latency)) if latency > 0 else None
    emulator = Emulator(db=":memory:", ccu=ccu, faults=faults)
    with emulator.serve(host="127.0.0.1", port=0) as server:
        yield server.url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20 s instead of 90 s")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--ccu", type=int, default=1000)
    parser.add_argument("--share", type=float, default=0.5)
    parser.add_argument("--latency", type=float, default=0.08)
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--workers", type=int, default=None, help="override the worker count")
    parser.add_argument("--server", choices=["subprocess", "inprocess"], default="subprocess")
    parser.add_argument(
        "--latency-at",
        choices=["server", "client"],
        default="server",
        help="inject the latency in the emulator (FaultSpec latency) or in the client transport",
    )
    args = parser.parse_args()
    seconds = args.seconds or (20.0 if args.quick else 90.0)
    warmup = min(10.0, seconds / 4)
    budget = Budget(ccu=args.ccu, share=args.share)
    limit = per_minute(RequestClass(Operation.READ), budget)
    server_latency = args.latency if args.latency_at == "server" else 0.0
    client_latency = args.latency if args.latency_at == "client" else 0.0
    server: AbstractContextManager[str] = (
        subprocess_server(args.ccu, server_latency)
        if args.server == "subprocess"
        else inprocess_server(args.ccu, server_latency)
    )
    with server as url:
        keys = [f"Player_{i}" for i in range(args.keys)]
        with OpenCloudClient(1, base_url=url, api_key="bench", budget=RateBudget(budget)) as seeder:
            for _ in map_concurrently(
                lambda key: seeder.update_entry(
                    "PlayerData", key, EntryData({"Coins": 1}), allow_missing=True
                ),
                keys,
                workers=16,
            ):
                pass
        transport = LatencyTransport(httpx.HTTPTransport(), client_latency)
        client = OpenCloudClient(
            1,
            base_url=url,
            api_key="bench",  # served, any key passes
            budget=RateBudget(budget),
            transport=transport,
            max_workers=args.workers,
        )
        workers = args.workers or client.budget.concurrency(RequestClass(Operation.READ))
        print(
            f"budget {limit:,} reads/min ({args.share} x (300 + 40 x {args.ccu})), "
            f"latency {args.latency * 1000:.0f} ms (at the {args.latency_at}), "
            f"{workers} workers, {seconds:.0f} s"
        )
        done: list[float] = []
        errors = 0
        started = time.monotonic()
        deadline = started + seconds
        requests = itertools.cycle([("PlayerData", "global", key) for key in keys])
        results = client.get_entries(requests)
        try:
            for _, entry in results:
                now = time.monotonic()
                if entry is None:
                    errors += 1
                done.append(now)
                if now >= deadline:
                    break
        except Exception as exc:  # a 429 (or anything) surfacing to the user ends the run
            print(f"error surfaced to the user: {type(exc).__name__}: {exc}")
            errors += 1
        finally:
            results.close()  # type: ignore[attr-defined]
            client.close()
    measured = [t for t in done if t >= started + warmup]
    span = (done[-1] if done else deadline) - (started + warmup)
    per_min = len(measured) / span * 60 if span > 0 else 0.0
    ratio = per_min / limit
    print(f"reads completed: {len(done):,} in {done[-1] - started if done else 0:.1f} s")
    print(f"statuses seen by the transport: {dict(sorted(transport.statuses.items()))}")
    print(
        f"429 answered by the server: {transport.statuses.get(429, 0)}; errors surfaced: {errors}"
    )
    print(f"achieved {per_min:,.0f} reads/min after {warmup:.0f} s warm-up")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    print(f"client CPU: {cpu:.1f} s ({cpu / max(len(done), 1) * 1000:.2f} ms a read)")
    if SERVER_CPU:
        served = SERVER_CPU[0]
        print(f"server CPU: {served:.1f} s ({served / max(len(done), 1) * 1000:.2f} ms a request)")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"ratio: achieved / budget = {ratio:.3f} (target >= 0.95)")


if __name__ == "__main__":
    main()
