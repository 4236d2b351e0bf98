"""The emulator's SQLite database: one connection, one lock, the schema.

Every read and write takes the lock for as long as its statements run and no longer (latency
injection sleeps outside it). A file database uses WAL with ``synchronous=NORMAL``: a commit
survives a crash of the emulator process, and writes don't wait for an fsync each.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dsgit.errors import ConfigError, Location

__all__ = ["Database"]

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stores (
    universe INTEGER NOT NULL, name TEXT NOT NULL,
    create_time INTEGER NOT NULL, expire_time INTEGER,
    PRIMARY KEY (universe, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
    universe INTEGER NOT NULL, store TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL,
    create_time INTEGER NOT NULL, latest_seq INTEGER NOT NULL, deleted_time INTEGER,
    PRIMARY KEY (universe, store, scope, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS revisions (
    universe INTEGER NOT NULL, store TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL,
    seq INTEGER NOT NULL, revision_id TEXT NOT NULL, time INTEGER NOT NULL,
    value TEXT, users TEXT NOT NULL, attributes TEXT NOT NULL,
    PRIMARY KEY (universe, store, scope, key, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS revisions_by_id
    ON revisions (universe, store, scope, key, revision_id);
CREATE TABLE IF NOT EXISTS ordered (
    universe INTEGER NOT NULL, store TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (universe, store, scope, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ordered_by_value ON ordered (universe, store, scope, value, key);
CREATE TABLE IF NOT EXISTS snapshots (universe INTEGER PRIMARY KEY, time INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS config_repos (
    universe INTEGER NOT NULL, repository TEXT NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (universe, repository)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS config_revs (
    universe INTEGER NOT NULL, repository TEXT NOT NULL, version INTEGER NOT NULL,
    revision_id TEXT NOT NULL, time INTEGER NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (universe, repository, version)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS experiments (
    universe INTEGER NOT NULL, id TEXT NOT NULL, created INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (universe, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS experiment_ops (
    universe INTEGER NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (universe, id)) WITHOUT ROWID;
"""


class Database:
    """The SQLite file (or ``:memory:``) holding every universe the emulator serves."""

    def __init__(self, target: str | Path) -> None:
        name = str(target)
        self._lock = threading.RLock()
        try:
            if name != ":memory:":
                Path(name).parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(name, check_same_thread=False, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the emulator database: {exc}", Location(name)) from None
        try:
            self._open(name)
        except sqlite3.Error as exc:
            self._conn.close()
            raise ConfigError(f"cannot open the emulator database: {exc}", Location(name)) from None

    def _open(self, name: str) -> None:
        with self._lock:
            if name != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
            self._conn.execute(
                "INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', ?)", (SCHEMA_VERSION,)
            )

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
