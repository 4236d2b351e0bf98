"""Peak memory writing and reading a segmented plan stays flat: 10,000 versus 100,000 changes.

A plan held as one document grows with its changes (420 MB at 100,000 entries, see
plan_budget.py). A segmented plan never holds more than one segment: ``SegmentWriter`` keeps
at most ``segment_size`` changes before it spills a sorted run, and ``SegmentedPlan`` reads
one segment at a time — what ``dsgit apply`` streams, and what ``dsgit show`` pages. Changes
are creates of ~1 KB player profiles, added in random order (as a scan finds them). Peaks are
traced with ``tracemalloc`` (Python allocations), per phase:

- write: every change added to the writer, then the segments and the manifest written;
- verify: every segment hashed (what apply does before writing anything);
- stream: every change read back, one segment at a time (what apply executes from).

The last line is the judged ratio: the largest peak at the large size ÷ the same at the
small size (flat: at most 1.2).

    .venv/bin/python bench/segmented_plan.py [--quick]    # --quick: 2,000 vs 20,000
"""

from __future__ import annotations

import argparse
import gc
import random
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

from dsgit.model.declaration import SourceInfo
from dsgit.model.entry import Address, EntryData
from dsgit.plan.model import Change, CreateChange, Plan, PlanKind, StandardPrecondition, summarize
from dsgit.planfile import SegmentedPlan, SegmentWriter, read_any_plan

SEGMENT = 5_000  # dsgit's default; --quick uses 1,000 so both sizes span several segments


def header() -> Plan:
    return Plan(
        format_version=1,
        dsgit_version="bench",
        kind=PlanKind.PLAN,
        created="2026-12-03T12:00:00.000000Z",
        expires="2026-12-04T12:00:00Z",
        environment="bench",
        universe_id=1,
        source=SourceInfo(None, False, "sha256:" + "0" * 64),
        changes=(),
        diagnostics=(),
        summary=summarize(()),
        digest="",
    )


def changes(count: int) -> Iterator[Change]:
    order = list(range(count))
    random.Random(count).shuffle(order)
    for n in order:
        value = {
            "Data": {"Coins": n, "Inventory": [f"item-{i}" for i in range(60)]},
            "MetaData": {"ProfileCreateTime": 1_700_000_000 + n, "SessionLoadCount": n % 97},
        }
        yield CreateChange(
            address=Address.standard("PlayerData", f"Player_{n:07d}"),
            reason="declared, missing live",
            precondition=StandardPrecondition(exists=False),
            after=EntryData(value, users=(n,)),
            diff=(),
            sensitive=(),
            encrypted=(),
            diagnostics=(),
        )


def traced(step: Callable[[], None]) -> tuple[int, float]:
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    step()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, elapsed


def measure(folder: Path, count: int, segment: int) -> dict[str, tuple[int, float]]:
    path = folder / f"plan-{count}.json"

    def write() -> None:
        with SegmentWriter(path, segment_size=segment) as writer:
            for change in changes(count):
                writer.add(change)
            writer.finish(header())

    figures = {"write": traced(write)}
    found = read_any_plan(path)
    assert isinstance(found, SegmentedPlan)
    figures["verify"] = traced(found.verify)

    def stream() -> None:
        seen = sum(1 for _ in found.changes())
        assert seen == count, (seen, count)

    figures["stream"] = traced(stream)
    size = sum(p.stat().st_size for p in path.with_name(path.name + ".segments").iterdir())
    print(f"{count:>7,} changes: {len(found.manifest.segments)} segments, {size / 2**20:.0f} MiB")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2,000 vs 20,000 changes")
    args = parser.parse_args()
    small, large = (2_000, 20_000) if args.quick else (10_000, 100_000)
    segment = 1_000 if args.quick else SEGMENT
    with tempfile.TemporaryDirectory() as folder:
        low = measure(Path(folder), small, segment)
        high = measure(Path(folder), large, segment)
    for phase in ("write", "verify", "stream"):
        (a, ta), (b, tb) = low[phase], high[phase]
        print(
            f"{phase:>6}: peak {a / 2**20:6.1f} MiB at {small:,} ({ta:5.1f} s), "
            f"{b / 2**20:6.1f} MiB at {large:,} ({tb:5.1f} s): {b / a:.2f}"
        )
    worst_low = max(peak for peak, _ in low.values())
    worst_high = max(peak for peak, _ in high.values())
    print(f"largest peak at {large:,} / at {small:,} changes: {worst_high / worst_low:.2f}")


if __name__ == "__main__":
    main()
