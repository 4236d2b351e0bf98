"""``--sample N``: a uniform random sample of N selected entries, the same on every run.

The sample is the N entries whose salted hash of the address is smallest (a bottom-k sketch):
uniform without replacement, reproducible (a rerun, or a resumed run, picks the same entries),
and found while listing without holding more than N keys. Only the sampled entries are read.
"""

from __future__ import annotations

import hashlib
import heapq
from typing import Any

__all__ = ["BottomK", "sample_hash"]

_SALT = b"dsgit-sample"


def sample_hash(address: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(address.encode("utf-8"), digest_size=8, key=_SALT).digest(), "big"
    )


class BottomK:
    """The ``size`` items with the smallest hashes seen so far (a max-heap of them)."""

    def __init__(self, size: int, items: list[tuple[int, Any]] | None = None) -> None:
        if size < 1:
            raise ValueError("a sample needs at least one entry")
        self.size = size
        self._heap: list[tuple[int, Any]] = [(-h, item) for h, item in items or []]
        heapq.heapify(self._heap)

    def offer(self, hashed: int, item: Any) -> None:
        if len(self._heap) < self.size:
            heapq.heappush(self._heap, (-hashed, item))
        elif -self._heap[0][0] > hashed:
            heapq.heapreplace(self._heap, (-hashed, item))

    def items(self) -> list[tuple[int, Any]]:
        """``(hash, item)`` pairs, smallest hash first."""
        return sorted((-negated, item) for negated, item in self._heap)
