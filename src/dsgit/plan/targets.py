"""``--target`` / ``--exclude``: glob patterns over plan addresses.

An address is selected when it matches at least one target (or no target was given) and no
exclude. Patterns are ``fnmatch`` globs over the plan address as printed (``store/scope/key``,
each part path-encoded, ``<kind>:`` prefix for every kind but standard stores); ``*`` also
crosses ``/``, so ``PlayerData/*`` selects a whole store.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from dsgit.model.encoding import encode_segment
from dsgit.model.entry import Address, StoreKind

__all__ = ["AddressFilter"]


@dataclass(frozen=True)
class AddressFilter:
    """Which addresses a plan covers."""

    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return not self.targets and not self.excludes

    def selects(self, address: Address) -> bool:
        if self.everything:
            return True
        text = str(address)
        if self.targets and not any(fnmatchcase(text, pattern) for pattern in self.targets):
            return False
        return not any(fnmatchcase(text, pattern) for pattern in self.excludes)

    def may_select_store(self, kind: StoreKind, store: str) -> bool:
        """False only when no address of the store can be selected (saves its listing)."""
        if not self.targets:
            return True
        label = "" if kind is StoreKind.STANDARD else f"{kind.value}:"
        prefix = label + encode_segment(store)
        for pattern in self.targets:
            head, slash, _ = pattern.partition("/")
            if not slash or fnmatchcase(prefix, head) or "*" in head:
                return True
        return False
