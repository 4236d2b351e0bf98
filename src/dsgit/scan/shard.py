"""``--shard K/N``: split one scan over N processes (or N jobs of a GitHub Actions matrix).

Each entry belongs to exactly one shard, decided by a stable hash of its address (the plan
address ``store/scope/key``, ``ordered:`` first for ordered stores), so the N shards together
visit every entry once, on any machine, in any order. Every shard lists every lane (listing is
the cheap class: one request names 256 keys) and reads only its own entries; each takes
``share / N`` of the rate budget, so N shards together take what one process would.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from dsgit.config import Budget

__all__ = ["Shard", "shard_of"]

_TEXT = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def shard_of(address: str, count: int) -> int:
    """The shard (1..count) of a plan address: BLAKE2b of its UTF-8, modulo ``count``."""
    digest = hashlib.blake2b(address.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count + 1


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based, as ``--shard 1/4`` … ``4/4``)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 1 <= self.index <= self.count:
            raise ValueError(f"shard {self.index}/{self.count} is not K/N with 1 <= K <= N")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/4"``; ``ValueError`` with a message naming the text otherwise."""
        match = _TEXT.match(text)
        if match is None:
            raise ValueError(f"--shard {text!r} is not K/N (for example 1/4)")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, address: str) -> bool:
        return self.count == 1 or shard_of(address, self.count) == self.index

    def budget(self, budget: Budget) -> Budget:
        """This shard's part of the environment's budget: ``share / N``."""
        return Budget(ccu=budget.ccu, share=budget.share / self.count)
