"""Statistics a scan needs with memory bounded in the number of keys.

- :class:`Reservoir`: a uniform sample of at most ``capacity`` items, by hash (bottom-k), so
  the same items give the same sample in any order.
- :class:`SizeHistogram`: value sizes in fixed, readable buckets plus exact count, total,
  min and max, and quantiles from a reservoir.
- :func:`robust_outliers`: values far above the rest by the modified z-score
  ``0.6745 × (x − median) / MAD`` (Iglewicz and Hoaglin), which one huge value cannot mask
  as a mean and standard deviation would.
- :func:`margin_of_error`: what a sample of ``n`` out of ``N`` says about a proportion.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = [
    "SIZE_BUCKETS",
    "Outlier",
    "Reservoir",
    "SizeHistogram",
    "Spread",
    "bucket_label",
    "bucket_short",
    "human_size",
    "margin_of_error",
    "quantile",
    "robust_outliers",
    "spread",
]

T = TypeVar("T")

# Upper bounds (characters, exclusive) of the size buckets; the last one is open.
SIZE_BUCKETS: tuple[int, ...] = (
    64,
    256,
    1024,
    4096,
    16_384,
    65_536,
    262_144,
    1_048_576,
    3_774_874,  # 90 % of the 4 MB limit: the last bucket is "near the limit"
)

MODIFIED_Z_THRESHOLD = 3.5  # Iglewicz and Hoaglin's recommended cut-off
_MAD_SCALE = 0.6745  # makes MAD comparable with a normal distribution's standard deviation
_MEAN_AD_SCALE = 0.7979  # the same for the mean absolute deviation (sqrt(2/pi))


class Reservoir(Generic[T]):
    """A uniform sample of at most ``capacity`` items of a stream of unknown length: the items
    whose salted hash of their key is smallest (a bottom-k sketch). Unlike a random reservoir
    it does not depend on the order items arrive in (a scan reads concurrently), so the same
    entries always give the same sample."""

    def __init__(self, capacity: int, seed: str | int = 0) -> None:
        if capacity < 1:
            raise ValueError("a reservoir holds at least one item")
        self.capacity = capacity
        self.seen = 0
        self._salt = str(seed).encode("utf-8")[:64]
        self._heap: list[tuple[int, str, T]] = []  # (-hash, key, item): the largest on top

    def _hash(self, key: str) -> int:
        digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8, key=self._salt).digest()
        return int.from_bytes(digest, "big")

    def add(self, item: T, key: str | None = None) -> None:
        """Offer ``item``; ``key`` names it (default: its position in the stream)."""
        self.seen += 1
        ranked = (-self._hash(key if key is not None else str(self.seen)), key or "", item)
        if len(self._heap) < self.capacity:
            heapq.heappush(self._heap, ranked)
        elif ranked[:2] > self._heap[0][:2]:
            heapq.heapreplace(self._heap, ranked)

    @property
    def items(self) -> list[T]:
        return [item for _, _, item in sorted(self._heap, key=lambda row: (-row[0], row[1]))]

    def to_state(self) -> dict[str, Any]:
        """JSON for a scan's checkpoint (items must be JSON themselves)."""
        return {"seen": self.seen, "heap": [list(row) for row in self._heap]}

    def restore(self, state: dict[str, Any]) -> None:
        self.seen = int(state["seen"])
        self._heap = [(int(h), str(k), item) for h, k, item in state["heap"]]
        heapq.heapify(self._heap)


def quantile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile of sorted values, interpolated linearly (numpy's default)."""
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def bucket_label(index: int) -> str:
    """``"1 KB–4 KB"`` for a bucket index of :data:`SIZE_BUCKETS` (the last: ``"≥ 3.6 MB"``)."""
    if index >= len(SIZE_BUCKETS):
        return f"≥ {human_size(SIZE_BUCKETS[-1])}"
    low = 0 if index == 0 else SIZE_BUCKETS[index - 1]
    return f"{human_size(low)}–{human_size(SIZE_BUCKETS[index])}"


def bucket_short(index: int) -> str:
    """``"<4 KB"``: a bucket by its upper bound, short enough for a chart's axis."""
    if index >= len(SIZE_BUCKETS):
        return f"≥{human_size(SIZE_BUCKETS[-1])}"
    return f"<{human_size(SIZE_BUCKETS[index])}"


def human_size(chars: float) -> str:
    """A size in B, KB, MB, GB (1024-based, as Roblox states its limits)."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024 * 1024), ("KB", 1024)):
        if chars >= scale:
            amount = chars / scale
            return f"{amount:.1f} {unit}" if amount < 100 else f"{amount:.0f} {unit}"
    return f"{int(chars)} B"


@dataclass
class SizeHistogram:
    """Counts of value sizes per bucket, exact totals, and a reservoir for quantiles."""

    seed: str = ""
    counts: list[int] = field(default_factory=lambda: [0] * (len(SIZE_BUCKETS) + 1))
    count: int = 0
    total: int = 0
    smallest: int | None = None
    largest: int | None = None
    _sample: Reservoir[int] | None = None

    def add(self, size: int, key: str | None = None) -> None:
        if self._sample is None:
            self._sample = Reservoir(10_000, seed=self.seed)
        self.counts[_bucket(size)] += 1
        self.count += 1
        self.total += size
        self.smallest = size if self.smallest is None else min(self.smallest, size)
        self.largest = size if self.largest is None else max(self.largest, size)
        self._sample.add(size, key)

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    def to_state(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "count": self.count,
            "total": self.total,
            "smallest": self.smallest,
            "largest": self.largest,
            "sample": self._sample.to_state() if self._sample is not None else None,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.counts = [int(n) for n in state["counts"]]
        self.count, self.total = int(state["count"]), int(state["total"])
        self.smallest, self.largest = state["smallest"], state["largest"]
        if state["sample"] is not None:
            self._sample = Reservoir(10_000, seed=self.seed)
            self._sample.restore(state["sample"])

    def quantiles(self) -> dict[str, float]:
        """``p50``, ``p90``, ``p99`` (from up to 10,000 sampled sizes); empty with no values."""
        if self._sample is None or not self._sample.items:
            return {}
        ordered = sorted(self._sample.items)
        points = (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))
        return {name: quantile(ordered, q) for name, q in points}


def _bucket(size: int) -> int:
    for index, bound in enumerate(SIZE_BUCKETS):
        if size < bound:
            return index
    return len(SIZE_BUCKETS)


@dataclass(frozen=True)
class Outlier:
    """One value far above the rest: where, how much, and its modified z-score."""

    key: str
    value: float
    score: float


@dataclass(frozen=True)
class Spread:
    """Robust centre and spread of a set of numbers."""

    median: float
    mad: float  # median absolute deviation (0 when more than half the values are equal)
    count: int

    def score(self, value: float) -> float:
        """The modified z-score of ``value``; ``inf`` above a spread of zero."""
        if self.mad > 0:
            return _MAD_SCALE * (value - self.median) / self.mad
        return math.inf if value > self.median else 0.0


def spread(values: Iterable[float]) -> Spread | None:
    """Median and median absolute deviation; with MAD 0 (most values equal), the mean absolute
    deviation stands in, scaled alike, so a handful of distinct values still have a spread."""
    numbers = [float(value) for value in values]
    if not numbers:
        return None
    centre = statistics.median(numbers)
    deviations = [abs(value - centre) for value in numbers]
    mad = statistics.median(deviations)
    if mad == 0:
        mean_ad = statistics.fmean(deviations)
        mad = mean_ad * _MAD_SCALE / _MEAN_AD_SCALE
    return Spread(centre, mad, len(numbers))


def robust_outliers(
    reference: Iterable[float],
    candidates: Iterable[tuple[str, float]],
    *,
    threshold: float = MODIFIED_Z_THRESHOLD,
    minimum: int = 20,
) -> list[Outlier]:
    """Candidates whose modified z-score against ``reference`` exceeds ``threshold``, highest
    first. Fewer than ``minimum`` reference values say too little: no outliers then."""
    basis = spread(reference)
    if basis is None or basis.count < minimum:
        return []
    found = [
        Outlier(key, value, basis.score(value))
        for key, value in candidates
        if basis.score(value) > threshold
    ]
    return sorted(found, key=lambda item: (-item.value, item.key))


def margin_of_error(sample: int, population: int, z: float = 1.96) -> float:
    """The half-width of the 95 % confidence interval (z = 1.96) of a proportion measured on
    ``sample`` of ``population`` items, at its widest (p = 0.5), with the finite population
    correction: 0 when the sample is the whole population."""
    if sample <= 0:
        return 1.0
    if population <= 1 or sample >= population:
        return 0.0
    correction = math.sqrt((population - sample) / (population - 1))
    return z * math.sqrt(0.25 / sample) * correction
