"""Ordered data stores (v2): integer entries, listed by value; no revisions, no metadata."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from dsgit.model.entry import LiveOrderedEntry
from dsgit.remote import parse
from dsgit.remote import paths as P
from dsgit.remote.budget import Operation, RequestClass
from dsgit.remote.retry import Safety
from dsgit.remote.session import MISSING, Session

__all__ = ["OrderedEntries"]

_O_READ = RequestClass(Operation.READ, ordered=True)
_O_WRITE = RequestClass(Operation.WRITE, ordered=True)
_O_LIST = RequestClass(Operation.LIST, ordered=True)
_O_REMOVE = RequestClass(Operation.REMOVE, ordered=True)
_ORDERED_PAGE = 100


class OrderedEntries:
    """The ordered data store operations of :class:`~dsgit.remote.client.OpenCloudClient`."""

    universe_id: int
    _session: Session

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
        for item in self._session.pages(path, _O_LIST, params, "orderedDataStoreEntries"):
            yield self._session.parse("GET", path, parse.ordered_entry, item, store, scope)

    def list_ordered_page(
        self,
        store: str,
        scope: str = "global",
        *,
        max_value: int | None = None,
        page_token: str | None = None,
    ) -> tuple[list[LiveOrderedEntry], str | None]:
        """One page of :meth:`list_ordered` (ascending by value, optionally ``<= max_value``)
        and the token of the next (None on the last page)."""
        path = P.ordered_entries_path(self.universe_id, store, scope)
        params: dict[str, str | int] = {"maxPageSize": _ORDERED_PAGE, "orderBy": "value"}
        if max_value is not None:
            params["filter"] = f"entry <= {int(max_value)}"
        items, token = self._session.page(
            path, _O_LIST, params, "orderedDataStoreEntries", page_token
        )
        found = [
            self._session.parse("GET", path, parse.ordered_entry, item, store, scope)
            for item in items
        ]
        return found, token

    def get_ordered(self, store: str, key: str, scope: str = "global") -> LiveOrderedEntry | None:
        path = P.ordered_entry_path(self.universe_id, store, scope, key)
        body = self._session.call("GET", path, _O_READ, allow_404=True)
        if body is MISSING:
            return None
        return self._session.parse("GET", path, parse.ordered_entry, body, store, scope, key)

    def _verify_ordered(
        self, store: str, key: str, scope: str, value: int
    ) -> Callable[[], LiveOrderedEntry | None]:
        def verify() -> LiveOrderedEntry | None:
            live = self.get_ordered(store, key, scope)
            return live if live is not None and live.value == value else None

        return verify

    def create_ordered(
        self, store: str, key: str, value: int, scope: str = "global"
    ) -> LiveOrderedEntry:
        path = P.ordered_entries_path(self.universe_id, store, scope)
        return self._session.verified_write(
            "POST",
            path,
            _O_WRITE,
            parse.ordered_entry,
            store,
            scope,
            key,
            params={"id": key},
            body={"value": value},
            verify=self._verify_ordered(store, key, scope, value),
        )

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
        return self._session.verified_write(
            "PATCH",
            path,
            _O_WRITE,
            parse.ordered_entry,
            store,
            scope,
            key,
            params={"allowMissing": "true"} if allow_missing else None,
            body={"value": value},
            verify=self._verify_ordered(store, key, scope, value),
        )

    def increment_ordered(
        self, store: str, key: str, amount: int, scope: str = "global"
    ) -> LiveOrderedEntry:
        path = P.ordered_entry_path(self.universe_id, store, scope, key, ":increment")
        body = self._session.call(
            "POST", path, _O_WRITE, body={"amount": amount}, safety=Safety.UNSAFE
        )
        return self._session.parse("POST", path, parse.ordered_entry, body, store, scope, key)

    def delete_ordered(self, store: str, key: str, scope: str = "global") -> None:
        path = P.ordered_entry_path(self.universe_id, store, scope, key)

        def verify() -> bool | None:
            return True if self.get_ordered(store, key, scope) is None else None

        self._session.call("DELETE", path, _O_REMOVE, safety=Safety.VERIFIED, verify=verify)
