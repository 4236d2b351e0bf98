"""Apply progress: a rich bar on a terminal, plain lines in CI or when output is not a TTY.

With an :class:`ApplyPace` (the environment's rate budget and the plan's writes), a run the
budget makes long is announced once up front (the budget in use and how to raise it), and
plain output adds a summary line every few seconds: changes done, rate, and an ETA computed
from the budget.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Protocol

from dsgit.apply.result import ChangeResult
from dsgit.config import Budget
from dsgit.ledger.records import ChangeOutcome
from dsgit.plan.model import Action, Plan
from dsgit.remote.budget import Operation
from dsgit.remote.pace import budget_notice, format_duration, seconds_needed

__all__ = [
    "ApplyPace",
    "NullProgress",
    "PlainProgress",
    "Progress",
    "RichProgress",
    "choose_progress",
]

SUMMARY_INTERVAL = 5.0  # seconds between plain summary lines


@dataclass(frozen=True)
class ApplyPace:
    """What the ETA and the budget notice of an apply are computed from."""

    environment: str
    budget: Budget | None  # None: not rate limited (the embedded emulator)
    expected: Mapping[Operation, int] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: Plan, environment: str, budget: Budget | None) -> ApplyPace:
        writes = removes = 0
        for change in plan.changes:
            if change.is_noop:
                continue
            if change.action is Action.DELETE:
                removes += 1
            else:
                writes += 1
        return cls(environment, budget, {Operation.WRITE: writes, Operation.REMOVE: removes})

    def remaining(self, total: int, done: int) -> dict[Operation, int]:
        """The expected requests scaled to the changes not done yet."""
        if total <= 0:
            return {}
        share = max(0, total - done) / total
        return {op: round(count * share) for op, count in self.expected.items()}

    def notice(self, total: int, done: int) -> str | None:
        return budget_notice(self.environment, self.budget, self.remaining(total, done))


class Progress(Protocol):
    """Receives apply events; implementations must be thread-safe for ``update``."""

    def start(self, total: int, done: int) -> None: ...

    def update(self, result: ChangeResult) -> None: ...

    def note(self, text: str) -> None: ...

    def close(self) -> None: ...


class NullProgress:
    """Reports nothing (library use, tests)."""

    def start(self, total: int, done: int) -> None:
        pass

    def update(self, result: ChangeResult) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


_MARK = {
    ChangeOutcome.WRITTEN: "ok",
    ChangeOutcome.SKIPPED: "skip",
    ChangeOutcome.CONFLICT: "CONFLICT",
}


def _changes(count: int) -> str:
    return f"{count:,} {'change' if count == 1 else 'changes'}"


class PlainProgress:
    """One line per change, ``[n/total]``, for logs that are read later; with a pace, a
    summary line (done, rate, ETA) every ``interval`` seconds."""

    def __init__(
        self,
        stream: IO[str],
        pace: ApplyPace | None = None,
        *,
        interval: float = SUMMARY_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.total = 0
        self.count = 0
        self.pace = pace
        self.interval = interval
        self._clock = clock
        self._started = clock()
        self._first = 0
        self._last_summary = self._started
        self._lock = threading.Lock()

    def start(self, total: int, done: int) -> None:
        with self._lock:
            self.total, self.count, self._first = total, done, done
            self._started = self._last_summary = self._clock()
            notice = self.pace.notice(total, done) if self.pace is not None else None
            if notice is not None:
                self.stream.write(notice + "\n")
            resumed = f" ({done:,} done by an earlier run)" if done else ""
            self.stream.write(f"applying {_changes(total)}{resumed}\n")
            self.stream.flush()

    def summary(self) -> str:
        """``progress: 120/2,000 changes (6%), 2.4/s, about 13m 00s left``."""
        done = self.count - self._first
        elapsed = max(1e-9, self._clock() - self._started)
        percent = 100 * self.count // self.total if self.total else 100
        text = (
            f"progress: {self.count:,}/{_changes(self.total)} ({percent}%), {done / elapsed:.1f}/s"
        )
        eta: float | None = None
        if self.pace is not None and self.pace.budget is not None:
            eta = seconds_needed(self.pace.remaining(self.total, self.count), self.pace.budget)
        elif done:
            eta = (self.total - self.count) / (done / elapsed)
        if eta is not None:
            text += f", about {format_duration(eta)} left"
        return text

    def update(self, result: ChangeResult) -> None:
        if result.outcome is None:
            return
        with self._lock:
            self.count += 1
            mark = _MARK[result.outcome]
            detail = f": {result.message}" if result.message else ""
            self.stream.write(
                f"[{self.count}/{self.total}] {result.action} {result.address} {mark}{detail}\n"
            )
            now = self._clock()
            if now - self._last_summary >= self.interval and self.count < self.total:
                self._last_summary = now
                self.stream.write(self.summary() + "\n")
            self.stream.flush()

    def note(self, text: str) -> None:
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        pass


class RichProgress:
    """A progress bar on a terminal; conflicts are printed above it as they happen."""

    def __init__(self, stream: IO[str], pace: ApplyPace | None = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self.console = Console(file=stream)
        self._progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self._task = self._progress.add_task("applying", total=0)
        self._lock = threading.Lock()
        self.pace = pace

    def start(self, total: int, done: int) -> None:
        notice = self.pace.notice(total, done) if self.pace is not None else None
        if notice is not None:
            self.console.print(notice, markup=False, highlight=False)
        self._progress.update(self._task, total=total, completed=done)
        self._progress.start()

    def update(self, result: ChangeResult) -> None:
        if result.outcome is None:
            return
        with self._lock:
            if result.outcome is ChangeOutcome.CONFLICT:
                self._progress.console.print(
                    f"conflict: {result.address}: {result.message}", markup=False
                )
            self._progress.advance(self._task)

    def note(self, text: str) -> None:
        self._progress.console.print(text, markup=False)

    def close(self) -> None:
        self._progress.stop()


def choose_progress(
    stream: IO[str] | None = None, *, quiet: bool = False, pace: ApplyPace | None = None
) -> Progress:
    """Rich on an interactive terminal; plain lines when ``CI`` is set or not a TTY."""
    out = stream if stream is not None else sys.stderr
    if quiet:
        return NullProgress()
    if os.environ.get("CI") or not out.isatty():
        return PlainProgress(out, pace)
    return RichProgress(out, pace)
