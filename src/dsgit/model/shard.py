"""Shards: a stable split of the key space into N parts (``--shard K/N``, DESIGN.md §9).

An entry belongs to shard ``shard_of(kind, store, scope, key, n)``: the first 8 bytes of the
SHA-256 of the UTF-8 bytes of ``<len>:<kind><len>:<store><len>:<scope><len>:<key>`` (each part
prefixed by its length in characters, so no two addresses share an encoding), as a big-endian
integer, modulo ``n``. It depends on nothing but the whole address, so every process, machine
and dsgit version puts an entry in the same shard, and the scan, ``--shard`` of the plan
commands and ``apply --shard`` agree; N jobs that each take one shard cover every entry exactly
once. The whole address is hashed (not the key alone): DataStore2 keeps keys ``1..n`` in every
``DATA/<id>`` store, and a key-only hash would put all of one key number in one shard.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dsgit.model.entry import Address

__all__ = ["Shard", "shard_of"]

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
MAX_SHARDS = 256


def shard_of(kind: str, store: str, scope: str, key: str, n: int) -> int:
    """The shard (``0 <= shard < n``) of the entry at (``kind``, ``store``, ``scope``, ``key``)
    when the entries are split ``n`` ways (``kind`` is the store kind's value: ``standard``)."""
    if n < 1:
        raise ValueError(f"the number of shards must be at least 1, not {n}")
    text = f"{len(kind)}:{kind}{len(store)}:{store}{len(scope)}:{scope}{len(key)}:{key}"
    head = hashlib.sha256(text.encode("utf-8")).digest()[:8]
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

    def holds(self, address: Address) -> bool:
        """True when the entry at ``address`` is in this shard."""
        return self.holds_parts(address.kind.value, address.store, address.scope, address.key)

    def holds_parts(self, kind: str, store: str, scope: str, key: str) -> bool:
        """:meth:`holds` of the address of these parts (for a scan, which has no Address)."""
        return shard_of(kind, store, scope, key, self.count) == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def slug(self) -> str:
        """``2-of-4``: a file-name-safe spelling."""
        return f"{self.index}-of-{self.count}"
