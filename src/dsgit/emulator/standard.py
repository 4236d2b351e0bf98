"""Standard data stores: stores, entries, their revisions, soft deletes and snapshots.

A write keeps a new revision or overwrites the latest one, as the version policy says
(``versions.py``: Roblox's first write of each UTC hour, or every write); a delete writes a
tombstone (a revision without a value) the same way, so the entry's state is DELETED.
Roblox's retention is applied lazily, by the clock: a tombstoned
entry is gone for good 30 days after its deletion, older revisions (all but the latest) 30 days
after they were written, and a deleted data store (with its entries) at its ``expireTime``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from dsgit.emulator.api_error import not_found
from dsgit.emulator.clock import DAY, dotnet_ticks
from dsgit.emulator.database import Database
from dsgit.emulator.versions import Versions, keeps_new_version

__all__ = [
    "RETENTION",
    "Entry",
    "NewRevision",
    "Revision",
    "StandardState",
    "StoreInfo",
]

RETENTION = 30 * DAY


@dataclass(frozen=True)
class Revision:
    """One revision of an entry; ``value`` is JSON text, None for a tombstone."""

    seq: int
    revision_id: str
    time: int
    value: str | None
    users: tuple[int, ...]
    attributes: str

    @property
    def deleted(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Entry:
    """An entry at one of its revisions (the latest unless a revision was asked for)."""

    store: str
    scope: str
    key: str
    create_time: int
    revision: Revision
    latest_seq: int

    @property
    def state(self) -> str:
        return "DELETED" if self.revision.deleted else "ACTIVE"

    @property
    def active(self) -> bool:
        return not self.revision.deleted


@dataclass(frozen=True)
class NewRevision:
    """What a write sets; ``value`` None writes a tombstone."""

    value: str | None
    users: tuple[int, ...] = ()
    attributes: str = "{}"


@dataclass(frozen=True)
class StoreInfo:
    name: str
    create_time: int
    expire_time: int | None

    @property
    def deleted(self) -> bool:
        return self.expire_time is not None


_REVISION_COLUMNS = "seq, revision_id, time, value, users, attributes"


def _revision(row: tuple[int, str, int, str | None, str, str]) -> Revision:
    users = tuple(json.loads(row[4])) if row[4] != "[]" else ()
    return Revision(row[0], row[1], row[2], row[3], users, row[5])


class StandardState:
    """Operations on standard data stores, each atomic under the database lock."""

    def __init__(self, db: Database, versions: Versions = Versions.HOURLY) -> None:
        self._db = db
        self.versions = versions

    def _snapshot_time(self, conn: sqlite3.Connection, universe: int) -> int | None:
        row = conn.execute("SELECT time FROM snapshots WHERE universe=?", (universe,)).fetchone()
        return None if row is None else int(row[0])

    # --- data stores ---------------------------------------------------------------------
    def _store(
        self, conn: sqlite3.Connection, universe: int, name: str, now: int
    ) -> StoreInfo | None:
        row = conn.execute(
            "SELECT create_time, expire_time FROM stores WHERE universe=? AND name=?",
            (universe, name),
        ).fetchone()
        if row is None:
            return None
        if row[1] is not None and row[1] <= now:
            for table in ("stores", "entries", "revisions"):
                column = "name" if table == "stores" else "store"
                conn.execute(
                    f"DELETE FROM {table} WHERE universe=? AND {column}=?", (universe, name)
                )
            return None
        return StoreInfo(name, row[0], row[1])

    def _open_store(self, conn: sqlite3.Connection, universe: int, name: str, now: int) -> None:
        info = self._store(conn, universe, name, now)
        if info is not None and info.deleted:
            raise not_found(f"data store {name!r} is scheduled for deletion", "DatastoreNotFound")

    def list_stores(
        self,
        universe: int,
        now: int,
        *,
        prefix: str | None,
        show_deleted: bool,
        after: str | None,
        limit: int,
    ) -> list[StoreInfo]:
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT name, create_time, expire_time FROM stores WHERE universe=? AND name > ?"
                " AND (? IS NULL OR substr(name, 1, length(?)) = ?)"
                " AND (? OR expire_time IS NULL)"
                " AND (expire_time IS NULL OR expire_time > ?)"
                " ORDER BY name LIMIT ?",
                (universe, after or "", prefix, prefix, prefix, show_deleted, now, limit),
            ).fetchall()
        return [StoreInfo(*row) for row in rows]

    def store_exists(self, universe: int, name: str, now: int) -> bool:
        with self._db.read() as conn:
            return self._store(conn, universe, name, now) is not None

    def set_store_deleted(self, universe: int, name: str, now: int, deleted: bool) -> StoreInfo:
        """Schedule deletion in 30 days (no-op if already deleted), or cancel it."""
        with self._db.write() as conn:
            info = self._store(conn, universe, name, now)
            if info is None:
                raise not_found(f"data store {name!r} not found", "DatastoreNotFound")
            expire = (info.expire_time or now + RETENTION) if deleted else None
            conn.execute(
                "UPDATE stores SET expire_time=? WHERE universe=? AND name=?",
                (expire, universe, name),
            )
            return StoreInfo(name, info.create_time, expire)

    # --- entries -------------------------------------------------------------------------
    def _latest(
        self, conn: sqlite3.Connection, universe: int, store: str, scope: str, key: str, now: int
    ) -> Entry | None:
        row = conn.execute(
            "SELECT e.create_time, e.latest_seq, e.deleted_time, "
            "r.seq, r.revision_id, r.time, r.value, r.users, r.attributes "
            "FROM entries e JOIN revisions r ON r.universe=e.universe AND r.store=e.store "
            "AND r.scope=e.scope AND r.key=e.key AND r.seq=e.latest_seq "
            "WHERE e.universe=? AND e.store=? AND e.scope=? AND e.key=?",
            (universe, store, scope, key),
        ).fetchone()
        if row is None:
            return None
        if row[2] is not None and row[2] + RETENTION <= now:
            return None  # permanently deleted; the rows go on the next write
        return Entry(store, scope, key, row[0], _revision(row[3:]), row[1])

    def get(self, universe: int, store: str, scope: str, key: str, now: int) -> Entry | None:
        """The latest revision (a tombstone too), or None if the key never existed or expired."""
        with self._db.read() as conn:
            self._open_store(conn, universe, store, now)
            return self._latest(conn, universe, store, scope, key, now)

    def _visible(self, latest: Entry, revision: Revision, now: int) -> bool:
        return revision.seq == latest.latest_seq or revision.time + RETENTION > now

    def get_revision(
        self, universe: int, store: str, scope: str, key: str, revision_id: str, now: int
    ) -> Entry | None:
        return self._read_revision(
            universe, store, scope, key, now, "revision_id=?", (revision_id,)
        )

    def get_at(
        self, universe: int, store: str, scope: str, key: str, moment: int, now: int
    ) -> Entry | None:
        """The revision current at ``moment`` (the last one written at or before it)."""
        return self._read_revision(
            universe, store, scope, key, now, "time <= ? ORDER BY seq DESC LIMIT 1", (moment,)
        )

    def _read_revision(
        self,
        universe: int,
        store: str,
        scope: str,
        key: str,
        now: int,
        where: str,
        params: tuple[object, ...],
    ) -> Entry | None:
        """One revision of a live key chosen by ``where``, if still within retention."""
        with self._db.read() as conn:
            self._open_store(conn, universe, store, now)
            latest = self._latest(conn, universe, store, scope, key, now)
            if latest is None:
                return None
            row = conn.execute(
                f"SELECT {_REVISION_COLUMNS} FROM revisions WHERE universe=? AND store=? "
                f"AND scope=? AND key=? AND {where}",
                (universe, store, scope, key, *params),
            ).fetchone()
        if row is None:
            return None
        revision = _revision(row)
        if not self._visible(latest, revision, now):
            return None
        return Entry(store, scope, key, latest.create_time, revision, latest.latest_seq)

    def mutate(
        self,
        universe: int,
        store: str,
        scope: str,
        key: str,
        now: int,
        decide: Callable[[Entry | None], NewRevision],
    ) -> Entry:
        """Read the latest revision, let ``decide`` check it and say what to write, append it.

        ``decide`` raises :class:`ApiError` to refuse; nothing is written then. The whole
        read-check-write is one transaction, so preconditions (etag, exclusive create) hold.
        """
        with self._db.write() as conn:
            info = self._store(conn, universe, store, now)
            if info is not None and info.deleted:
                raise not_found(
                    f"data store {store!r} is scheduled for deletion", "DatastoreNotFound"
                )
            current = self._latest(conn, universe, store, scope, key, now)
            change = decide(current)
            if info is None:
                conn.execute(
                    "INSERT INTO stores (universe, name, create_time, expire_time) "
                    "VALUES (?, ?, ?, NULL)",
                    (universe, store, now),
                )
            where = (universe, store, scope, key)
            if current is None:
                # A brand-new key, or one whose tombstone expired: start its history afresh.
                conn.execute(
                    "DELETE FROM revisions WHERE universe=? AND store=? AND scope=? AND key=?",
                    where,
                )
                conn.execute(
                    "DELETE FROM entries WHERE universe=? AND store=? AND scope=? AND key=?", where
                )
                create_time, seq, time = now, 1, now
            else:
                create_time = current.create_time
                time = max(now, current.revision.time + 1)
                keep = keeps_new_version(
                    self.versions,
                    current.revision.time,
                    time,
                    self._snapshot_time(conn, universe),
                )
                seq = current.latest_seq + 1 if keep else current.latest_seq
                if not keep:  # overwrite the latest version: same place, new id and time
                    conn.execute(
                        "DELETE FROM revisions WHERE universe=? AND store=? AND scope=? AND key=?"
                        " AND seq=?",
                        (*where, seq),
                    )
            revision_id = (
                f"{dotnet_ticks(create_time):016X}.{seq:010d}.{dotnet_ticks(time):016X}.01"
            )
            users = json.dumps(list(change.users))
            conn.execute(
                "INSERT INTO revisions (universe, store, scope, key, seq, revision_id, time, "
                "value, users, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*where, seq, revision_id, time, change.value, users, change.attributes),
            )
            conn.execute(
                "INSERT INTO entries (universe, store, scope, key, create_time, latest_seq, "
                "deleted_time) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (universe, store, scope, key) DO UPDATE SET "
                "latest_seq=excluded.latest_seq, deleted_time=excluded.deleted_time",
                (*where, create_time, seq, time if change.value is None else None),
            )
        revision = Revision(seq, revision_id, time, change.value, change.users, change.attributes)
        return Entry(store, scope, key, create_time, revision, seq)

    def list_keys(
        self,
        universe: int,
        store: str,
        scope: str | None,
        now: int,
        *,
        prefix: str | None,
        show_deleted: bool,
        after: tuple[str, str] | None,
        limit: int,
        prefix_on_scope: bool = False,
    ) -> list[tuple[str, str, bool]]:
        """``(scope, key, deleted)`` in (scope, key) order; ``scope`` None lists every scope.

        ``prefix_on_scope`` matches ``prefix`` against ``scope/key`` (v1 ``allScopes``).
        """
        column = "scope || '/' || key" if prefix_on_scope else "key"
        after_scope, after_key = after if after is not None else ("", "")
        with self._db.read() as conn:
            self._open_store(conn, universe, store, now)
            rows = conn.execute(
                "SELECT scope, key, deleted_time FROM entries WHERE universe=? AND store=?"
                " AND (? IS NULL OR scope = ?)"
                f" AND {column} >= ? AND (? IS NULL OR substr({column}, 1, length(?)) = ?)"
                " AND (deleted_time IS NULL OR (? AND deleted_time > ?))"
                " AND (scope, key) > (?, ?)"
                " ORDER BY scope, key LIMIT ?",
                (
                    universe,
                    store,
                    scope,
                    scope,
                    prefix or "",
                    prefix,
                    prefix,
                    prefix,
                    show_deleted,
                    now - RETENTION,
                    after_scope,
                    after_key,
                    limit,
                ),
            ).fetchall()
        return [(row[0], row[1], row[2] is not None) for row in rows]

    def list_revisions(
        self,
        universe: int,
        store: str,
        scope: str,
        key: str,
        now: int,
        *,
        start: int | None,
        end: int | None,
        after_seq: int | None,
        limit: int,
        descending: bool = False,
    ) -> tuple[Entry | None, list[Revision]]:
        """The entry and its revisions in write order (or newest first), within the window."""
        with self._db.read() as conn:
            self._open_store(conn, universe, store, now)
            latest = self._latest(conn, universe, store, scope, key, now)
            if latest is None:
                return None, []
            order = "DESC" if descending else "ASC"
            compare = "<" if descending else ">"
            rows = conn.execute(
                f"SELECT {_REVISION_COLUMNS} FROM revisions WHERE universe=? AND store=? "
                "AND scope=? AND key=? AND (? IS NULL OR time >= ?) AND (? IS NULL OR time <= ?) "
                f"AND (? IS NULL OR seq {compare} ?) AND (seq = ? OR time > ?) "
                f"ORDER BY seq {order} LIMIT ?",
                (
                    universe,
                    store,
                    scope,
                    key,
                    start,
                    start,
                    end,
                    end,
                    after_seq,
                    after_seq,
                    latest.latest_seq,
                    now - RETENTION,
                    limit,
                ),
            ).fetchall()
        return latest, [_revision(row) for row in rows]

    # --- snapshots -----------------------------------------------------------------------
    def revision_history(self, universe: int) -> Iterator[list[tuple[int, str, str | None]]]:
        """Per key, its kept revisions oldest first as ``(time, key, value)`` (value None for a
        tombstone); the Analytics Query API's storage metric is computed from these."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT store, scope, key, time, value FROM revisions WHERE universe=? "
                "ORDER BY store, scope, key, seq",
                (universe,),
            ).fetchall()
        group: list[tuple[int, str, str | None]] = []
        last: tuple[str, str, str] | None = None
        for store, scope, key, time, value in rows:
            if last is not None and (store, scope, key) != last:
                yield group
                group = []
            last = (store, scope, key)
            group.append((int(time), key, value))
        if group:
            yield group

    def snapshot(self, universe: int, now: int) -> tuple[bool, int]:
        """Take a snapshot unless one was taken this UTC day: (taken, latest snapshot time).

        After it, the next write to every key keeps a new version (see ``versions.py``). The
        time is kept to the tick, so a write in the same millisecond is ordered correctly;
        answers show it to the millisecond.
        """
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT time FROM snapshots WHERE universe=?", (universe,)
            ).fetchone()
            if row is not None and row[0] // DAY == now // DAY:
                return False, int(row[0])
            conn.execute(
                "INSERT INTO snapshots (universe, time) VALUES (?, ?) "
                "ON CONFLICT (universe) DO UPDATE SET time=excluded.time",
                (universe, now),
            )
        return True, now
