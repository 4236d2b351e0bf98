"""Peak memory while listing keys stays flat: 10,000 versus 100,000 keys.

Listings are lazy (one page of 256 keys at a time), so the peak traced by ``tracemalloc`` while
iterating ``list_keys`` must not grow with the number of keys. The keys are seeded through the
client first (not traced).

One bounded cache is not dsgit's: httpx hands every response URL to ``urllib.parse`` (for
cookies), which keeps the last 128 URLs it split, and every page URL differs by its page token.
That cache fills up during a long listing (about 90 KiB) and then stays the same size. The
figures are printed twice: as traced, and with that cache emptied after each page, which is
the memory dsgit's own code holds.

    .venv/bin/python bench/client_memory.py [--quick]     # --quick: 2,000 vs 20,000
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import tracemalloc
import urllib.parse
from pathlib import Path

from dsgit.emulator import Emulator
from dsgit.model.entry import EntryData
from dsgit.remote.concurrent import map_concurrently
from dsgit.remote.testing import emulated_client


def seed(emulator: Emulator, store: str, count: int) -> None:
    with emulated_client(emulator, universe_id=1) as client:
        keys = (f"user/{i:07d}" for i in range(count))
        for _ in map_concurrently(
            lambda key: client.update_entry(store, key, EntryData(1), allow_missing=True),
            keys,
            workers=2,
        ):
            pass


def peak_while_listing(
    emulator: Emulator, store: str, expected: int, *, clear_url_cache: bool
) -> tuple[int, float]:
    with emulated_client(emulator, universe_id=1) as client:
        gc.collect()
        urllib.parse.clear_cache()
        tracemalloc.start()
        started = time.perf_counter()
        listed = 0
        for _ in client.list_keys(store):
            listed += 1
            if clear_url_cache and listed % 256 == 0:
                urllib.parse.clear_cache()
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert listed == expected, (listed, expected)
    return peak, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2,000 vs 20,000 keys")
    args = parser.parse_args()
    small, large = (2_000, 20_000) if args.quick else (10_000, 100_000)
    with tempfile.TemporaryDirectory() as folder:
        emulator = Emulator(db=Path(folder) / "bench.db")
        started = time.perf_counter()
        seed(emulator, "Small", small)
        seed(emulator, "Large", large)
        print(f"seeded {small + large:,} keys in {time.perf_counter() - started:.1f} s")
        for clear in (False, True):
            label = "URL cache emptied per page" if clear else "as traced"
            small_peak, small_time = peak_while_listing(
                emulator, "Small", small, clear_url_cache=clear
            )
            large_peak, large_time = peak_while_listing(
                emulator, "Large", large, clear_url_cache=clear
            )
            print(f"{label}:")
            print(f"  {small:>7,} keys: peak {small_peak / 1024:6.0f} KiB ({small_time:.1f} s)")
            print(f"  {large:>7,} keys: peak {large_peak / 1024:6.0f} KiB ({large_time:.1f} s)")
            print(f"  ratio: peak at {large:,} / peak at {small:,} = {large_peak / small_peak:.2f}")
        emulator.close()


if __name__ == "__main__":
    main()
