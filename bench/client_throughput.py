"""Requests a second through the client and the in-process emulator, rate limits off.

Measures what dsgit itself costs per request (client + emulator, no network): sequential
writes, sequential reads, concurrent reads (``get_entries``) and key listing.

    .venv/bin/python bench/client_throughput.py [--quick]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from dsgit.emulator import Emulator
from dsgit.model.entry import EntryData
from dsgit.remote.testing import emulated_client

VALUE = {"Data": {"Coins": 120, "Items": ["sword", "shield"], "Level": 7}, "MetaData": {}}


def timed(label: str, count: int, action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    elapsed = time.perf_counter() - started
    rate = count / elapsed
    print(f"{label:<34} {count:>7} requests  {elapsed:7.2f} s  {rate:8.0f} req/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    args = parser.parse_args()
    count = 1_000 if args.quick else 5_000
    keys = [f"Player_{i}" for i in range(count)]
    emulator = Emulator(db=":memory:")
    with emulated_client(emulator, universe_id=1, max_workers=4) as client:

        def write() -> None:
            for key in keys:
                client.update_entry(
                    "PlayerData", key, EntryData(VALUE, {}, (1,)), allow_missing=True
                )

        def read() -> None:
            for key in keys:
                client.get_entry("PlayerData", key)

        def read_many() -> None:
            for _ in client.get_entries(("PlayerData", "global", key) for key in keys):
                pass

        def listing() -> None:
            assert sum(1 for _ in client.list_keys("PlayerData")) == count

        write_rate = timed("update_entry (sequential)", count, write)
        read_rate = timed("get_entry (sequential)", count, read)
        many_rate = timed("get_entries (4 workers)", count, read_many)
        pages = -(-count // 256)
        list_rate = timed("list_keys (256 a page)", pages, listing)
    print()
    print(f"keys listed per second: {list_rate * 256:,.0f}")
    print(
        f"ratio: reads/s {read_rate:,.0f}, writes/s {write_rate:,.0f}, "
        f"concurrent/sequential reads {many_rate / read_rate:.2f}"
    )
    # The budget at 1,000 CCU and share 0.5 is 336 reads/s; dsgit's own cost must sit far below.
    print(f"ratio of sequential read capacity to a 1,000-CCU read budget: {read_rate / 335.8:.1f}x")


if __name__ == "__main__":
    main()
