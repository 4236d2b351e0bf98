"""Peak memory while listing keys stays flat: 10,000 versus 100,000 keys.

Listings are lazy (one page of 256 keys at a time), so the peak traced by ``tracemalloc`` while
iterating ``list_keys`` must not grow with the number of keys. The keys are seeded through
the client first (not traced). One untraced listing runs first: it fills bounded global caches
(``urllib.parse`` keeps the last 128 URLs it split, and every page URL differs by its token),
which would otherwise count against the smaller listing only.

    .venv/bin/python bench/client_memory.py [--quick]     # --quick: 2,000 vs 20,000
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import tracemalloc
from pathlib import Path

from dsgit.emulator import Emulator
from dsgit.model.entry import EntryData
from dsgit.remote.testing import emulated_client


def seed(emulator: Emulator, store: str, count: int) -> None:
    with emulated_client(emulator, universe_id=1) as client:
        for i in range(count):
            client.update_entry(store, f"user/{i:07d}", EntryData(i), allow_missing=True)


def peak_while_listing(emulator: Emulator, store: str, expected: int) -> tuple[int, float]:
    with emulated_client(emulator, universe_id=1) as client:
        gc.collect()
        tracemalloc.start()
        started = time.perf_counter()
        listed = sum(1 for _ in client.list_keys(store))
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
        with emulated_client(emulator, universe_id=1) as client:
            assert sum(1 for _ in client.list_keys("Large")) == large  # warm-up, not traced
        small_peak, small_time = peak_while_listing(emulator, "Small", small)
        large_peak, large_time = peak_while_listing(emulator, "Large", large)
        close = getattr(emulator, "close", None)
        if close is not None:
            close()
    print(f"{small:>7,} keys: peak {small_peak / 1024:8.0f} KiB while listing ({small_time:.1f} s)")
    print(f"{large:>7,} keys: peak {large_peak / 1024:8.0f} KiB while listing ({large_time:.1f} s)")
    print(f"ratio: peak at {large:,} / peak at {small:,} = {large_peak / small_peak:.2f}")


if __name__ == "__main__":
    main()
