"""Looking at live data (``dsgit ls``, ``get``, ``history``): use cases over ``OpenCloudApi``.

Each function takes the API explicitly and returns values (lazy iterators for listings); the
CLI renders them. A missing entry is an error here, with the address in the message.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from dsgit.errors import DsgitError
from dsgit.model.entry import Address, LiveEntry, LiveOrderedEntry
from dsgit.model.times import parse_user_time
from dsgit.remote.api import DataStoreInfo, EntryKey, OpenCloudApi, RevisionInfo

__all__ = [
    "ALL_SCOPES",
    "EntryMissing",
    "Selection",
    "entry_history",
    "list_entry_keys",
    "list_ordered_entries",
    "list_stores",
    "parse_time",
    "read_entry",
    "read_ordered_entry",
]

ALL_SCOPES = "-"


class EntryMissing(DsgitError):
    """The entry (or the revision, or the value at that time) does not exist."""


@dataclass(frozen=True)
class Selection:
    """Which version of an entry to read: the latest, one revision, or the one current at a time."""

    revision: str | None = None
    at: datetime | None = None

    def describe(self) -> str:
        if self.revision is not None:
            return f" at revision {self.revision}"
        if self.at is not None:
            return f" at {self.at.isoformat()}"
        return ""


parse_time = parse_user_time  # `get --at`, `history --since/--until`


def list_stores(
    api: OpenCloudApi, *, prefix: str | None = None, show_deleted: bool = False
) -> Iterator[DataStoreInfo]:
    return api.list_data_stores(prefix=prefix, show_deleted=show_deleted)


def list_entry_keys(
    api: OpenCloudApi,
    store: str,
    scope: str = "global",
    *,
    prefix: str | None = None,
    show_deleted: bool = False,
) -> Iterator[EntryKey]:
    """Keys of one scope, or of all of them with ``scope=ALL_SCOPES``."""
    return api.list_keys(store, scope, prefix=prefix, show_deleted=show_deleted)


def list_ordered_entries(
    api: OpenCloudApi,
    store: str,
    scope: str = "global",
    *,
    prefix: str | None = None,
    descending: bool = False,
) -> Iterator[LiveOrderedEntry]:
    """Entries of an ordered scope, by value; the API cannot filter keys, so ``prefix`` is
    applied here."""
    for entry in api.list_ordered(store, scope, descending=descending):
        if prefix is None or entry.key.startswith(prefix):
            yield entry


def read_entry(
    api: OpenCloudApi,
    store: str,
    key: str,
    scope: str = "global",
    selection: Selection = Selection(),
) -> LiveEntry:
    entry = api.get_entry(store, key, scope, revision=selection.revision, at=selection.at)
    if entry is None:
        raise EntryMissing(f"no entry {Address.standard(store, key, scope)}{selection.describe()}")
    return entry


def read_ordered_entry(
    api: OpenCloudApi, store: str, key: str, scope: str = "global"
) -> LiveOrderedEntry:
    entry = api.get_ordered(store, key, scope)
    if entry is None:
        raise EntryMissing(f"no ordered entry {Address.ordered(store, key, scope)}")
    return entry


def _time_key(text: str) -> tuple[str, str]:
    """Orders RFC 3339 UTC times whatever their number of fractional digits."""
    whole, _, fraction = text.rstrip("Zz").partition(".")
    return whole, fraction.ljust(9, "0")


def entry_history(
    api: OpenCloudApi,
    store: str,
    key: str,
    scope: str = "global",
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[RevisionInfo]:
    """Revisions of one entry, oldest first (Roblox keeps about 30 days of them)."""
    if since is not None and until is not None and since > until:
        raise DsgitError("--since is after --until: no revision can match")
    revisions = api.list_revisions(store, key, scope, start=since, end=until)
    return sorted(revisions, key=lambda item: _time_key(item.revision_create_time))
