"""Shards: a stable split of the key space into N parts (``--shard K/N``, DESIGN.md §9).

A key belongs to shard ``shard_of(key, n)``: the first 8 bytes of the SHA-256 of its UTF-8
bytes, as a big-endian integer, modulo ``n``. It depends on nothing but the key, so every
process, machine and dsgit version puts a key in the same shard; N jobs that each take one shard
cover every key exactly once. Plans shard by the entry's *key* (not its store or scope), so a
DataStore2 pair (``DATA/<id>`` standard and ordered entries of one key) lands in one shard.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = ["Shard", "shard_of"]

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
MAX_SHARDS = 256


def shard_of(key: str, n: int) -> int:
    """The shard (``0 <= shard < n``) that ``key`` belongs to when the keys are split ``n`` ways."""
    if n < 1:
        raise ValueError(f"the number of shards must be at least 1, not {n}")
    head = hashlib.sha256(key.encode("utf-8")).digest()[:8]
    return int.from_bytes(head, "big") % n


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (``--shard K/N``: ``K`` counts from 1, as matrix jobs do)."""

    index: int  # 1..count
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_SHARDS:
            raise ValueError(f"the number of shards must be 1 to {MAX_SHARDS}, not {self.count}")
        if not 1 <= self.index <= self.count:
            raise ValueError(f"shard {self.index} is not one of 1..{self.count}")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/4"``: the second of four shards. Raises ``ValueError`` with what is wrong."""
        match = _SHARD.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not a shard such as 1/4 (K/N, K from 1 to N)")
        return cls(int(match.group(1)), int(match.group(2)))

    def holds(self, key: str) -> bool:
        """True when ``key`` is in this shard."""
        return shard_of(key, self.count) == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def slug(self) -> str:
        """``2-of-4``: a file-name-safe spelling."""
        return f"{self.index}-of-{self.count}"
