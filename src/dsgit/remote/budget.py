"""The client-side rate budget: one limiter per Open Cloud request class.

Open Cloud counts requests per universe, per request class (read, write, list, remove) and per
kind of store (standard or ordered) over a sliding 60-second window, and answers 429 beyond
``300 + k × CCU`` a minute (opencloud/README.md). Game servers share that budget, so dsgit takes
only ``share`` of it.

Each :class:`WindowLimiter` guarantees that the server never sees more than ``limit`` requests of
its class in any 60-second window, whatever the network latency: a permit is held from the moment
the request is sent until ``window`` seconds after its response arrived. The server receives a
request somewhere between those two instants, so every request the server counts in one window
held its permit at the send instant of the latest of them, and at most ``limit`` permits are ever
held at once. Requests are also paced evenly (a leaky bucket with one second of burst), as
Roblox recommends, instead of spending a minute's budget in the first seconds.

In steady state a request holds its permit for ``window + latency`` seconds, so the achieved
rate is ``limit × window / (window + latency)``: 99.8 % of the budget at 100 ms latency.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from dsgit.config import Budget

__all__ = [
    "WINDOW_SECONDS",
    "Operation",
    "Permit",
    "RateBudget",
    "RequestClass",
    "WindowLimiter",
    "per_minute",
]

WINDOW_SECONDS = 60.0
_MARGIN_SECONDS = 0.01


class Operation(StrEnum):
    """The request classes Open Cloud budgets separately."""

    READ = "read"
    WRITE = "write"
    LIST = "list"
    REMOVE = "remove"
    SNAPSHOT = "snapshot"
    CONFIGS_READ = "configs read"  # configs and experiments reads
    CONFIGS_DRAFT = "configs draft"  # draft writes (overwrite, patch, reset)
    CONFIGS_PUBLISH = "configs publish"  # publish and restore


@dataclass(frozen=True)
class RequestClass:
    """An operation on standard or ordered data stores (each pair has its own budget)."""

    operation: Operation
    ordered: bool = False

    def __str__(self) -> str:
        return f"{self.operation}{' (ordered)' if self.ordered else ''}"


_BASE_PER_MINUTE = 300
_PER_CCU = {Operation.READ: 40, Operation.WRITE: 20, Operation.LIST: 2, Operation.REMOVE: 40}
# Snapshots have their own fixed allowance of 60 requests a minute per experience; the configs
# API's operations document theirs (x-roblox-rate-limits, per API key owner): reads 100, draft
# writes 50, publish and restore 10. dsgit budgets each class as one pool, which stays within
# the limits whether Roblox counts them per operation or per class.
_FIXED_PER_MINUTE = {
    Operation.SNAPSHOT: 60,
    Operation.CONFIGS_READ: 100,
    Operation.CONFIGS_DRAFT: 50,
    Operation.CONFIGS_PUBLISH: 10,
}


def per_minute(request_class: RequestClass, budget: Budget) -> int:
    """Requests a minute dsgit may send in this class: ``share × (300 + k × CCU)``, at least 1."""
    fixed = _FIXED_PER_MINUTE.get(request_class.operation)
    if fixed is not None:
        total = fixed
    else:
        total = _BASE_PER_MINUTE + _PER_CCU[request_class.operation] * budget.ccu
    return max(1, math.floor(budget.share * total))


Clock = Callable[[], float]
Sleep = Callable[[float], None]


class Permit:
    """The right to send one request; release it when the response (or failure) arrives."""

    __slots__ = ("_limiter", "_released")

    def __init__(self, limiter: WindowLimiter | None) -> None:
        self._limiter = limiter
        self._released = False

    def release(self) -> None:
        """Idempotent: the first call counts."""
        if self._released:
            return
        self._released = True
        if self._limiter is not None:
            self._limiter._release()

    def __enter__(self) -> Permit:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class WindowLimiter:
    """At most ``limit`` requests in any ``window`` seconds, paced at ``limit / window`` a second.

    Thread safe. ``clock`` and ``sleep`` are injectable so tests run on a fake clock.
    """

    def __init__(
        self,
        limit: int,
        *,
        window: float = WINDOW_SECONDS,
        burst_seconds: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self._interval = window / limit
        self._tolerance = max(burst_seconds, self._interval) - self._interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Condition()
        self._in_flight = 0
        self._ends: deque[float] = deque()
        self._next_start = -math.inf  # leaky bucket: theoretical time of the next request
        self._head_taken = False  # a caller is at the head of the queue, watching the clock
        self._queue: deque[threading.Event] = deque()

    def __repr__(self) -> str:
        return f"WindowLimiter(limit={self.limit}, window={self.window})"

    def delay(self) -> float | None:
        """Seconds until a request could start; 0 if now; None if it waits for a release."""
        with self._lock:
            return self._delay(self._clock())

    def _delay(self, now: float) -> float | None:
        # Compare ``end + window`` with ``now`` exactly as the wait below is computed, so that
        # float rounding can never report a zero wait while the window is still full.
        while self._ends and self._ends[0] + self.window <= now:
            self._ends.popleft()
        if self._in_flight + len(self._ends) >= self.limit:
            if not self._ends:
                return None
            return self._ends[0] + self.window - now
        return max(0.0, self._next_start - self._tolerance - now)

    def acquire(self) -> Permit:
        """Block until a request may be sent, then take a permit for it.

        Callers queue in arrival order and only the one at the head watches the clock, so a
        pool of 64 workers does not wake 64 threads for every request the budget admits.
        """
        with self._lock:
            turn: threading.Event | None = None
            if self._head_taken:
                turn = threading.Event()
                self._queue.append(turn)
            else:
                self._head_taken = True
        if turn is not None:
            turn.wait()  # the previous head handed its place over
        try:
            return self._admit()
        finally:
            with self._lock:
                if self._queue:
                    self._queue.popleft().set()
                else:
                    self._head_taken = False

    def _admit(self) -> Permit:
        while True:
            with self._lock:
                now = self._clock()
                wait = self._delay(now)
                if wait == 0.0:
                    self._in_flight += 1
                    self._next_start = max(self._next_start, now) + self._interval
                    return Permit(self)
                if wait is None:
                    # Every permit is in flight: a release will wake us.
                    self._lock.wait(timeout=1.0)
                    continue
            self._sleep(wait)

    def _release(self) -> None:
        with self._lock:
            self._in_flight -= 1
            # A small margin keeps a window boundary that the server rounds differently safe.
            self._ends.append(self._clock() + _MARGIN_SECONDS)
            self._lock.notify()


class RateBudget:
    """One :class:`WindowLimiter` per request class, sized from an environment's ``budget``.

    ``RateBudget.unlimited()`` (the embedded emulator) hands out permits without waiting.
    """

    def __init__(
        self,
        budget: Budget | None,
        *,
        window: float = WINDOW_SECONDS,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.budget = budget
        self._window = window
        self._clock = clock
        self._sleep = sleep
        self._limiters: dict[RequestClass, WindowLimiter] = {}
        self._lock = threading.Lock()

    @classmethod
    def unlimited(cls) -> RateBudget:
        return cls(None)

    @property
    def enabled(self) -> bool:
        return self.budget is not None

    def __repr__(self) -> str:
        return f"RateBudget({self.budget!r})"

    def limit(self, request_class: RequestClass) -> int | None:
        """Requests a minute allowed in this class, or None when unlimited."""
        if self.budget is None:
            return None
        return per_minute(request_class, self.budget)

    def limiter(self, request_class: RequestClass) -> WindowLimiter | None:
        if self.budget is None:
            return None
        with self._lock:
            limiter = self._limiters.get(request_class)
            if limiter is None:
                limiter = WindowLimiter(
                    per_minute(request_class, self.budget),
                    window=self._window,
                    clock=self._clock,
                    sleep=self._sleep,
                )
                self._limiters[request_class] = limiter
            return limiter

    def acquire(self, request_class: RequestClass | None) -> Permit:
        """A permit for one request; a ``None`` class is never limited."""
        limiter = self.limiter(request_class) if request_class is not None else None
        return limiter.acquire() if limiter is not None else Permit(None)

    def concurrency(self, request_class: RequestClass, *, latency: float = 0.25) -> int:
        """Workers needed to keep this class busy at ``latency`` seconds a request (4 to 64)."""
        limit = self.limit(request_class)
        if limit is None:
            return 4
        return max(4, min(64, math.ceil(limit / self._window * latency)))
