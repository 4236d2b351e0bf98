"""A small in-memory stand-in for the part of ``OpenCloudApi`` import uses."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from dsgit.model.entry import EntryData, LiveEntry, LiveOrderedEntry
from dsgit.remote.api import DataStoreInfo, EntryKey


class FakeApi:
    def __init__(self, universe_id: int = 1) -> None:
        self.universe_id = universe_id
        self.standard: dict[tuple[str, str, str], LiveEntry] = {}
        self.ordered: dict[tuple[str, str, str], int] = {}
        self.revision = 0

    # writes -----------------------------------------------------------------------------------
    def update_entry(
        self, store: str, key: str, data: EntryData, scope: str = "global", **_: object
    ) -> LiveEntry:
        self.revision += 1
        entry = LiveEntry(
            store, scope, key, data.value, dict(data.attributes), tuple(data.users),
            f"etag{self.revision}", f"rev{self.revision}", "2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00Z",
        )
        self.standard[(store, scope, key)] = entry
        return entry

    create_entry = update_entry

    def update_ordered(
        self, store: str, key: str, value: int, scope: str = "global", **_: object
    ) -> LiveOrderedEntry:
        self.ordered[(store, scope, key)] = value
        return LiveOrderedEntry(store, scope, key, value)

    create_ordered = update_ordered

    # reads ------------------------------------------------------------------------------------
    def list_data_stores(
        self, *, prefix: str | None = None, show_deleted: bool = False
    ) -> Iterator[DataStoreInfo]:
        for name in sorted({store for store, _scope, _key in self.standard}):
            yield DataStoreInfo(name)

    def list_keys(
        self,
        store: str,
        scope: str = "global",
        *,
        prefix: str | None = None,
        show_deleted: bool = False,
    ) -> Iterator[EntryKey]:
        for s, sc, key in sorted(self.standard):
            if s == store and scope in ("-", sc) and key.startswith(prefix or ""):
                yield EntryKey(sc, key)

    def get_entry(self, store: str, key: str, scope: str = "global") -> LiveEntry | None:
        return self.standard.get((store, scope, key))

    def get_entries(
        self, requests: Iterable[tuple[str, str, str]]
    ) -> Iterator[tuple[tuple[str, str, str], LiveEntry | None]]:
        for store, scope, key in reversed(list(requests)):  # completion order is any order
            yield (store, scope, key), self.get_entry(store, key, scope)

    def list_ordered(self, store: str, scope: str = "global", **_: object) -> Iterator[LiveOrderedEntry]:
        rows = [
            LiveOrderedEntry(s, sc, key, value)
            for (s, sc, key), value in self.ordered.items()
            if (s, sc) == (store, scope)
        ]
        yield from sorted(rows, key=lambda row: row.value)
