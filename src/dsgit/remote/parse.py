"""Open Cloud response bodies to dsgit's typed values.

Every function takes the decoded JSON and the names the request already knows (store, scope,
key), and raises :class:`BodyError` on a body that does not have the shape the OpenAPI
description gives; the client turns that into ``MalformedResponse`` naming the request.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

from dsgit.model.entry import LiveEntry, LiveOrderedEntry
from dsgit.remote.api import (
    DataStoreInfo,
    EntryKey,
    RevisionInfo,
    SnapshotResult,
)

__all__ = [
    "BodyError",
    "data_store",
    "entry_key",
    "live_entry",
    "ordered_entry",
    "revision",
    "snapshot",
    "user_id",
]


class BodyError(ValueError):
    """A response body without the fields or types the API describes."""


def _object(body: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise BodyError(f"expected a JSON object for {what}, got {type(body).__name__}")
    return body


def _str(body: Mapping[str, Any], field: str, *, required: bool = True) -> str | None:
    value = body.get(field)
    if value is None:
        if required:
            raise BodyError(f"missing field {field!r}")
        return None
    if not isinstance(value, str):
        raise BodyError(f"field {field!r} is {type(value).__name__}, not a string")
    return value


def _req_str(body: Mapping[str, Any], field: str) -> str:
    value = _str(body, field)
    assert value is not None
    return value


def page(body: Any, field: str) -> tuple[list[Any], str | None]:
    """The items under ``field`` and the next page token (None on the last page)."""
    data = _object(body, "a page")
    items = data.get(field, [])
    if items is None:
        items = []
    if not isinstance(items, list):
        raise BodyError(f"field {field!r} is {type(items).__name__}, not a list")
    token = data.get("nextPageToken") or data.get("nextPageCursor") or None
    if token is not None and not isinstance(token, str):
        raise BodyError("field 'nextPageToken' is not a string")
    return items, token


def user_id(text: Any) -> int:
    """``"users/123"`` (or a bare ``"123"``) to ``123``."""
    if isinstance(text, bool):
        raise BodyError(f"user {text!r} is not users/<id>")
    if isinstance(text, int):
        return text
    if not isinstance(text, str):
        raise BodyError(f"user {text!r} is not users/<id>")
    digits = text.removeprefix("users/")
    if not digits.isascii() or not digits.isdigit():
        raise BodyError(f"user {text!r} is not users/<id>")
    return int(digits)


def live_entry(body: Any, store: str, scope: str, key: str) -> LiveEntry:
    data = _object(body, "an entry")
    if "value" not in data:
        raise BodyError("missing field 'value'")
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise BodyError("field 'attributes' is not an object")
    users_raw = data.get("users") or []
    if not isinstance(users_raw, list):
        raise BodyError("field 'users' is not a list")
    revision_id = _req_str(data, "revisionId")
    etag = _str(data, "etag", required=False) or revision_id
    return LiveEntry(
        store=store,
        scope=scope,
        key=key,
        value=data["value"],
        attributes=attributes,
        users=tuple(user_id(user) for user in users_raw),
        etag=etag,
        revision_id=revision_id,
        revision_create_time=_req_str(data, "revisionCreateTime"),
        create_time=_str(data, "createTime", required=False) or "",
        state=_str(data, "state", required=False) or "ACTIVE",
    )


def _scope_from_path(path: str, store: str, key: str) -> str | None:
    """The scope in ``…/data-stores/<store>/scopes/<scope>/entries/<key>``.

    Names may hold ``/`` (even ``/entries/``), so the known key is cut from the end and the
    known store from the start; the path may carry the names raw or percent-encoded.
    """
    for quoted in (False, True):
        name = quote(store, safe="") if quoted else store
        ident = quote(key, safe="") if quoted else key
        suffix = f"/entries/{ident}"
        marker = f"data-stores/{name}/scopes/"
        if not path.endswith(suffix):
            continue
        head = path[: -len(suffix)]
        index = head.find(marker)
        if index >= 0 and (index == 0 or head[index - 1] == "/"):
            scope = head[index + len(marker) :]
            return unquote(scope) if quoted else scope
    return None


def entry_key(body: Any, store: str, scope: str) -> EntryKey:
    """One item of a key listing; with ``scope="-"`` the scope comes from the item's path."""
    data = _object(body, "a listed entry")
    key = _req_str(data, "id")
    deleted = data.get("state") == "DELETED"
    if scope != "-":
        return EntryKey(scope=scope, key=key, deleted=deleted)
    path = _req_str(data, "path")
    found = _scope_from_path(path, store, key)
    if found is None:
        raise BodyError(f"cannot find the scope of {key!r} in path {path!r}")
    return EntryKey(scope=found, key=key, deleted=deleted)


def revision(body: Any) -> RevisionInfo:
    data = _object(body, "a revision")
    revision_id = _str(data, "revisionId", required=False)
    if revision_id is None:
        ident = _req_str(data, "id")
        if "@" not in ident:
            raise BodyError(f"revision id {ident!r} has no @<revision> suffix")
        revision_id = ident.rpartition("@")[2]
    return RevisionInfo(
        revision_id=revision_id,
        revision_create_time=_req_str(data, "revisionCreateTime"),
        etag=_str(data, "etag", required=False),
        state=_str(data, "state", required=False) or "ACTIVE",
    )


def _integer(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BodyError(f"field {field!r} is not a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BodyError(f"field {field!r} is not finite")
        return round(value)
    return value


def ordered_entry(body: Any, store: str, scope: str, key: str | None = None) -> LiveOrderedEntry:
    data = _object(body, "an ordered entry")
    ident = key if key is not None else _req_str(data, "id")
    if "value" not in data:
        raise BodyError("missing field 'value'")
    return LiveOrderedEntry(store, scope, ident, _integer(data["value"], "value"))


def data_store(body: Any) -> DataStoreInfo:
    data = _object(body, "a data store")
    ident = _str(data, "id", required=False)
    if ident is None:
        path = _req_str(data, "path")
        ident = path.split("/data-stores/", 1)[-1]
    return DataStoreInfo(
        id=ident,
        create_time=_str(data, "createTime", required=False),
        state=_str(data, "state", required=False),
        expire_time=_str(data, "expireTime", required=False),
    )


def snapshot(body: Any) -> SnapshotResult:
    data = _object(body, "a snapshot result")
    taken = data.get("newSnapshotTaken", False)
    if not isinstance(taken, bool):
        raise BodyError("field 'newSnapshotTaken' is not a boolean")
    return SnapshotResult(taken, _str(data, "latestSnapshotTime", required=False) or "")
