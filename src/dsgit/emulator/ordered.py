"""Ordered data stores: integer values per key, no revisions, no metadata, hard deletes."""

from __future__ import annotations

from collections.abc import Callable

from dsgit.emulator.api_error import not_found
from dsgit.emulator.database import Database

__all__ = ["OrderedState"]


class OrderedState:
    """Operations on ordered data stores, each atomic under the database lock."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, universe: int, store: str, scope: str, key: str) -> int | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT value FROM ordered WHERE universe=? AND store=? AND scope=? AND key=?",
                (universe, store, scope, key),
            ).fetchone()
        return None if row is None else int(row[0])

    def mutate(
        self, universe: int, store: str, scope: str, key: str, decide: Callable[[int | None], int]
    ) -> int:
        """Read the value, let ``decide`` check it and return the new one, store it."""
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT value FROM ordered WHERE universe=? AND store=? AND scope=? AND key=?",
                (universe, store, scope, key),
            ).fetchone()
            value = decide(None if row is None else int(row[0]))
            conn.execute(
                "INSERT INTO ordered (universe, store, scope, key, value) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (universe, store, scope, key) DO UPDATE SET value=excluded.value",
                (universe, store, scope, key, value),
            )
        return value

    def delete(self, universe: int, store: str, scope: str, key: str, *, missing_ok: bool) -> None:
        with self._db.write() as conn:
            cursor = conn.execute(
                "DELETE FROM ordered WHERE universe=? AND store=? AND scope=? AND key=?",
                (universe, store, scope, key),
            )
            if cursor.rowcount == 0 and not missing_ok:
                raise not_found(f"entry {key!r} not found")

    def list(
        self,
        universe: int,
        store: str,
        scope: str,
        *,
        descending: bool,
        low: int | None,
        high: int | None,
        after: tuple[int, str] | None,
        limit: int,
    ) -> list[tuple[str, int]]:
        """``(key, value)`` by value (ties by key), within ``[low, high]``, after the cursor."""
        order = "DESC" if descending else "ASC"
        compare = "<" if descending else ">"
        after_value, after_key = after if after is not None else (None, None)
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT key, value FROM ordered WHERE universe=? AND store=? AND scope=?"
                " AND (? IS NULL OR value >= ?) AND (? IS NULL OR value <= ?)"
                f" AND (? IS NULL OR (value, key) {compare} (?, ?))"
                f" ORDER BY value {order}, key {order} LIMIT ?",
                (
                    universe,
                    store,
                    scope,
                    low,
                    low,
                    high,
                    high,
                    after_value,
                    after_value,
                    after_key,
                    limit,
                ),
            ).fetchall()
        return [(row[0], int(row[1])) for row in rows]
