"""Apply progress: a rich bar on a terminal, plain lines in CI or when output is not a TTY."""

from __future__ import annotations

import os
import sys
import threading
from typing import IO, Protocol

from dsgit.apply.result import ChangeResult
from dsgit.ledger.records import ChangeOutcome

__all__ = ["NullProgress", "PlainProgress", "Progress", "RichProgress", "choose_progress"]


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


class PlainProgress:
    """One line per change, ``[n/total]``, for logs that are read later."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.total = 0
        self.count = 0
        self._lock = threading.Lock()

    def start(self, total: int, done: int) -> None:
        with self._lock:
            self.total, self.count = total, done
            resumed = f" ({done} done by an earlier run)" if done else ""
            self.stream.write(f"applying {total} change(s){resumed}\n")
            self.stream.flush()

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
            self.stream.flush()

    def note(self, text: str) -> None:
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        pass


class RichProgress:
    """A progress bar on a terminal; conflicts are printed above it as they happen."""

    def __init__(self, stream: IO[str]) -> None:
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

    def start(self, total: int, done: int) -> None:
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


def choose_progress(stream: IO[str] | None = None, *, quiet: bool = False) -> Progress:
    """Rich on an interactive terminal; plain lines when ``CI`` is set or not a TTY."""
    out = stream if stream is not None else sys.stderr
    if quiet:
        return NullProgress()
    if os.environ.get("CI") or not out.isatty():
        return PlainProgress(out)
    return RichProgress(out)
