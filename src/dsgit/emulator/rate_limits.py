"""Roblox's per-universe request budgets, enforced as a sliding 60-second window.

A request is admitted when fewer than ``limit`` admitted requests of the same bucket (universe,
API, store kind, request class) started in the 60 seconds before it; otherwise it is refused
with 429 and ``Retry-After`` = the whole seconds until the oldest of them leaves the window
(at least 1). Refused requests do not count. See ``docs/emulator.md`` for the budgets.
"""

from __future__ import annotations

import math
import threading
from collections import deque

from dsgit.emulator.routes import RateClass

__all__ = ["WINDOW_SECONDS", "RateLimiter", "budget"]

WINDOW_SECONDS = 60.0

_PER_CCU = {"read": 40, "write": 20, "list": 2, "remove": 40}


def budget(rate: RateClass, ccu: int) -> int:
    """Requests per minute for ``rate`` with ``ccu`` concurrent users (opencloud/README.md)."""
    if rate.api == "snapshot":
        return 60
    if rate.api == "configs":
        return 100
    if rate.api == "v1":
        return 300
    return 300 + _PER_CCU[rate.name] * ccu


class RateLimiter:
    """Sliding-window counters per bucket; thread-safe."""

    def __init__(self, ccu: int) -> None:
        self.ccu = ccu
        self._lock = threading.Lock()
        self._windows: dict[tuple[int, RateClass], deque[float]] = {}

    def admit(self, universe: int, rate: RateClass, now: float) -> float | None:
        """None if admitted (and counted); else the seconds to wait before retrying."""
        limit = budget(rate, self.ccu)
        key = (universe, rate)
        with self._lock:
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = deque()
            horizon = now - WINDOW_SECONDS
            while window and window[0] <= horizon:
                window.popleft()
            if len(window) >= limit:
                return max(1.0, float(math.ceil(window[0] + WINDOW_SECONDS - now)))
            window.append(now)
            return None
