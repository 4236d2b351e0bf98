"""``OpenCloudClient``: the Open Cloud API of one universe, over httpx.

The client never touches sockets itself: it sends through an ``httpx.Client`` whose transport is
injected (the in-process emulator in tests, the network otherwise). Every request goes through
three layers, each in its own module:

- the rate budget (``budget.py``) grants a permit for the request's class;
- retries (``retry.py``) repeat transient failures and verify writes before repeating them;
- failures (``failures.py``) map an error status, once, into ``dsgit.errors``.

The API key travels only in the ``x-api-key`` header, added by an ``httpx.Auth`` whose repr
hides it; errors name the method and URL path, never headers, and any server message that
echoes the key has it replaced by ``***``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar

import httpx

from dsgit import __version__
from dsgit.config import DEFAULT_URL
from dsgit.errors import MalformedResponse, TransportError
from dsgit.model.entry import EntryData, JSONValue, LiveEntry, LiveOrderedEntry
from dsgit.remote import parse
from dsgit.remote import paths as P
from dsgit.remote.api import (
    ConfigRepository,
    ConfigRevision,
    DataStoreInfo,
    EntryKey,
    RevisionInfo,
    SnapshotResult,
)
from dsgit.remote.budget import Operation, RateBudget, RequestClass
from dsgit.remote.concurrent import map_concurrently
from dsgit.remote.failures import error_from_response, is_retryable_status, parse_retry_after
from dsgit.remote.retry import Retryable, RetryPolicy, Safety, call_with_retries

__all__ = ["OpenCloudClient", "same_data"]

log = logging.getLogger("dsgit.remote")

T = TypeVar("T")

_READ = RequestClass(Operation.READ)
_WRITE = RequestClass(Operation.WRITE)
_LIST = RequestClass(Operation.LIST)
_REMOVE = RequestClass(Operation.REMOVE)
_SNAPSHOT = RequestClass(Operation.SNAPSHOT)
_CONFIGS = RequestClass(Operation.CONFIGS)
_O_READ = RequestClass(Operation.READ, ordered=True)
_O_WRITE = RequestClass(Operation.WRITE, ordered=True)
_O_LIST = RequestClass(Operation.LIST, ordered=True)
_O_REMOVE = RequestClass(Operation.REMOVE, ordered=True)

_MISSING: Any = object()  # a 404 where the caller accepts one

_ENTRIES_PAGE = 256
_STORES_PAGE = 100
_REVISIONS_PAGE = 100
_ORDERED_PAGE = 100
_CONFIG_REVISIONS_PAGE = 100


class _ApiKeyAuth(httpx.Auth):
    """Adds ``x-api-key`` to each request; its repr never shows the key."""

    def __init__(self, key: str) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["x-api-key"] = self._key
        yield request

    def __repr__(self) -> str:
        return "_ApiKeyAuth(key=***)"


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


def _describe(exc: httpx.HTTPError) -> str:
    name = type(exc).__name__
    detail = str(exc)
    return f"{name}: {detail}" if detail else name


class OpenCloudClient:
    """Open Cloud v2 data stores, ordered data stores, snapshots and configs of one universe.

    Implements :class:`dsgit.remote.api.OpenCloudApi`. Use it as a context manager, or call
    :meth:`close`. ``transport`` is any ``httpx.BaseTransport`` (the emulator's, a
    ``MockTransport``); ``budget`` limits the request rate (``RateBudget.unlimited()`` when
    omitted); ``sleep`` is injectable so retry tests do not wait.
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
    ) -> None:
        self.universe_id = universe_id
        self.base_url = base_url.rstrip("/")
        self.budget = budget if budget is not None else RateBudget.unlimited()
        self.retry_policy = retry if retry is not None else RetryPolicy()
        self._secrets = (api_key,) if api_key else ()
        self._sleep = sleep
        self._on_close = on_close
        self._max_workers = max_workers
        connections = max(16, (max_workers or 64) + 4)
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            auth=_ApiKeyAuth(api_key) if api_key else None,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={"user-agent": f"dsgit/{__version__}"},
            follow_redirects=False,
        )
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
            self._http.close()
        finally:
            if self._on_close is not None:
                self._on_close()

    # --- one request ---------------------------------------------------------------------------
    def _attempt(
        self,
        method: str,
        path: str,
        request_class: RequestClass | None,
        params: Mapping[str, str | int] | None,
        body: Any,
        allow_404: bool,
    ) -> Any:
        started = time.monotonic()
        with self.budget.acquire(request_class):
            try:
                response = self._http.request(
                    method,
                    path,
                    params=dict(params) if params else None,
                    content=None if body is None else json.dumps(body).encode("utf-8"),
                    headers=None if body is None else {"content-type": "application/json"},
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # The request never left: no doubt about whether it happened.
                raise Retryable(
                    TransportError(method, path, _describe(exc)), ambiguous=False
                ) from exc
            except httpx.TransportError as exc:
                raise Retryable(
                    TransportError(method, path, _describe(exc)), ambiguous=True
                ) from exc
        status = response.status_code
        log.debug("%s %s -> %d in %.3fs", method, path, status, time.monotonic() - started)
        if 200 <= status < 300:
            if not response.content:
                return {}
            try:
                return json.loads(response.content)
            except ValueError:
                raise MalformedResponse(
                    method, path, status, "MALFORMED_RESPONSE", "the body is not JSON"
                ) from None
        if allow_404 and status == 404:
            return _MISSING
        error = error_from_response(method, path, response, secrets=self._secrets)
        if is_retryable_status(status):
            raise Retryable(
                error,
                ambiguous=status != 429,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        raise error

    def _call(
        self,
        method: str,
        path: str,
        request_class: RequestClass | None,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        allow_404: bool = False,
        safety: Safety = Safety.IDEMPOTENT,
        verify: Callable[[], Any] | None = None,
    ) -> Any:
        return call_with_retries(
            lambda: self._attempt(method, path, request_class, params, body, allow_404),
            policy=self.retry_policy,
            sleep=self._sleep,
            safety=safety,
            verify=verify,
            describe=(method, path),
        )

    @staticmethod
    def _parse(method: str, path: str, function: Callable[..., T], *args: Any, **kw: Any) -> T:
        try:
            return function(*args, **kw)
        except parse.BodyError as exc:
            raise MalformedResponse(method, path, 200, "MALFORMED_RESPONSE", str(exc)) from None

    def _pages(
        self,
        path: str,
        request_class: RequestClass,
        params: dict[str, str | int],
        field: str,
    ) -> Iterator[Any]:
        token: str | None = None
        seen: set[str] = set()
        while True:
            query = dict(params)
            if token:
                query["pageToken"] = token
            body = self._call("GET", path, request_class, params=query)
            items, token = self._parse("GET", path, parse.page, body, field)
            yield from items
            if not token:
                return
            if token in seen:
                raise MalformedResponse(
                    "GET", path, 200, "MALFORMED_RESPONSE", "the page token repeats"
                )
            seen.add(token)

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
        for item in self._pages(path, _LIST, params, "dataStores"):
            yield self._parse("GET", path, parse.data_store, item)

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

        body = self._call("DELETE", path, _REMOVE, safety=Safety.VERIFIED, verify=verify)
        if isinstance(body, DataStoreInfo):
            return body
        return self._parse("DELETE", path, parse.data_store, body)

    def undelete_data_store(self, store: str) -> DataStoreInfo:
        path = P.data_store_path(self.universe_id, store) + ":undelete"

        def verify() -> DataStoreInfo | None:
            info = self._find_data_store(store)
            return info if info is not None and info.state != "DELETED" else None

        body = self._call("POST", path, _REMOVE, body={}, safety=Safety.VERIFIED, verify=verify)
        if isinstance(body, DataStoreInfo):
            return body
        return self._parse("POST", path, parse.data_store, body)

    def snapshot(self) -> SnapshotResult:
        # At most one snapshot a day is taken; repeating the request is a harmless no-op.
        path = P.data_stores_path(self.universe_id) + ":snapshot"
        body = self._call("POST", path, _SNAPSHOT, body={})
        return self._parse("POST", path, parse.snapshot, body)

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
        for item in self._pages(path, _LIST, params, "dataStoreEntries"):
            yield self._parse("GET", path, parse.entry_key, item, store, scope)

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
        body = self._call("GET", path, _READ, allow_404=True)
        if body is _MISSING:
            return None
        return self._parse("GET", path, parse.live_entry, body, store, scope, key)

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

        body = self._call(
            "POST",
            path,
            _WRITE,
            params={"id": key},
            body=_entry_body(data),
            safety=Safety.VERIFIED,
            verify=verify,
        )
        if isinstance(body, LiveEntry):
            return body
        return self._parse("POST", path, parse.live_entry, body, store, scope, key)

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

        body = self._call(
            "PATCH",
            path,
            _WRITE,
            params={"allowMissing": "true"} if allow_missing else None,
            body=_entry_body(data, etag),
            safety=Safety.VERIFIED,
            verify=verify,
        )
        if isinstance(body, LiveEntry):
            return body
        return self._parse("PATCH", path, parse.live_entry, body, store, scope, key)

    def increment_entry(
        self, store: str, key: str, amount: int, scope: str = "global"
    ) -> LiveEntry:
        path = P.entry_path(self.universe_id, store, scope, key, ":increment")
        body = self._call("POST", path, _WRITE, body={"amount": amount}, safety=Safety.UNSAFE)
        return self._parse("POST", path, parse.live_entry, body, store, scope, key)

    def delete_entry(self, store: str, key: str, scope: str = "global") -> None:
        path = P.entry_path(self.universe_id, store, scope, key)

        def verify() -> bool | None:
            return True if self.get_entry(store, key, scope) is None else None

        self._call("DELETE", path, _REMOVE, safety=Safety.VERIFIED, verify=verify)

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
        for item in self._pages(path, _LIST, params, "dataStoreEntries"):
            yield self._parse("GET", path, parse.revision, item)

    # --- ordered entries ---------------------------------------------------------------------
    def list_ordered(
        self,
        store: str,
        scope: str = "global",
        *,
        descending: bool = False,
        min_value: int | None = None,
        max_value: int | None = None,
    ) -> Iterator[LiveOrderedEntry]:
        path = P.ordered_entries_path(self.universe_id, store, scope)
        params: dict[str, str | int] = {
            "maxPageSize": _ORDERED_PAGE,
            "orderBy": "value desc" if descending else "value",
        }
        clauses = []
        if min_value is not None:
            clauses.append(f"entry >= {int(min_value)}")
        if max_value is not None:
            clauses.append(f"entry <= {int(max_value)}")
        if clauses:
            params["filter"] = " && ".join(clauses)
        for item in self._pages(path, _O_LIST, params, "orderedDataStoreEntries"):
            yield self._parse("GET", path, parse.ordered_entry, item, store, scope)

    def get_ordered(self, store: str, key: str, scope: str = "global") -> LiveOrderedEntry | None:
        path = P.ordered_entry_path(self.universe_id, store, scope, key)
        body = self._call("GET", path, _O_READ, allow_404=True)
        if body is _MISSING:
            return None
        return self._parse("GET", path, parse.ordered_entry, body, store, scope, key)

    def _verify_ordered(self, store: str, key: str, scope: str, value: int) -> Callable[[], Any]:
        def verify() -> LiveOrderedEntry | None:
            live = self.get_ordered(store, key, scope)
            return live if live is not None and live.value == value else None

        return verify

    def create_ordered(
        self, store: str, key: str, value: int, scope: str = "global"
    ) -> LiveOrderedEntry:
        path = P.ordered_entries_path(self.universe_id, store, scope)
        body = self._call(
            "POST",
            path,
            _O_WRITE,
            params={"id": key},
            body={"value": value},
            safety=Safety.VERIFIED,
            verify=self._verify_ordered(store, key, scope, value),
        )
        if isinstance(body, LiveOrderedEntry):
            return body
        return self._parse("POST", path, parse.ordered_entry, body, store, scope, key)

    def update_ordered(
        self,
        store: str,
        key: str,
        value: int,
        scope: str = "global",
        *,
        allow_missing: bool = False,
    ) -> LiveOrderedEntry:
        path = P.ordered_entry_path(self.universe_id, store, scope, key)
        body = self._call(
            "PATCH",
            path,
            _O_WRITE,
            params={"allowMissing": "true"} if allow_missing else None,
            body={"value": value},
            safety=Safety.VERIFIED,
            verify=self._verify_ordered(store, key, scope, value),
        )
        if isinstance(body, LiveOrderedEntry):
            return body
        return self._parse("PATCH", path, parse.ordered_entry, body, store, scope, key)

    def increment_ordered(
        self, store: str, key: str, amount: int, scope: str = "global"
    ) -> LiveOrderedEntry:
        path = P.ordered_entry_path(self.universe_id, store, scope, key, ":increment")
        body = self._call("POST", path, _O_WRITE, body={"amount": amount}, safety=Safety.UNSAFE)
        return self._parse("POST", path, parse.ordered_entry, body, store, scope, key)

    def delete_ordered(self, store: str, key: str, scope: str = "global") -> None:
        path = P.ordered_entry_path(self.universe_id, store, scope, key)

        def verify() -> bool | None:
            return True if self.get_ordered(store, key, scope) is None else None

        self._call("DELETE", path, _O_REMOVE, safety=Safety.VERIFIED, verify=verify)

    # --- configs repositories ----------------------------------------------------------------
    def get_config(self, repository: str) -> ConfigRepository:
        path = P.configs_path(self.universe_id, repository)
        body = self._call("GET", path, _CONFIGS)
        return self._parse("GET", path, parse.config_repository, body)

    def get_config_draft(self, repository: str) -> ConfigRepository:
        path = P.configs_path(self.universe_id, repository, "/draft")
        body = self._call("GET", path, _CONFIGS)
        return self._parse("GET", path, parse.config_repository, body, draft=True)

    def overwrite_config_draft(
        self, repository: str, entries: dict[str, JSONValue]
    ) -> ConfigRepository:
        path = P.configs_path(self.universe_id, repository, "/draft:overwrite")
        body = self._call("PUT", path, _CONFIGS, body={"entries": entries})
        draft = self._parse("PUT", path, parse.draft_hash, body)
        return ConfigRepository(dict(entries), draft)

    def publish_config(self, repository: str, draft_hash: str, message: str) -> None:
        path = P.configs_path(self.universe_id, repository, "/publish")
        payload = {"draftHash": draft_hash, "message": message, "deploymentStrategy": "Immediate"}
        self._call("POST", path, _CONFIGS, body=payload, safety=Safety.UNSAFE)

    def list_config_revisions(self, repository: str) -> Iterator[ConfigRevision]:
        path = P.configs_path(self.universe_id, repository, "/revisions")
        seen: set[str] = set()
        skip = 0
        while True:
            params: dict[str, str | int] = {"MaxPageSize": _CONFIG_REVISIONS_PAGE, "Skip": skip}
            body = self._call("GET", path, _CONFIGS, params=params)
            items, _ = self._parse("GET", path, parse.page, body, "revisions")
            fresh = 0
            for item in items:
                revision = self._parse("GET", path, parse.config_revision, item)
                if revision.revision_id in seen:
                    continue
                seen.add(revision.revision_id)
                fresh += 1
                yield revision
            # A server that ignores Skip would repeat the same page: stop when nothing is new.
            if fresh == 0 or len(items) < _CONFIG_REVISIONS_PAGE:
                return
            skip += len(items)

    def restore_config_revision(self, repository: str, revision_id: str) -> str:
        suffix = f"/revisions/{P.quote_segment(revision_id)}/restore"
        path = P.configs_path(self.universe_id, repository, suffix)
        body = self._call("POST", path, _CONFIGS, body={})
        return self._parse("POST", path, parse.draft_hash, body)
