"""The ports through which everything reads and writes live state, one Protocol per API.

``OpenCloudClient`` (``dsgit.remote.client``) implements it over httpx, against Roblox or the
emulator; tests may use it with the in-process emulator transport. Keys, scopes and store names
are plain (unencoded) strings here; the client quotes every path segment.

Conventions:
- iterators page lazily: nothing is held in memory beyond one page;
- ``get_*`` return ``None`` for a missing entry (404, or a soft-deleted one / a tombstone
  revision), everything else raises ``RemoteError``;
- writes take an optional ``etag``: the write happens only if the live etag still matches,
  otherwise ``PreconditionFailed`` is raised and nothing is written;
- ``*_many`` methods run requests concurrently within the rate budget and yield results in
  completion order, each paired with the request it answers.

``ConfigsApi`` (Experience Configs and the experiments that lock their keys) lives in
``dsgit.remote.configs_api`` and is re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dsgit.model.entry import EntryData, LiveEntry, LiveOrderedEntry
from dsgit.remote.configs_api import ConfigsApi

__all__ = [
    "ConfigsApi",
    "DataStoreInfo",
    "DataStoresApi",
    "EntryKey",
    "OpenCloudApi",
    "OrderedEntriesApi",
    "RevisionInfo",
    "SnapshotResult",
    "StandardEntriesApi",
]


@dataclass(frozen=True)
class DataStoreInfo:
    """One data store from the listing (``state``/times only present when the API gives them)."""

    id: str
    create_time: str | None = None
    state: str | None = None
    expire_time: str | None = None


@dataclass(frozen=True)
class EntryKey:
    """One key from an entry listing, with the scope it lives in."""

    scope: str
    key: str
    deleted: bool = False


@dataclass(frozen=True)
class RevisionInfo:
    """One revision of an entry from ``:listRevisions`` (value not included)."""

    revision_id: str
    revision_create_time: str
    etag: str | None
    state: str


@dataclass(frozen=True)
class SnapshotResult:
    new_snapshot_taken: bool
    latest_snapshot_time: str


class DataStoresApi(Protocol):
    """Data stores as a whole (listing, delete and undelete, snapshots) of one universe."""

    universe_id: int

    def list_data_stores(
        self, *, prefix: str | None = None, show_deleted: bool = False
    ) -> Iterator[DataStoreInfo]: ...

    def delete_data_store(self, store: str) -> DataStoreInfo: ...

    def undelete_data_store(self, store: str) -> DataStoreInfo: ...

    def snapshot(self) -> SnapshotResult: ...


class StandardEntriesApi(Protocol):
    """Entries of standard data stores: JSON values with metadata, revisions and etags."""

    universe_id: int

    def list_keys(
        self,
        store: str,
        scope: str = "global",
        *,
        prefix: str | None = None,
        show_deleted: bool = False,
    ) -> Iterator[EntryKey]:
        """Keys of one scope, or of every scope with ``scope="-"``."""
        ...

    def get_entry(
        self,
        store: str,
        key: str,
        scope: str = "global",
        *,
        revision: str | None = None,
        at: datetime | None = None,
    ) -> LiveEntry | None:
        """Latest value, one ``revision``, or the value current ``at`` a time; None if absent."""
        ...

    def get_entries(
        self, requests: Iterable[tuple[str, str, str]]
    ) -> Iterator[tuple[tuple[str, str, str], LiveEntry | None]]:
        """Concurrent ``get_entry`` for ``(store, scope, key)`` triples, in completion order."""
        ...

    def create_entry(
        self, store: str, key: str, data: EntryData, scope: str = "global"
    ) -> LiveEntry: ...

    def update_entry(
        self,
        store: str,
        key: str,
        data: EntryData,
        scope: str = "global",
        *,
        etag: str | None = None,
        allow_missing: bool = False,
    ) -> LiveEntry: ...

    def increment_entry(
        self, store: str, key: str, amount: int, scope: str = "global"
    ) -> LiveEntry: ...

    def delete_entry(self, store: str, key: str, scope: str = "global") -> None: ...

    def list_revisions(
        self,
        store: str,
        key: str,
        scope: str = "global",
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Iterator[RevisionInfo]: ...


class OrderedEntriesApi(Protocol):
    """Entries of ordered data stores: integers, no metadata, no revisions."""

    universe_id: int

    def list_ordered(
        self,
        store: str,
        scope: str = "global",
        *,
        descending: bool = False,
        min_value: int | None = None,
        max_value: int | None = None,
    ) -> Iterator[LiveOrderedEntry]: ...

    def get_ordered(
        self, store: str, key: str, scope: str = "global"
    ) -> LiveOrderedEntry | None: ...

    def create_ordered(
        self, store: str, key: str, value: int, scope: str = "global"
    ) -> LiveOrderedEntry: ...

    def update_ordered(
        self,
        store: str,
        key: str,
        value: int,
        scope: str = "global",
        *,
        allow_missing: bool = False,
    ) -> LiveOrderedEntry: ...

    def increment_ordered(
        self, store: str, key: str, amount: int, scope: str = "global"
    ) -> LiveOrderedEntry: ...

    def delete_ordered(self, store: str, key: str, scope: str = "global") -> None: ...


class OpenCloudApi(DataStoresApi, StandardEntriesApi, OrderedEntriesApi, ConfigsApi, Protocol):
    """Every Open Cloud API dsgit uses, for one universe (what ``OpenCloudClient`` implements).

    Code that needs one API takes its Protocol (``StandardEntriesApi``...), so a fake in a test
    implements only what that code calls.
    """
