"""Open Cloud v2 data stores, entries, revisions and snapshots (``/cloud/v2/universes/...``)."""

from __future__ import annotations

import json
from typing import Any

from dsgit.emulator.api_error import aborted, invalid, not_found
from dsgit.emulator.call import Call
from dsgit.emulator.clock import TICKS_PER_SECOND, format_millis, format_time, parse_time
from dsgit.emulator.limits import (
    check_key,
    check_scope,
    check_store_name,
    encode_attributes,
    encode_value,
    users_from_paths,
)
from dsgit.emulator.numbers import increment_value
from dsgit.emulator.query import (
    decode_token,
    encode_token,
    flag,
    id_prefix,
    page_size,
    revision_window,
)
from dsgit.emulator.standard import Entry, NewRevision, Revision, StoreInfo
from dsgit.emulator.wire import JSON_TYPE, Response, json_response

__all__ = [
    "create_entry",
    "delete_data_store",
    "delete_entry",
    "entry_body",
    "get_entry",
    "increment_entry",
    "list_data_stores",
    "list_entries",
    "list_revisions",
    "snapshot",
    "undelete_data_store",
    "update_entry",
]

DEFAULT_SCOPE = "global"
_FUTURE_SLACK = 600 * TICKS_PER_SECOND  # @latest:<time> may be at most 10 minutes ahead


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _store_path(universe: int, store: str) -> str:
    return f"universes/{universe}/data-stores/{store}"


def _entry_path(universe: int, store: str, scope: str | None, ident: str) -> str:
    middle = "" if scope is None else f"/scopes/{scope}"
    return f"{_store_path(universe, store)}{middle}/entries/{ident}"


def _users(revision: Revision) -> str:
    return json.dumps([f"users/{user}" for user in revision.users])


def entry_body(path: str, ident: str, entry: Entry) -> bytes:
    """Every field of an entry, as a GET, create, update or increment answers it."""
    rev = entry.revision
    deleted = rev.value is None
    parts = [
        '{"path":',
        _dumps(path),
        ',"createTime":"',
        format_time(entry.create_time),
        '","revisionId":"',
        rev.revision_id,
        '","revisionCreateTime":"',
        format_time(rev.time),
        '","state":"',
        entry.state,
        '","etag":"',
        rev.revision_id,
        '","value":',
        "null" if deleted else str(rev.value),
        ',"id":',
        _dumps(ident),
        ',"users":',
        "[]" if deleted else _users(rev),
        ',"attributes":',
        "{}" if deleted else rev.attributes,
        "}",
    ]
    return "".join(parts).encode()


def _entry_response(call: Call, entry: Entry, ident: str | None = None) -> Response:
    path = _entry_path(call.universe, entry.store, call.params.get("scope"), ident or entry.key)
    body = entry_body(path, ident or entry.key, entry)
    return Response(200, body, (("content-type", JSON_TYPE),))


def _names(call: Call) -> tuple[str, str, str]:
    store = check_store_name(call.param("ds"))
    scope = check_scope(call.params.get("scope") or DEFAULT_SCOPE)
    if scope == "-":
        raise invalid("the wildcard scope '-' is only valid when listing entries")
    return store, scope, call.param("entry")


# --- data stores -----------------------------------------------------------------------------
def _store_json(universe: int, info: StoreInfo) -> dict[str, Any]:
    """A data store, listed or answered alike: clients such as rblx-open-cloud read
    ``state`` (and ``createTime``) from every listed store."""
    body: dict[str, Any] = {
        "path": _store_path(universe, info.name),
        "createTime": format_time(info.create_time),
        "state": "DELETED" if info.deleted else "ACTIVE",
    }
    if info.expire_time is not None:
        body["expireTime"] = format_time(info.expire_time)
    body["id"] = info.name
    return body


def list_data_stores(call: Call) -> Response:
    prefix = id_prefix(call.query.get("filter"))
    show_deleted = flag(dict(call.query), "showDeleted")
    size = page_size(call.query.get("maxPageSize"), 10, 100)
    fingerprint = (call.universe, prefix, show_deleted)
    cursor = decode_token(call.query.get("pageToken"), fingerprint, (str,))
    stores = call.state.standard.list_stores(
        call.universe,
        call.now,
        prefix=prefix,
        show_deleted=show_deleted,
        after=str(cursor[0]) if cursor else None,
        limit=size + 1,
    )
    body: dict[str, Any] = {
        "dataStores": [_store_json(call.universe, info) for info in stores[:size]]
    }
    if len(stores) > size:
        body["nextPageToken"] = encode_token([stores[size - 1].name], fingerprint)
    return json_response(200, body)


def delete_data_store(call: Call) -> Response:
    store = check_store_name(call.param("ds"))
    info = call.state.standard.set_store_deleted(call.universe, store, call.now, deleted=True)
    return json_response(200, _store_json(call.universe, info))


def undelete_data_store(call: Call) -> Response:
    store = check_store_name(call.param("ds"))
    call.body_object(empty_ok=True)
    info = call.state.standard.set_store_deleted(call.universe, store, call.now, deleted=False)
    return json_response(200, _store_json(call.universe, info))


def snapshot(call: Call) -> Response:
    call.body_object(empty_ok=True)
    taken, moment = call.state.standard.snapshot(call.universe, call.now)
    return json_response(
        200, {"newSnapshotTaken": taken, "latestSnapshotTime": format_millis(moment)}
    )


# --- entries ---------------------------------------------------------------------------------
def list_entries(call: Call) -> Response:
    store = check_store_name(call.param("ds"))
    scope_param = call.params.get("scope")
    scope = check_scope(scope_param or DEFAULT_SCOPE)
    prefix = id_prefix(call.query.get("filter"))
    show_deleted = flag(dict(call.query), "showDeleted")
    size = page_size(call.query.get("maxPageSize"), 10, 256)
    fingerprint = (call.universe, store, scope_param, prefix, show_deleted)
    cursor = decode_token(call.query.get("pageToken"), fingerprint, (str, str))
    keys = call.state.standard.list_keys(
        call.universe,
        store,
        None if scope == "-" else scope,
        call.now,
        prefix=prefix,
        show_deleted=show_deleted,
        after=(str(cursor[0]), str(cursor[1])) if cursor else None,
        limit=size + 1,
    )
    items = []
    for item_scope, key, _deleted in keys[:size]:
        path_scope = item_scope if scope == "-" else scope_param
        items.append({"path": _entry_path(call.universe, store, path_scope, key), "id": key})
    body: dict[str, Any] = {"dataStoreEntries": items}
    if len(keys) > size:
        last_scope, last_key, _ = keys[size - 1]
        body["nextPageToken"] = encode_token([last_scope, last_key], fingerprint)
    return json_response(200, body)


def get_entry(call: Call) -> Response:
    store, scope, ident = _names(call)
    standard = call.state.standard
    key, at, selector = ident.rpartition("@")
    if not at:
        entry = standard.get(call.universe, store, scope, check_key(ident), call.now)
    elif selector == "latest":
        entry = standard.get(call.universe, store, scope, check_key(key), call.now)
    elif selector.startswith("latest:"):
        try:
            moment = parse_time(selector[len("latest:") :])
        except ValueError:
            raise invalid(f"{selector[7:]!r} is not an RFC 3339 timestamp") from None
        if moment <= 0 or moment > call.now + _FUTURE_SLACK:
            raise invalid("the time must be after 1970 and at most ten minutes in the future")
        entry = standard.get_at(call.universe, store, scope, check_key(key), moment, call.now)
    else:
        entry = standard.get_revision(
            call.universe, store, scope, check_key(key), selector, call.now
        )
        if entry is None:
            raise not_found(f"revision {selector!r} of entry {key!r} not found")
    if entry is None:
        raise not_found(f"entry {key if at else ident!r} not found")
    if at and selector != "latest":
        return _entry_response(call, entry, f"{entry.key}@{entry.revision.revision_id}")
    return _entry_response(call, entry)


def _write_fields(body: dict[str, Any]) -> tuple[str, tuple[int, ...], str]:
    if "value" not in body:
        raise invalid("value is required")
    return (
        encode_value(body["value"]),
        users_from_paths(body.get("users")),
        encode_attributes(body.get("attributes")),
    )


def create_entry(call: Call) -> Response:
    store = check_store_name(call.param("ds"))
    scope = check_scope(call.params.get("scope") or DEFAULT_SCOPE)
    if scope == "-":
        raise invalid("the wildcard scope '-' is only valid when listing entries")
    body = call.body_object()
    key = check_key(call.query.get("id") or call.body_id(body))
    value, users, attributes = _write_fields(body)

    def decide(current: Entry | None) -> NewRevision:
        if current is not None and current.active:
            raise invalid(f"entry {key!r} already exists")
        return NewRevision(value, users, attributes)

    entry = call.state.standard.mutate(call.universe, store, scope, key, call.now, decide)
    return _entry_response(call, entry)


def update_entry(call: Call) -> Response:
    store, scope, key = _names(call)
    check_key(key)
    body = call.body_object()
    value, users, attributes = _write_fields(body)
    etag = body.get("etag") or None
    if etag is not None and not isinstance(etag, str):
        raise invalid("etag must be a string")
    allow_missing = flag(dict(call.query), "allowMissing")

    def decide(current: Entry | None) -> NewRevision:
        if current is None or not current.active:
            if not allow_missing:
                raise not_found(f"entry {key!r} not found")
            if etag is not None:
                raise aborted(f"etag {etag!r} does not match: entry {key!r} does not exist")
        elif etag is not None and etag != current.revision.revision_id:
            raise aborted(f"etag {etag!r} does not match the current revision of {key!r}")
        return NewRevision(value, users, attributes)

    entry = call.state.standard.mutate(call.universe, store, scope, key, call.now, decide)
    return _entry_response(call, entry)


def delete_entry(call: Call) -> Response:
    store, scope, key = _names(call)
    check_key(key)

    def decide(current: Entry | None) -> NewRevision:
        if current is None or not current.active:
            raise not_found(f"entry {key!r} not found")
        return NewRevision(None)

    call.state.standard.mutate(call.universe, store, scope, key, call.now, decide)
    return json_response(200, {})


def increment_entry(call: Call) -> Response:
    store, scope, key = _names(call)
    check_key(key)
    body = call.body_object()
    if "amount" not in body:
        raise invalid("amount is required")
    users = users_from_paths(body.get("users"))
    attributes = encode_attributes(body.get("attributes"))

    def decide(current: Entry | None) -> NewRevision:
        existing = None
        if current is not None and current.active:
            existing = json.loads(current.revision.value or "null")
        total = increment_value(existing, body["amount"])
        return NewRevision(str(total), users, attributes)

    entry = call.state.standard.mutate(call.universe, store, scope, key, call.now, decide)
    return _entry_response(call, entry)


def list_revisions(call: Call) -> Response:
    store, scope, key = _names(call)
    check_key(key)
    start, end = revision_window(call.query.get("filter"))
    size = page_size(call.query.get("maxPageSize"), 10, 100)
    fingerprint = (call.universe, store, scope, key, start, end)
    cursor = decode_token(call.query.get("pageToken"), fingerprint, (int,))
    latest, revisions = call.state.standard.list_revisions(
        call.universe,
        store,
        scope,
        key,
        call.now,
        start=start,
        end=end,
        after_seq=int(cursor[0]) if cursor else None,
        limit=size + 1,
    )
    if latest is None:
        raise not_found(f"entry {key!r} not found")
    items = []
    for revision in revisions[:size]:
        ident = f"{key}@{revision.revision_id}"
        items.append(
            {
                "path": _entry_path(call.universe, store, call.params.get("scope"), ident),
                "createTime": format_time(latest.create_time),
                "revisionId": revision.revision_id,
                "revisionCreateTime": format_time(revision.time),
                "state": "DELETED" if revision.deleted else "ACTIVE",
                "etag": revision.revision_id,
                "id": ident,
            }
        )
    body: dict[str, Any] = {"dataStoreEntries": items}
    if len(revisions) > size:
        body["nextPageToken"] = encode_token([revisions[size - 1].seq], fingerprint)
    return json_response(200, body)
