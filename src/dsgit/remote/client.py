"""``OpenCloudClient``: the Open Cloud API of one universe, over httpx.

The client never touches sockets itself: it sends through an ``httpx.Client`` whose transport is
injected (the in-process emulator in tests, the network otherwise), via a
:class:`~dsgit.remote.session.Session` that applies the rate budget, retries and error mapping.
This module holds data stores and standard entries; ordered entries and configs repositories
are mixed in from ``ordered_ops`` and ``configs_ops``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import httpx

from dsgit.config import DEFAULT_URL
from dsgit.model.entry import EntryData, LiveEntry
from dsgit.remote import parse
from dsgit.remote import paths as P
from dsgit.remote.analytics_ops import Analytics
from dsgit.remote.api import DataStoreInfo, EntryKey, RevisionInfo, SnapshotResult
from dsgit.remote.budget import Operation, RateBudget, RequestClass
from dsgit.remote.concurrent import map_concurrently
from dsgit.remote.configs_ops import ConfigsRepositories
from dsgit.remote.health import RunBounds, Target
from dsgit.remote.ordered_ops import OrderedEntries
from dsgit.remote.retry import RetryPolicy, Safety
from dsgit.remote.session import MISSING, Session

__all__ = ["OpenCloudClient", "same_data"]

_READ = RequestClass(Operation.READ)
_WRITE = RequestClass(Operation.WRITE)
_LIST = RequestClass(Operation.LIST)
_REMOVE = RequestClass(Operation.REMOVE)
_SNAPSHOT = RequestClass(Operation.SNAPSHOT)

_ENTRIES_PAGE = 256
_STORES_PAGE = 100
_REVISIONS_PAGE = 100


def _canonical(value: Any) -> Any:
    """A comparable form of a JSON value where ``1 == 1.0`` but ``True != 1``."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, int | float):
        return ("number", value)
    if isinstance(value, Mapping):
        return ("object", tuple(sorted((k, _canonical(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("array", tuple(_canonical(v) for v in value))
    return ("other", repr(value))


def same_data(live: LiveEntry, data: EntryData) -> bool:
    """True when ``live`` holds exactly ``data`` (value, attributes and users)."""
    return (
        _canonical(live.value) == _canonical(data.value)
        and _canonical(dict(live.attributes)) == _canonical(dict(data.attributes))
        and tuple(live.users) == tuple(data.users)
    )


def _entry_body(data: EntryData, etag: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "value": data.value,
        "attributes": dict(data.attributes),
        "users": [f"users/{user}" for user in data.users],
    }
    if etag is not None:
        body["etag"] = etag
    return body


class OpenCloudClient(OrderedEntries, ConfigsRepositories, Analytics):
    """Open Cloud v2 data stores, ordered data stores, snapshots and configs of one universe.

    Implements :class:`dsgit.remote.api.OpenCloudApi`. Use it as a context manager, or call
    :meth:`close`. ``transport`` is any ``httpx.BaseTransport`` (the emulator's, a
    ``MockTransport``); ``budget`` limits the request rate (``RateBudget.unlimited()`` when
    omitted); ``sleep`` (and ``clock``) are injectable so retry tests do not wait; ``target``
    names the environment in run-stopping errors and ``bounds`` sets how soon they stop it.
    """

    def __init__(
        self,
        universe_id: int,
        *,
        base_url: str = DEFAULT_URL,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
        budget: RateBudget | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        max_workers: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_close: Callable[[], None] | None = None,
        target: Target | None = None,
        bounds: RunBounds | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.universe_id = universe_id
        self.base_url = base_url.rstrip("/")
        self._on_close = on_close
        self._max_workers = max_workers
        self._session = Session(
            self.base_url,
            api_key=api_key,
            transport=transport,
            budget=budget if budget is not None else RateBudget.unlimited(),
            retry=retry if retry is not None else RetryPolicy(),
            timeout=timeout,
            connections=max(16, (max_workers or 64) + 4),
            sleep=sleep,
            target=target
            if target is not None
            else Target(universe_id=universe_id, has_key=bool(api_key)),
            bounds=bounds,
            clock=clock,
        )
        self.budget = self._session.budget
        self.meter = self._session.meter
        self._closed = False

    def __repr__(self) -> str:
        return f"OpenCloudClient(universe_id={self.universe_id}, base_url={self.base_url!r})"

    def __enter__(self) -> OpenCloudClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool and whatever ``on_close`` owns (the embedded emulator)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._session.close()
        finally:
            if self._on_close is not None:
                self._on_close()

    # --- data stores -------------------------------------------------------------------------
    def list_data_stores(
        self, *, prefix: str | None = None, show_deleted: bool = False
    ) -> Iterator[DataStoreInfo]:
        path = P.data_stores_path(self.universe_id)
        params: dict[str, str | int] = {"maxPageSize": _STORES_PAGE}
        if prefix:
            params["filter"] = f"id.startsWith({json.dumps(prefix, ensure_ascii=False)})"
        if show_deleted:
            params["showDeleted"] = "true"
        for item in self._session.pages(path, _LIST, params, "dataStores"):
            yield self._session.parse("GET", path, parse.data_store, item)

    def _find_data_store(self, store: str) -> DataStoreInfo | None:
        for info in self.list_data_stores(prefix=store, show_deleted=True):
            if info.id == store:
                return info
        return None

    def delete_data_store(self, store: str) -> DataStoreInfo:
        path = P.data_store_path(self.universe_id, store)

        def verify() -> DataStoreInfo | None:
            info = self._find_data_store(store)
            return info if info is not None and info.state == "DELETED" else None

        return self._session.verified_write(
            "DELETE", path, _REMOVE, parse.data_store, verify=verify
        )

    def undelete_data_store(self, store: str) -> DataStoreInfo:
        path = P.data_store_path(self.universe_id, store) + ":undelete"

        def verify() -> DataStoreInfo | None:
            info = self._find_data_store(store)
            return info if info is not None and info.state != "DELETED" else None

        return self._session.verified_write(
            "POST", path, _REMOVE, parse.data_store, body={}, verify=verify
        )

    def snapshot(self) -> SnapshotResult:
        # At most one snapshot a day is taken; repeating the request is a harmless no-op.
        path = P.data_stores_path(self.universe_id) + ":snapshot"
        body = self._session.call("POST", path, _SNAPSHOT, body={})
        return self._session.parse("POST", path, parse.snapshot, body)

    # --- standard entries --------------------------------------------------------------------
    def list_keys(
        self,
        store: str,
        scope: str = "global",
        *,
        prefix: str | None = None,
        show_deleted: bool = False,
    ) -> Iterator[EntryKey]:
        path = P.entries_path(self.universe_id, store, scope)
        params: dict[str, str | int] = {"maxPageSize": _ENTRIES_PAGE}
        if prefix:
            params["filter"] = f"id.startsWith({json.dumps(prefix, ensure_ascii=False)})"
        if show_deleted:
            params["showDeleted"] = "true"
        for item in self._session.pages(path, _LIST, params, "dataStoreEntries"):
            yield self._session.parse("GET", path, parse.entry_key, item, store, scope)

    def list_keys_page(
        self,
        store: str,
        scope: str = "global",
        *,
        prefix: str | None = None,
        page_token: str | None = None,
    ) -> tuple[list[EntryKey], str | None]:
        """One page of :meth:`list_keys` and the token of the next (None on the last page)."""
        path = P.entries_path(self.universe_id, store, scope)
        params: dict[str, str | int] = {"maxPageSize": _ENTRIES_PAGE}
        if prefix:
            params["filter"] = f"id.startsWith({json.dumps(prefix, ensure_ascii=False)})"
        items, token = self._session.page(path, _LIST, params, "dataStoreEntries", page_token)
        keys = [self._session.parse("GET", path, parse.entry_key, i, store, scope) for i in items]
        return keys, token

    def get_entry(
        self,
        store: str,
        key: str,
        scope: str = "global",
        *,
        revision: str | None = None,
        at: datetime | None = None,
    ) -> LiveEntry | None:
        selector = P.read_selector(key, revision, at)
        path = P.entry_path(self.universe_id, store, scope, key, selector)
        body = self._session.call("GET", path, _READ, allow_404=True)
        if body is MISSING:
            return None
        entry = self._session.parse("GET", path, parse.live_entry, body, store, scope, key)
        # A soft-deleted entry (or a tombstone revision) reads as absent, as a 404 does.
        return None if entry.state == "DELETED" else entry

    def get_entries(
        self, requests: Iterable[tuple[str, str, str]]
    ) -> Iterator[tuple[tuple[str, str, str], LiveEntry | None]]:
        workers = self._max_workers or self.budget.concurrency(_READ)

        def read(request: tuple[str, str, str]) -> LiveEntry | None:
            store, scope, key = request
            return self.get_entry(store, key, scope)

        return map_concurrently(read, requests, workers=workers)

    def create_entry(
        self, store: str, key: str, data: EntryData, scope: str = "global"
    ) -> LiveEntry:
        path = P.entries_path(self.universe_id, store, scope)

        def verify() -> LiveEntry | None:
            live = self.get_entry(store, key, scope)
            return live if live is not None and same_data(live, data) else None

        return self._session.verified_write(
            "POST",
            path,
            _WRITE,
            parse.live_entry,
            store,
            scope,
            key,
            params={"id": key},
            body=_entry_body(data),
            verify=verify,
        )

    def update_entry(
        self,
        store: str,
        key: str,
        data: EntryData,
        scope: str = "global",
        *,
        etag: str | None = None,
        allow_missing: bool = False,
    ) -> LiveEntry:
        path = P.entry_path(self.universe_id, store, scope, key)

        def verify() -> LiveEntry | None:
            live = self.get_entry(store, key, scope)
            if live is None or not same_data(live, data):
                return None
            # With a precondition, an unchanged etag means our write did not land.
            return live if etag is None or live.etag != etag else None

        return self._session.verified_write(
            "PATCH",
            path,
            _WRITE,
            parse.live_entry,
            store,
            scope,
            key,
            params={"allowMissing": "true"} if allow_missing else None,
            body=_entry_body(data, etag),
            verify=verify,
        )

    def increment_entry(
        self, store: str, key: str, amount: int, scope: str = "global"
    ) -> LiveEntry:
        path = P.entry_path(self.universe_id, store, scope, key, ":increment")
        body = self._session.call(
            "POST", path, _WRITE, body={"amount": amount}, safety=Safety.UNSAFE
        )
        return self._session.parse("POST", path, parse.live_entry, body, store, scope, key)

    def delete_entry(self, store: str, key: str, scope: str = "global") -> None:
        path = P.entry_path(self.universe_id, store, scope, key)

        def verify() -> bool | None:
            return True if self.get_entry(store, key, scope) is None else None

        self._session.call("DELETE", path, _REMOVE, safety=Safety.VERIFIED, verify=verify)

    def list_revisions(
        self,
        store: str,
        key: str,
        scope: str = "global",
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Iterator[RevisionInfo]:
        path = P.entry_path(self.universe_id, store, scope, key, ":listRevisions")
        params: dict[str, str | int] = {"maxPageSize": _REVISIONS_PAGE}
        clauses = []
        if start is not None:
            clauses.append(f"revision_create_time >= {P.format_time(start)}")
        if end is not None:
            clauses.append(f"revision_create_time <= {P.format_time(end)}")
        if clauses:
            params["filter"] = " && ".join(clauses)
        for item in self._session.pages(path, _LIST, params, "dataStoreEntries"):
            yield self._session.parse("GET", path, parse.revision, item)
