"""How long a run takes at an environment's rate budget, and the notice when that is long.

With no players online (``ccu: 0``) Open Cloud allows 300 reads a minute per experience and
dsgit takes ``share`` of it, so a plan that must read N entries needs at least
``N / (share × 300 / 60)`` seconds: 2,000 entries at the default budget take over 13 minutes.
Commands that read or write many entries say so once, up front, with the budget in use and how
to raise it, and their progress shows an ETA computed from the same rates.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from dsgit.config import Budget
from dsgit.remote.budget import Operation, RequestClass, per_minute

__all__ = [
    "LONG_RUN_SECONDS",
    "Expected",
    "RequestMeter",
    "budget_notice",
    "format_duration",
    "seconds_needed",
]

LONG_RUN_SECONDS = 30.0  # a run estimated longer than this announces the budget up front

_NOUN = {
    Operation.READ: ("read", "reads"),
    Operation.WRITE: ("write", "writes"),
    Operation.LIST: ("listing request", "listing requests"),
    Operation.REMOVE: ("delete", "deletes"),
}
_PER_CCU_TEXT = {
    Operation.READ: "300 + 40 × ccu",
    Operation.WRITE: "300 + 20 × ccu",
    Operation.LIST: "300 + 2 × ccu",
    Operation.REMOVE: "300 + 40 × ccu",
}


@dataclass(frozen=True)
class Expected:
    """Requests a run expects to send, by request class (an estimate: listings may page)."""

    counts: Mapping[Operation, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def format_duration(seconds: float) -> str:
    """``45 s``, ``13m 20s``, ``2h 05m``."""
    seconds = max(0, math.ceil(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _per_second(operation: Operation, budget: Budget) -> float:
    return per_minute(RequestClass(operation), budget) / 60.0


def seconds_needed(expected: Mapping[Operation, int], budget: Budget | None) -> float | None:
    """The least time the budget allows for ``expected`` (classes run side by side), or None
    without a budget (the embedded emulator is not rate limited)."""
    if budget is None:
        return None
    needed = 0.0
    for operation, count in expected.items():
        if count > 0 and operation in _NOUN:
            needed = max(needed, count / _per_second(operation, budget))
    return needed


def _slowest(expected: Mapping[Operation, int], budget: Budget) -> Operation:
    present = [op for op, count in expected.items() if count > 0 and op in _NOUN]
    return max(present, key=lambda op: expected[op] / _per_second(op, budget))


def budget_notice(
    environment: str,
    budget: Budget | None,
    expected: Mapping[Operation, int],
    *,
    threshold: float = LONG_RUN_SECONDS,
) -> str | None:
    """One note, when the budget makes the run longer than ``threshold`` seconds."""
    needed = seconds_needed(expected, budget)
    if budget is None or needed is None or needed <= threshold:
        return None
    operation = _slowest(expected, budget)
    count = expected[operation]
    singular, plural = _NOUN[operation]
    rate = per_minute(RequestClass(operation), budget)
    return (
        f"note: about {count:,} {singular if count == 1 else plural} at the rate budget of "
        f"environment {environment!r} take at least {format_duration(needed)}: dsgit may send "
        f"{rate:,} {plural} a minute (ccu: {budget.ccu}, share: {budget.share:g} of "
        f"{_PER_CCU_TEXT[operation]}). To go faster, set `budget.ccu` in dsgit.yaml to the "
        "experience's concurrent players, or raise `budget.share` (game servers share the "
        "same budget)."
    )


class RequestMeter:
    """Requests answered so far in a run (not 5xx or 429: a retried request counts once, when
    it is answered), by class; thread safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[Operation, int] = {}

    def count(self, request_class: RequestClass | None) -> None:
        if request_class is None:
            return
        with self._lock:
            operation = request_class.operation
            self._counts[operation] = self._counts.get(operation, 0) + 1

    def snapshot(self) -> dict[Operation, int]:
        with self._lock:
            return dict(self._counts)
