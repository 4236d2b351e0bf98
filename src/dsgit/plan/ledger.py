"""What planning needs from the audit ledger: the last apply of each address.

The ledger (``dsgit.ledger``, written by apply) implements :class:`AppliedLookup`; undo commands
may pass their own. Without a record for an address, planning compares with nothing and skips
the "changed outside git" check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from dsgit.model.entry import Address

__all__ = ["AppliedLookup", "AppliedRecord", "MappingLookup", "NoLedger"]


@dataclass(frozen=True)
class AppliedRecord:
    """The live state an apply left behind at one address.

    ``revision_id`` is the revision the write produced (standard stores); ``value_digest`` the
    ``sha256:`` entry digest written (``dsgit.plan.digest.entry_digest``), used for ordered
    entries, which have no revisions. ``deleted`` is True when the apply deleted the entry.
    """

    revision_id: str | None
    value_digest: str | None = None
    applied_at: str | None = None
    deleted: bool = False


class AppliedLookup(Protocol):
    """Read access to the ledger, by address."""

    def last_applied(self, address: Address) -> AppliedRecord | None: ...


class NoLedger:
    """No ledger: nothing was ever applied."""

    def last_applied(self, address: Address) -> AppliedRecord | None:
        return None


class MappingLookup:
    """A lookup over a mapping (tests, undo commands)."""

    def __init__(self, records: Mapping[Address, AppliedRecord]) -> None:
        self._records = records

    def last_applied(self, address: Address) -> AppliedRecord | None:
        return self._records.get(address)
