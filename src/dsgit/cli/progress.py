"""Progress of commands that read many entries (plan, drift, rollback, revert, restore).

On a terminal a rich bar; in CI (``CI`` set) or when stderr is not a terminal, a plain line
every few seconds. Both show the requests done, the rate, and an ETA computed from the rate
budget (the embedded emulator has none: the measured rate then). When the budget makes the
run long, a note says so once, up front, with the budget in use and how to raise it.
Ctrl-C says how far the run got. Everything goes to stderr, never into ``--format json``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO

from dsgit.config import Budget, Environment
from dsgit.remote.budget import Operation
from dsgit.remote.pace import RequestMeter, budget_notice, format_duration, seconds_needed

__all__ = ["PLAIN_INTERVAL", "ReadProgress", "read_progress"]

PLAIN_INTERVAL = 5.0  # seconds between plain progress lines


class ReadProgress:
    """A context manager around the reading phase of one command; see the module docstring.

    ``expect`` (called by the planner before it sends anything) sets the expected number of
    reads and listings and prints the budget notice when the run will be long.
    """

    def __init__(
        self,
        label: str,
        environment: str,
        budget: Budget | None,
        meter: RequestMeter,
        *,
        stream: IO[str] | None = None,
        plain: bool | None = None,
        interval: float = PLAIN_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        interrupted: str = "nothing was saved",
    ) -> None:
        self.label = label
        self.environment = environment
        self.budget = budget
        self.meter = meter
        self.stream = stream if stream is not None else sys.stderr
        if plain is None:
            plain = bool(os.environ.get("CI")) or not _isatty(self.stream)
        self.plain = plain
        self.interval = interval
        self._clock = clock
        self._interrupted = interrupted
        self._expected: dict[Operation, int] = {}
        self._started = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar: _Bar | None = None
        self._lock = threading.Lock()

    # --- what the planner calls --------------------------------------------------------------
    def expect(self, reads: int, lists: int) -> None:
        with self._lock:
            self._expected = {Operation.READ: reads, Operation.LIST: lists}
        notice = budget_notice(self.environment, self.budget, self._expected)
        if notice is not None:
            self._write(notice)
        if self._bar is not None:
            self._bar.total(self._expected_total())

    # --- figures -----------------------------------------------------------------------------
    def _expected_total(self) -> int:
        return sum(self._expected.values())

    def _done(self) -> int:
        counts = self.meter.snapshot()
        return sum(counts.get(op, 0) for op in (Operation.READ, Operation.LIST))

    def eta(self) -> float | None:
        """Seconds left: from the budget's rates when there is one, else the measured rate."""
        with self._lock:
            expected = dict(self._expected)
        if not expected:
            return None
        counts = self.meter.snapshot()
        remaining = {op: max(0, n - counts.get(op, 0)) for op, n in expected.items()}
        if self.budget is not None:
            return seconds_needed(remaining, self.budget)
        elapsed = self._clock() - self._started
        done = self._done()
        if done == 0 or elapsed <= 0:
            return None
        return sum(remaining.values()) / (done / elapsed)

    def line(self) -> str:
        """The plain progress line, as printed every ``interval`` seconds."""
        done = self._done()
        elapsed = max(1e-9, self._clock() - self._started)
        rate = f"{done / elapsed:.1f}/s"
        total = self._expected_total()
        if total:
            shown = min(done, total)
            figures = f"{shown:,} of ~{total:,} requests ({100 * shown // total}%), {rate}"
        else:
            figures = f"{done:,} {'request' if done == 1 else 'requests'}, {rate}"
        eta = self.eta()
        left = f", about {format_duration(eta)} left" if eta is not None and total else ""
        return f"{self.label}: {figures}{left}"

    # --- output ------------------------------------------------------------------------------
    def _write(self, text: str) -> None:
        if self._bar is not None:
            self._bar.print(text)
            return
        self.stream.write(text + "\n")
        self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(self.interval if self.plain else 0.25):
            if self.plain:
                self._write(self.line())
            elif self._bar is not None:
                self._bar.update(self._done(), self.eta())

    def __enter__(self) -> ReadProgress:
        self._started = self._clock()
        if not self.plain:
            self._bar = _Bar(self.stream, self.label)
        self._thread = threading.Thread(target=self._tick, name="dsgit-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if kind is not None and issubclass(kind, KeyboardInterrupt):
            elapsed = format_duration(self._clock() - self._started)
            done, total = self._done(), self._expected_total()
            got = f"{min(done, total):,} of ~{total:,}" if total else f"{done:,}"
            self._write(
                f"{self.label}: interrupted after {got} requests in {elapsed}; {self._interrupted}"
            )


class _Bar:
    """The rich bar (a terminal only)."""

    def __init__(self, stream: IO[str], label: str) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} {task.fields[left]}"),
            console=Console(file=stream),
            transient=True,
        )
        self._task = self._progress.add_task(label, total=None, rate="", left="")
        self._started = time.monotonic()
        self._progress.start()

    def total(self, total: int) -> None:
        self._progress.update(self._task, total=total or None)

    def update(self, done: int, eta: float | None) -> None:
        elapsed = max(1e-9, time.monotonic() - self._started)
        left = f"about {format_duration(eta)} left" if eta is not None else ""
        self._progress.update(self._task, completed=done, rate=f"{done / elapsed:.1f}/s", left=left)

    def print(self, text: str) -> None:
        self._progress.console.print(text, markup=False, highlight=False)

    def close(self) -> None:
        self._progress.stop()


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def read_progress(
    env: Environment, meter: RequestMeter, label: str, *, interrupted: str = "no plan was saved"
) -> ReadProgress:
    """The progress of ``label`` reading from ``env`` (no budget for the embedded emulator)."""
    budget = None if env.is_embedded else env.budget
    return ReadProgress(label, env.name, budget, meter, interrupted=interrupted)
