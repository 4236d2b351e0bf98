"""Progress of a live scan on stderr: a bar with an ETA on a terminal, plain lines in CI.

The ETA comes from the rate budget (the entries still to read at the budget's read rate),
once the scan's background count knows how many entries are selected; the measured rate is
used where there is no budget (the embedded emulator). When the budget is what holds the scan
back, the display says so, with the budget in use and how to raise it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import IO

from dsgit.cli.progress import PLAIN_INTERVAL, _Bar, _isatty
from dsgit.remote.budget import Operation, RequestClass
from dsgit.remote.pace import budget_notice, format_duration, seconds_needed
from dsgit.scan import ScanStats

__all__ = ["ScanProgress", "eta_seconds", "progress_line"]

_READ = RequestClass(Operation.READ)
_BOUND_SHARE = 0.85  # measured rate at least this share of the budget: the budget sets the pace


def eta_seconds(stats: ScanStats) -> float | None:
    """Seconds left: remaining reads at the budget's rate, else at the measured rate."""
    if stats.expected is None:
        return None
    remaining = max(0, stats.expected - stats.visited)
    budget = stats.budget.budget
    if budget is not None and stats.reads:
        return seconds_needed({Operation.READ: remaining}, budget)
    if stats.visited == 0 or stats.elapsed <= 0:
        return None
    return remaining / (stats.visited / stats.elapsed)


def _budget_bound(stats: ScanStats, rate: float) -> str:
    limit = stats.budget.limit(_READ)
    if limit is None or not stats.reads or rate < _BOUND_SHARE * limit / 60:
        return ""
    return f"; the read budget ({limit:,} reads/min) sets the pace"


def progress_line(label: str, stats: ScanStats, rate: float) -> str:
    """``retention: 1,200 of 10,000 entries (12%), 335.2/s, about 26 s left``."""
    done = stats.visited
    if stats.expected is not None and stats.expected > 0:
        shown = min(done, stats.expected)
        figures = f"{shown:,} of {stats.expected:,} entries ({100 * shown // stats.expected}%)"
    else:
        figures = f"{done:,} entries (counting the rest)"
    eta = eta_seconds(stats)
    left = f", about {format_duration(eta)} left" if eta is not None else ""
    return f"{label}: {figures}, {rate:.1f}/s{left}{_budget_bound(stats, rate)}"


class ScanProgress:
    """A :class:`dsgit.scan.ScanObserver` writing to stderr (see the module docstring)."""

    def __init__(
        self,
        label: str,
        environment: str,
        *,
        stream: IO[str] | None = None,
        plain: bool | None = None,
        interval: float = PLAIN_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.environment = environment
        self.stream = stream if stream is not None else sys.stderr
        if plain is None:
            plain = bool(os.environ.get("CI")) or not _isatty(self.stream)
        self.plain = plain
        self.interval = interval
        self._clock = clock
        self._started = clock()
        self._first_visited: int | None = None
        self._last_line = self._started  # a scan shorter than one interval prints nothing
        self._printed = False
        self._noticed = False
        self._bar: _Bar | None = None if plain else _Bar(self.stream, label)
        self.last: ScanStats | None = None

    def _rate(self, stats: ScanStats) -> float:
        if self._first_visited is None:
            self._first_visited = stats.visited
        elapsed = max(1e-9, self._clock() - self._started)
        return (stats.visited - self._first_visited) / elapsed

    def progress(self, stats: ScanStats) -> None:
        self.last = stats
        rate = self._rate(stats)
        if not self._noticed and stats.expected is not None:
            self._noticed = True
            budget = stats.budget.budget
            remaining = max(0, stats.expected - stats.visited)
            if stats.reads and budget is not None:
                notice = budget_notice(self.environment, budget, {Operation.READ: remaining})
                if notice is not None:
                    self.note(notice)
        if self._bar is not None:
            if stats.expected is not None:
                self._bar.total(stats.expected)
            self._bar.update(stats.visited, eta_seconds(stats))
            return
        now = self._clock()
        if now - self._last_line >= self.interval:
            self._last_line = now
            self._printed = True
            self._write(progress_line(self.label, stats, rate))

    def note(self, text: str) -> None:
        if self._bar is not None:
            self._bar.print(text)
        else:
            self._write(text)

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Stop the bar; in plain mode print the last figures once more."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.last is not None and self._printed:
            self._write(progress_line(self.label, self.last, self._rate(self.last)))
