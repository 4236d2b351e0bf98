"""Fault injection: what a flaky network and an overloaded service do to requests.

A spec is comma-separated ``name=value`` settings (see ``docs/emulator.md``)::

    error=0.05,burst429=10@0.01,latency=80ms,lost=0.02,timeout=0.01,seed=7

- ``error=P``: with probability P a request is not executed and answers 500 or 503.
- ``burst429=N@P``: with probability P a request starts a burst: it and the next N-1 requests
  answer 429 (with ``Retry-After: 1``) without being executed.
- ``latency=80ms`` (or ``50-150ms``, ``0.2s``): every request waits that long (uniform over a
  range) before it is handled, in its own thread, holding no lock.
- ``lost=P``: with probability P a request IS executed (a write commits) but its answer is lost:
  the connection closes without a response (``lost_status=503`` answers that status instead).
- ``timeout=P``: with probability P a request is not executed and never answered: the served
  emulator holds the connection ``hang`` seconds (default 30) then closes it; in process the
  transport raises ``httpx.ReadTimeout`` at once.
- ``seed=N``: seed of the random draws (reproducible for one client thread).
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, replace
from enum import Enum

__all__ = ["FaultAction", "FaultDecision", "FaultInjector", "FaultSpec"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$")


def _probability(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"fault {name}: {text!r} is not a probability") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"fault {name}: probability {value} is not between 0 and 1")
    return value


def _seconds(name: str, text: str, default_unit: str = "ms") -> float:
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"fault {name}: {text!r} is not a duration such as 80ms or 0.5s")
    number = float(match.group(1))
    unit = match.group(2) or default_unit
    return number / 1000.0 if unit == "ms" else number


class FaultAction(Enum):
    NONE = "none"
    ERROR = "error"
    THROTTLE = "throttle"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class FaultDecision:
    """What happens to one request."""

    latency: float = 0.0
    action: FaultAction = FaultAction.NONE
    status: int = 0
    lost: bool = False


@dataclass(frozen=True)
class FaultSpec:
    """Which faults to inject and how often. Build with :meth:`parse` or directly."""

    error: float = 0.0
    burst429_length: int = 0
    burst429: float = 0.0
    latency_min: float = 0.0
    latency_max: float = 0.0
    lost: float = 0.0
    lost_status: int | None = None
    timeout: float = 0.0
    hang: float = 30.0
    seed: int | None = None

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """Parse ``name=value,...``; raises ``ValueError`` naming the bad setting."""
        spec = cls()
        for part in text.split(","):
            if part.strip():
                spec = spec._with(part.strip())
        return spec

    def _with(self, setting: str) -> FaultSpec:
        name, sep, value = setting.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not sep or not value:
            raise ValueError(f"fault setting {setting!r} is not name=value")
        if name == "error":
            return replace(self, error=_probability(name, value))
        if name == "lost":
            return replace(self, lost=_probability(name, value))
        if name == "timeout":
            return replace(self, timeout=_probability(name, value))
        if name == "burst429":
            length, at, chance = value.partition("@")
            if not at or not length.strip().isdigit() or int(length) < 1:
                raise ValueError(f"fault burst429: {value!r} is not N@P (e.g. 10@0.01)")
            return replace(self, burst429_length=int(length), burst429=_probability(name, chance))
        if name == "latency":
            low, dash, high = value.partition("-")
            unit = "s" if value.endswith("s") and not value.endswith("ms") else "ms"
            low_s = _seconds(name, low, unit)
            high_s = _seconds(name, high, unit) if dash else low_s
            if high_s < low_s:
                raise ValueError(f"fault latency: range {value!r} is reversed")
            return replace(self, latency_min=low_s, latency_max=high_s)
        if name == "lost_status":
            if value not in ("500", "503"):
                raise ValueError(f"fault lost_status: {value!r} is not 500 or 503")
            return replace(self, lost_status=int(value))
        if name == "hang":
            return replace(self, hang=_seconds(name, value, "s"))
        if name == "seed":
            try:
                return replace(self, seed=int(value))
            except ValueError:
                raise ValueError(f"fault seed: {value!r} is not an integer") from None
        raise ValueError(
            f"unknown fault {name!r} (known: error, burst429, latency, lost, lost_status, "
            "timeout, hang, seed)"
        )

    @property
    def active(self) -> bool:
        return any((self.error, self.burst429, self.latency_max, self.lost, self.timeout))


class FaultInjector:
    """Draws a :class:`FaultDecision` per request from a spec; thread-safe."""

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        self._random = random.Random(spec.seed)
        self._burst_left = 0
        self._lock = threading.Lock()

    def decide(self) -> FaultDecision:
        spec = self.spec
        with self._lock:
            draw = self._random.random
            latency = spec.latency_min
            if spec.latency_max > spec.latency_min:
                latency = self._random.uniform(spec.latency_min, spec.latency_max)
            if self._burst_left == 0 and spec.burst429 and draw() < spec.burst429:
                self._burst_left = spec.burst429_length
            if self._burst_left > 0:
                self._burst_left -= 1
                return FaultDecision(latency, FaultAction.THROTTLE, 429)
            if spec.error and draw() < spec.error:
                status = self._random.choice((500, 503))
                return FaultDecision(latency, FaultAction.ERROR, status)
            if spec.timeout and draw() < spec.timeout:
                return FaultDecision(latency, FaultAction.TIMEOUT)
            lost = bool(spec.lost) and draw() < spec.lost
            return FaultDecision(latency, FaultAction.NONE, spec.lost_status or 0, lost)
