"""Legacy v1 standard data stores (``/datastores/v1/universes/{u}/standard-datastores/...``).

Same state as v2: a v1 write is visible through v2 and its ``version`` is the v2 revision id.
Entry metadata travels in ``roblox-entry-*`` headers; every answer with a body carries its
``content-md5``. Preconditions (``matchVersion``, ``exclusiveCreate``) fail with 412, whose body
is the current value with its headers, as Roblox answers.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from dsgit.emulator import json_text
from dsgit.emulator.api_error import invalid, not_found
from dsgit.emulator.call import UTF8_BOM, Call
from dsgit.emulator.clock import format_time, parse_time
from dsgit.emulator.limits import (
    check_key,
    check_scope,
    check_store_name,
    encode_attributes,
    encode_value,
    users_from_header,
)
from dsgit.emulator.numbers import increment_value
from dsgit.emulator.query import decode_token, encode_token, flag, page_size
from dsgit.emulator.standard import Entry, NewRevision
from dsgit.emulator.wire import JSON_TYPE, Response

__all__ = [
    "delete_entry",
    "get_entry",
    "get_version",
    "increment_entry",
    "list_data_stores",
    "list_entries",
    "list_versions",
    "set_entry",
]


def content_md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def _json(status: int, payload: Any) -> Response:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(status, body, (("content-type", JSON_TYPE), ("content-md5", content_md5(body))))


def _value_response(status: int, entry: Entry) -> Response:
    rev = entry.revision
    body = (rev.value or "null").encode()
    attributes = json.dumps(json.loads(rev.attributes), ensure_ascii=True)
    headers = (
        ("content-type", JSON_TYPE),
        ("content-md5", content_md5(body)),
        ("roblox-entry-version", rev.revision_id),
        ("roblox-entry-created-time", _offset(entry.create_time)),
        ("roblox-entry-version-created-time", _offset(rev.time)),
        ("roblox-entry-attributes", attributes),
        ("roblox-entry-userids", json.dumps(list(rev.users))),
    )
    return Response(status, body, headers)


def _offset(ticks: int) -> str:
    return format_time(ticks)[:-1] + "+00:00"


def _names(call: Call, *, key: bool = True) -> tuple[str, str, str]:
    store = check_store_name(call.query.get("datastoreName") or "")
    scope = check_scope(call.query.get("scope") or "global")
    entry_key = check_key(call.query.get("entryKey") or "") if key else ""
    return store, scope, entry_key


def _limit(call: Call, default: int) -> int:
    return page_size(call.query.get("limit"), default, 10_000, "limit")


def list_data_stores(call: Call) -> Response:
    prefix = call.query.get("prefix") or None
    size = _limit(call, 1)
    fingerprint = (call.universe, prefix)
    cursor = decode_token(call.query.get("cursor"), fingerprint, (str,))
    stores = call.state.standard.list_stores(
        call.universe,
        call.now,
        prefix=prefix,
        show_deleted=False,
        after=str(cursor[0]) if cursor else None,
        limit=size + 1,
    )
    items = [{"name": s.name, "createdTime": format_time(s.create_time)} for s in stores[:size]]
    more = len(stores) > size
    token = encode_token([stores[size - 1].name], fingerprint) if more else ""
    # Roblox answers "datastores"; the OpenAPI description names the list "data": both are given.
    return _json(200, {"datastores": items, "data": items, "nextPageCursor": token})


def list_entries(call: Call) -> Response:
    store = check_store_name(call.query.get("datastoreName") or "")
    all_scopes = flag(dict(call.query), "allScopes")
    scope = None if all_scopes else check_scope(call.query.get("scope") or "global")
    prefix = call.query.get("prefix") or None
    size = _limit(call, 16)
    fingerprint = (call.universe, store, scope, prefix)
    cursor = decode_token(call.query.get("cursor"), fingerprint, (str, str))
    keys = call.state.standard.list_keys(
        call.universe,
        store,
        scope,
        call.now,
        prefix=prefix,
        show_deleted=True,
        after=(str(cursor[0]), str(cursor[1])) if cursor else None,
        limit=size + 1,
        prefix_on_scope=all_scopes,
    )
    items = [{"scope": s, "key": k} for s, k, _ in keys[:size]]
    more = len(keys) > size
    token = encode_token(list(keys[size - 1][:2]), fingerprint) if more else ""
    return _json(200, {"keys": items, "nextPageCursor": token})


def get_entry(call: Call) -> Response:
    store, scope, key = _names(call)
    entry = call.state.standard.get(call.universe, store, scope, key, call.now)
    if entry is None:
        raise not_found(f"entry {key!r} not found", "EntryNotFound")
    if not entry.active:
        return Response(204)
    return _value_response(200, entry)


def _version_json(entry: Entry) -> dict[str, Any]:
    rev = entry.revision
    return {
        "version": rev.revision_id,
        "deleted": rev.deleted,
        "contentLength": len((rev.value or "").encode()),
        "createdTime": format_time(rev.time),
        "objectCreatedTime": format_time(entry.create_time),
    }


def _metadata(call: Call) -> tuple[tuple[int, ...], str]:
    users = users_from_header(call.request.header("roblox-entry-userids"))
    raw = call.request.header("roblox-entry-attributes")
    if raw is None or not raw.strip():
        return users, "{}"
    try:
        attributes = json_text.loads(raw)
    except ValueError:
        raise invalid("roblox-entry-attributes is not a JSON object", "InvalidAttributes") from None
    return users, encode_attributes(attributes)


class _Precondition(Exception):
    def __init__(self, current: Entry | None, message: str) -> None:
        super().__init__(message)
        self.current = current
        self.message = message


def _check_write_scopes(call: Call, store: str, exists: bool) -> None:
    if not call.state.standard.store_exists(call.universe, store, call.now):
        call.require_scope("universe-datastores.control:create")
    call.require_scope(
        "universe-datastores.objects:update" if exists else "universe-datastores.objects:create"
    )


def set_entry(call: Call) -> Response:
    store, scope, key = _names(call)
    raw = call.request.body
    given_md5 = call.request.header("content-md5")
    if given_md5 and given_md5.strip() != content_md5(raw):
        raise invalid("content-md5 does not match the body", "ChecksumMismatch")
    try:
        value = encode_value(json_text.loads(raw.removeprefix(UTF8_BOM)))
    except ValueError:
        raise invalid("the body is not valid JSON", "ContentNotJson") from None
    users, attributes = _metadata(call)
    match_version = call.query.get("matchVersion") or None
    exclusive = flag(dict(call.query), "exclusiveCreate")
    if exclusive and match_version:
        raise invalid(
            "exclusiveCreate and matchVersion cannot both be set",
            "ExclusiveCreateAndMatchVersionCannotBeSet",
        )

    def decide(current: Entry | None) -> NewRevision:
        exists = current is not None and current.active
        _check_write_scopes(call, store, exists)
        if exclusive and exists:
            raise _Precondition(current, f"entry {key!r} already exists")
        if match_version and (
            not exists or current is None or current.revision.revision_id != match_version
        ):
            raise _Precondition(current, f"version {match_version!r} is not the latest")
        return NewRevision(value, users, attributes)

    try:
        entry = call.state.standard.mutate(call.universe, store, scope, key, call.now, decide)
    except _Precondition as failed:
        if failed.current is not None and failed.current.active:
            return _value_response(412, failed.current)
        return _json(
            412,
            {
                "error": "FAILED_PRECONDITION",
                "message": failed.message,
                "errorDetails": [
                    {"errorDetailType": "DatastoreErrorInfo", "datastoreErrorCode": "KeyNotFound"}
                ],
            },
        )
    return _json(200, _version_json(entry))


def increment_entry(call: Call) -> Response:
    store, scope, key = _names(call)
    raw_amount = call.query.get("incrementBy") or "1"
    try:
        amount = int(raw_amount)
    except ValueError:
        raise invalid(f"incrementBy {raw_amount!r} is not an integer", "InvalidIncrement") from None
    users, attributes = _metadata(call)

    def decide(current: Entry | None) -> NewRevision:
        exists = current is not None and current.active
        _check_write_scopes(call, store, exists)
        existing = json.loads(current.revision.value or "null") if current and exists else None
        return NewRevision(str(increment_value(existing, amount)), users, attributes)

    entry = call.state.standard.mutate(call.universe, store, scope, key, call.now, decide)
    return _value_response(200, entry)


def delete_entry(call: Call) -> Response:
    store, scope, key = _names(call)

    def decide(current: Entry | None) -> NewRevision:
        if current is None or not current.active:
            raise not_found(f"entry {key!r} not found", "EntryNotFound")
        return NewRevision(None)

    call.state.standard.mutate(call.universe, store, scope, key, call.now, decide)
    return Response(204)


def _time_param(call: Call, name: str, detail: str) -> int | None:
    raw = call.query.get(name)
    if not raw:
        return None
    try:
        return parse_time(raw)
    except ValueError:
        raise invalid(f"{name} {raw!r} is not an RFC 3339 time", detail) from None


def list_versions(call: Call) -> Response:
    store, scope, key = _names(call)
    start = _time_param(call, "startTime", "InvalidStartTime")
    end = _time_param(call, "endTime", "InvalidEndTime")
    order = (call.query.get("sortOrder") or "Ascending").lower()
    if order not in ("ascending", "descending"):
        raise invalid("sortOrder must be Ascending or Descending", "InvalidSortOrder")
    size = _limit(call, 16)
    fingerprint = (call.universe, store, scope, key, start, end, order)
    cursor = decode_token(call.query.get("cursor"), fingerprint, (int,))
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
        descending=order == "descending",
    )
    if latest is None:
        raise not_found(f"entry {key!r} not found", "EntryNotFound")
    items = [
        _version_json(Entry(store, scope, key, latest.create_time, rev, latest.latest_seq))
        for rev in revisions[:size]
    ]
    token = encode_token([revisions[size - 1].seq], fingerprint) if len(revisions) > size else ""
    return _json(200, {"versions": items, "nextPageCursor": token})


def get_version(call: Call) -> Response:
    store, scope, key = _names(call)
    version = call.query.get("versionId") or ""
    if not version:
        raise invalid("versionId is required", "InvalidVersionId")
    entry = call.state.standard.get_revision(call.universe, store, scope, key, version, call.now)
    if entry is None:
        raise not_found(f"version {version!r} of entry {key!r} not found", "VersionNotFound")
    if not entry.active:
        return Response(204)
    return _value_response(200, entry)
