"""Live state as planning sees it: what the listings and reads found, as plain values.

Built by :mod:`dsgit.planning.read` from Open Cloud (or directly by tests and undo commands).
For any address the state answers one of: the live entry, "absent" (a successful listing of its
scope did not hold it, or a read found nothing), or "unknown" (its read or listing failed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from dsgit.model.entry import Address, LiveEntry, LiveOrderedEntry, StoreKind
from dsgit.plan.model import Diagnostic

__all__ = ["UNKNOWN", "LiveState", "LiveValue", "ScopeKey", "ScopeListing", "Unknown"]

LiveValue = LiveEntry | LiveOrderedEntry
ScopeKey = tuple[StoreKind, str, str]  # kind, store, scope


class Unknown(Enum):
    """The live state of an address could not be established."""

    UNKNOWN = "unknown"


UNKNOWN = Unknown.UNKNOWN


@dataclass(frozen=True)
class ScopeListing:
    """The outcome of listing one scope. ``ok`` False: failed (``keys`` then means nothing).

    Ordered listings carry the values too (``values``), so no read is needed.
    """

    ok: bool
    keys: frozenset[str] = frozenset()
    values: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def failed(cls) -> ScopeListing:
        return cls(ok=False)


@dataclass(frozen=True)
class LiveState:
    """Everything read live for one plan."""

    listings: Mapping[ScopeKey, ScopeListing] = field(default_factory=dict)
    entries: Mapping[Address, LiveValue | None] = field(default_factory=dict)
    unread: frozenset[Address] = frozenset()  # reads that failed (a diagnostic says why)
    diagnostics: tuple[Diagnostic, ...] = ()

    def lookup(self, address: Address) -> LiveValue | Unknown | None:
        """The live entry, None when known absent, or UNKNOWN.

        Nothing in a scope whose listing failed is known, even entries read in it.
        """
        listing = self.listings.get((address.kind, address.store, address.scope))
        if listing is not None and not listing.ok:
            return UNKNOWN
        if address in self.entries:
            return self.entries[address]
        if address in self.unread or listing is None:
            return UNKNOWN
        if address.kind is StoreKind.ORDERED and address.key in listing.values:
            return LiveOrderedEntry(
                address.store, address.scope, address.key, listing.values[address.key]
            )
        if address.key in listing.keys:
            return UNKNOWN  # listed but not read: the reader skipped it
        return None

    def listed_keys(self, kind: StoreKind, store: str, scope: str) -> frozenset[str] | None:
        """Keys of a successful listing (ordered: with values), None when not listed or failed."""
        listing = self.listings.get((kind, store, scope))
        if listing is None or not listing.ok:
            return None
        return listing.keys | frozenset(listing.values)
