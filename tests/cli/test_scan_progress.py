from __future__ import annotations

import io

from dsgit.cli.scan_progress import ScanProgress, eta_seconds, progress_line
from dsgit.config import Budget
from dsgit.remote.budget import RateBudget
from dsgit.scan import ScanStats, Shard


def _stats(
    visited: int, expected: int | None, budget: RateBudget, elapsed: float = 10.0
) -> ScanStats:
    return ScanStats(
        visited=visited,
        listed=visited,
        selected=visited,
        vanished=0,
        expected=expected,
        expected_pages=None,
        elapsed=elapsed,
        resumed=False,
        budget=budget,
        reads=True,
    )


def test_eta_comes_from_the_read_budget() -> None:
    budget = RateBudget(Budget(ccu=0, share=0.5))  # 150 reads a minute: 2.5 a second
    assert eta_seconds(_stats(100, 400, budget)) == 120.0
    assert eta_seconds(_stats(100, None, budget)) is None
    unlimited = RateBudget.unlimited()  # the measured rate: 100 in 10 s
    assert eta_seconds(_stats(100, 400, unlimited)) == 30.0


def test_plain_lines_say_when_the_budget_sets_the_pace() -> None:
    budget = RateBudget(Budget(ccu=0, share=0.5))
    line = progress_line("retention", _stats(100, 400, budget), 2.49)
    assert line == (
        "retention: 100 of 400 entries (25%), 2.5/s, about 2m 00s left; the read budget "
        "(150 reads/min) sets the pace"
    )
    slow = progress_line("retention", _stats(100, None, budget), 1.0)
    assert slow == "retention: 100 entries (counting the rest), 1.0/s"


def test_notice_up_front_and_lines_every_interval() -> None:
    now = [0.0]
    stream = io.StringIO()
    progress = ScanProgress(
        "retention", "production", stream=stream, plain=True, interval=5.0, clock=lambda: now[0]
    )
    budget = RateBudget(Shard(1, 2).budget(Budget(ccu=0, share=0.5)))
    progress.progress(_stats(0, None, budget))
    now[0] = 1.0
    progress.progress(_stats(2, 1000, budget))
    now[0] = 6.0
    progress.progress(_stats(8, 1000, budget))
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith(
        "note: about 998 reads at the rate budget of environment 'production'"
    )
    assert "share: 0.25" in lines[0]
    assert lines[1].startswith("retention: 8 of 1,000 entries (0%)")
    assert len(lines) == 3  # the notice, one line after 5 s, the last figures at the end
