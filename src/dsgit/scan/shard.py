"""``--shard K/N`` for scans: which entries a shard reads, and its part of the budget.

The split is the one every plan, scan and apply uses (:mod:`dsgit.model.shard`): a stable hash
of the entry's whole address (kind, store, scope, key), so the N shards together visit every
entry once, on any machine, and a shard's plan holds exactly the changes ``plan combine`` and
``apply --shard`` expect of it.
Every shard lists every lane (listing is the cheap class: one request names 256 keys) and
reads only its own entries; each takes ``share / N`` of the rate budget, so N shards together
take what one process would.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsgit.config import Budget
from dsgit.model.shard import Shard as KeyShard
from dsgit.model.shard import shard_of

__all__ = ["Shard", "shard_of"]


@dataclass(frozen=True)
class Shard(KeyShard):
    """Shard ``index`` of ``count`` (1-based, as ``--shard 1/4`` … ``4/4``)."""

    @classmethod
    def of(cls, shard: KeyShard) -> Shard:
        return cls(shard.index, shard.count)

    def owns(self, kind: str, store: str, scope: str, key: str) -> bool:
        """True when this shard reads the entry at (``kind``, ``store``, ``scope``, ``key``)."""
        return self.count == 1 or self.holds_parts(kind, store, scope, key)

    def budget(self, budget: Budget) -> Budget:
        """This shard's part of the environment's budget: ``share / N``."""
        return Budget(ccu=budget.ccu, share=budget.share / self.count)
