"""A test-only fault hook: make ``dsgit apply`` die (SIGKILL itself) at a named point.

Crash-safety tests must kill apply exactly where a defect lives (after a create's intent is
journaled, between the last write and the ledger records, ...); a timer-driven ``kill -9``
lands there only by luck. This hook is read from the environment once per run::

    DSGIT_TEST_STOP_AT=test-only:<point>

and is **for tests only**. It cannot fire by accident: the value must start with the literal
``test-only:`` prefix, and any other value — a point name without the prefix, an unknown
point — makes apply refuse to start (exit 1) instead of running with a hook the user did not
mean. With the variable unset (always, outside the test suite) every check is one attribute
read. Points:

- ``journal:N``: right after the N-th journal line of this run is on disk (1-based);
- ``after-intent:ADDRESS``: after the intent of ``ADDRESS`` is journaled, before its write;
- ``after-write:ADDRESS``: after the write of ``ADDRESS`` landed, before its completion;
- ``before-ledger``: after every change of the run, before the ledger records;
- ``after-ledger``: after the ledger records, before the journal's ``end``;
- ``before-release``: after the journal's ``end``, before the lock is released.

Dying is ``SIGKILL`` to the own process: no ``finally`` runs, exactly as ``kill -9``.
``test-only:<point>+wait:<file>`` pauses there instead: it creates ``<file>.reached`` and
waits (at most a minute) until ``<file>`` exists, so a test can break the service at that
point, then let the run go on.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from dsgit.errors import ConfigError

__all__ = ["ENV_VAR", "NEVER", "PREFIX", "StopPoint", "from_environment"]

ENV_VAR = "DSGIT_TEST_STOP_AT"
PREFIX = "test-only:"
_NAMED = ("before-ledger", "after-ledger", "before-release")
_ADDRESSED = ("after-intent", "after-write")


class StopPoint:
    """Where this run dies; ``StopPoint(None)`` never does."""

    def __init__(self, point: str | None, wait_for: Path | None = None) -> None:
        self.point = point
        self.wait_for = wait_for
        self._lines = 0
        self._lock = threading.Lock()
        self._line_target: int | None = None
        if point is not None and point.startswith("journal:"):
            self._line_target = int(point.removeprefix("journal:"))

    def journal_line(self) -> None:
        """A journal line reached the disk."""
        if self._line_target is None:
            return
        with self._lock:
            self._lines += 1
            if self._lines >= self._line_target:
                _die()

    def reached(self, name: str, address: str | None = None) -> None:
        """Die if ``name`` (with ``address`` for per-change points) is the stop point."""
        if self.point is None:
            return
        wanted = name if address is None else f"{name}:{address}"
        if self.point != wanted:
            return
        if self.wait_for is None:
            _die()
        else:
            _pause(self.wait_for)


def _pause(go: Path) -> None:
    go.with_name(go.name + ".reached").touch()
    deadline = time.monotonic() + 60.0
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


NEVER = StopPoint(None)


def from_environment(environ: dict[str, str] | None = None) -> StopPoint:
    """The stop point ``DSGIT_TEST_STOP_AT`` names; refuses any value it does not understand."""
    text = (environ if environ is not None else dict(os.environ)).get(ENV_VAR)
    if text is None or text == "":
        return NEVER
    if not text.startswith(PREFIX):
        raise ConfigError(
            f"{ENV_VAR} is set ({text!r}) but does not start with {PREFIX!r}: it is a test-only "
            "fault hook that kills apply on purpose; unset it"
        )
    point, plus, wait = text.removeprefix(PREFIX).partition("+wait:")
    if plus and not wait:
        raise ConfigError(f"{ENV_VAR}: +wait: needs a file name")
    name, _, rest = point.partition(":")
    valid = (
        point in _NAMED
        or (name in _ADDRESSED and rest != "")
        or (name == "journal" and rest.isdigit() and int(rest) > 0)
    )
    if not valid:
        known = ", ".join((*_NAMED, "after-intent:ADDRESS", "after-write:ADDRESS", "journal:N"))
        raise ConfigError(f"{ENV_VAR}: unknown stop point {point!r} (known: {known})")
    return StopPoint(point, Path(wait) if wait else None)
