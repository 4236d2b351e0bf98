"""Ordered data store entries, v2 (``/cloud/v2/.../ordered-data-stores``) and v1
(``/ordered-data-stores/v1/.../orderedDataStores``): one implementation, two dialects.

v1 names its query parameters in snake_case (``max_page_size``, ``page_token``, ``order_by``,
``allow_missing``); :mod:`params` maps every spelling to the camelCase one read here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dsgit.emulator.api_error import invalid, not_found
from dsgit.emulator.call import Call, Handler
from dsgit.emulator.limits import MAX_ORDERED_KEY_CHARS, check_key, check_scope, ordered_value
from dsgit.emulator.limits import check_store_name as check_name
from dsgit.emulator.numbers import from_text, increment_value
from dsgit.emulator.query import (
    decode_token,
    encode_token,
    flag,
    order_descending,
    page_size,
    value_range,
)
from dsgit.emulator.wire import Response, json_response

__all__ = ["V1", "V2", "Dialect"]


def _first(call: Call, *names: str) -> str | None:
    for name in names:
        value = call.query.get(name)
        if value is not None and value != "":
            return value
    return None


class Dialect:
    """The handlers of one API version; ``collection`` is the path segment of the stores."""

    def __init__(self, collection: str, list_field: str, *, delete_missing_ok: bool) -> None:
        self.collection = collection
        self.list_field = list_field
        self.delete_missing_ok = delete_missing_ok

    def _path(self, call: Call, store: str, scope: str, key: str) -> str:
        return f"universes/{call.universe}/{self.collection}/{store}/scopes/{scope}/entries/{key}"

    def _entry(self, call: Call, store: str, scope: str, key: str, value: int) -> dict[str, Any]:
        return {"path": self._path(call, store, scope, key), "value": value, "id": key}

    @staticmethod
    def _names(call: Call, key: str | None = None) -> tuple[str, str, str]:
        store = check_name(call.param("ds"))
        scope = check_scope(call.param("scope"))
        ident = key if key is not None else call.param("entry")
        return store, scope, check_key(ident, MAX_ORDERED_KEY_CHARS)

    def list(self, call: Call) -> Response:
        store = check_name(call.param("ds"))
        scope = check_scope(call.param("scope"))
        descending = order_descending(_first(call, "orderBy"))
        low, high = value_range(_first(call, "filter"))
        size = page_size(_first(call, "maxPageSize"), 10, 100)
        fingerprint = (call.universe, store, scope, descending, low, high)
        cursor = decode_token(_first(call, "pageToken"), fingerprint, (int, str))
        rows = call.state.ordered.list(
            call.universe,
            store,
            scope,
            descending=descending,
            low=low,
            high=high,
            after=(int(cursor[0]), str(cursor[1])) if cursor else None,
            limit=size + 1,
        )
        body: dict[str, Any] = {
            self.list_field: [self._entry(call, store, scope, k, v) for k, v in rows[:size]]
        }
        if len(rows) > size:
            key, value = rows[size - 1]
            body["nextPageToken"] = encode_token([value, key], fingerprint)
        return json_response(200, body)

    def get(self, call: Call) -> Response:
        store, scope, key = self._names(call)
        value = call.state.ordered.get(call.universe, store, scope, key)
        if value is None:
            raise not_found(f"entry {key!r} not found")
        return json_response(200, self._entry(call, store, scope, key, value))

    def _write(self, call: Call, key: str | None, decide: Callable[[int | None], int]) -> Response:
        store, scope, ident = self._names(call, key)
        value = call.state.ordered.mutate(call.universe, store, scope, ident, decide)
        return json_response(200, self._entry(call, store, scope, ident, value))

    def create(self, call: Call) -> Response:
        body = call.body_object()
        key = _first(call, "id") or call.body_id(body)
        if "value" not in body:
            raise invalid("value is required")
        value = ordered_value(from_text(body["value"]))

        def decide(current: int | None) -> int:
            if current is not None:
                # Roblox's exact words: rblx-open-cloud compares the message to detect this case.
                raise invalid("Entry already exists.")
            return value

        return self._write(call, key, decide)

    def update(self, call: Call) -> Response:
        body = call.body_object()
        if "value" not in body:
            raise invalid("value is required")
        value = ordered_value(from_text(body["value"]))
        allow_missing = flag(dict(call.query), "allowMissing")

        def decide(current: int | None) -> int:
            if current is None and not allow_missing:
                raise not_found(f"entry {call.param('entry')!r} not found")
            return value

        return self._write(call, None, decide)

    def increment(self, call: Call) -> Response:
        body = call.body_object()
        if "amount" not in body:
            raise invalid("amount is required")
        amount = body["amount"]
        return self._write(call, None, lambda current: increment_value(current, amount))

    def delete(self, call: Call) -> Response:
        store, scope, key = self._names(call)
        call.state.ordered.delete(
            call.universe, store, scope, key, missing_ok=self.delete_missing_ok
        )
        return json_response(200, {})

    def handlers(self) -> dict[str, Handler]:
        return {
            "list": self.list,
            "create": self.create,
            "get": self.get,
            "update": self.update,
            "increment": self.increment,
            "delete": self.delete,
        }


V2 = Dialect("ordered-data-stores", "orderedDataStoreEntries", delete_missing_ok=False)
# v1: "Success: the entry was successfully deleted or didn't exist."
V1 = Dialect("orderedDataStores", "entries", delete_missing_ok=True)
