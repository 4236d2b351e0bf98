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
# The configs and experimentation APIs' own limits (their operations' x-roblox-rate-limits).
_CONFIGS_PER_MINUTE = {"read": 100, "draft": 50, "publish": 10, "write": 10}


def budget(rate: RateClass, ccu: int) -> int:
    """Requests per minute for ``rate`` with ``ccu`` concurrent users (opencloud/README.md)."""
    if rate.api == "snapshot":
        return 60
    if rate.api in ("configs", "experiments"):
        return _CONFIGS_PER_MINUTE[rate.name]
    if rate.api == "emulator":
        return 1_000_000
    if rate.api == "analytics":
        # The guide documents no figure; users report 30 queries a minute per account.
        return 30
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


KB = 1024
# Per key, over the last 60 s: reads 25 MB, writes 4 MB; v1 also 20 MB read / 10 MB write per
# universe. Each request counts its size rounded up to whole KB.
KEY_READ_KB = 25 * KB
KEY_WRITE_KB = 4 * KB
V1_READ_KB = 20 * KB
V1_WRITE_KB = 10 * KB


def kilobytes(size: int) -> int:
    return max(1, math.ceil(size / KB))


class ThroughputLimiter:
    """Sliding 60-second sums of KB per bucket (a key, or a v1 universe); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[object, ...], tuple[deque[tuple[float, int]], list[int]]] = {}
        self._records = 0

    def _window(
        self, bucket: tuple[object, ...], now: float
    ) -> tuple[deque[tuple[float, int]], list[int]]:
        found = self._windows.get(bucket)
        if found is None:
            found = self._windows[bucket] = (deque(), [0])
        window, total = found
        horizon = now - WINDOW_SECONDS
        while window and window[0][0] <= horizon:
            total[0] -= window.popleft()[1]
        return found

    def wait(self, bucket: tuple[object, ...], limit: int, adding: int, now: float) -> float | None:
        """None if ``adding`` KB fit under ``limit`` now; else the seconds until they would."""
        with self._lock:
            window, total = self._window(bucket, now)
            if total[0] + adding <= limit or not window:
                return None
            freed, waited = total[0] + adding - limit, 0.0
            for moment, size in window:
                freed -= size
                waited = moment + WINDOW_SECONDS - now
                if freed <= 0:
                    break
            return max(1.0, float(math.ceil(waited)))

    def record(self, bucket: tuple[object, ...], size: int, now: float) -> None:
        with self._lock:
            window, total = self._window(bucket, now)
            window.append((now, size))
            total[0] += size
            self._records += 1
            if self._records % 10_000 == 0:
                self._sweep(now)

    def _sweep(self, now: float) -> None:
        horizon = now - WINDOW_SECONDS
        stale = [b for b, (w, _) in self._windows.items() if not w or w[-1][0] <= horizon]
        for bucket in stale:
            del self._windows[bucket]
