"""The notifications a webhook server has accepted, kept across restarts (SQLite).

Each row is in one state:

- ``queued``: accepted, its plans not yet all written, or a failed attempt waiting for its
  ``retry_at`` (``attempts`` failed attempts so far);
- ``waiting-for-session``: its plans left out entries held by a game server's session lock;
  tried again at ``retry_at``;
- ``failed``: the server gave up (too many failed attempts, or Roblox's 30-day deadline
  passed with entries still held); the request (with its user id) is kept so it can be
  queued again (``dsgit webhook requeue``, :meth:`SeenNotifications.requeue`);
- ``done``: the request itself is then dropped from the row: only the id stays, to refuse
  replays. The database zeroes what it drops (``secure_delete``) and the write-ahead log is
  emptied then, so the user id is in no file once its request is done.

``remaining`` (JSON list) names the environments a retry still has to plan; NULL means every
environment the request's universes map to. A restarted server picks up every ``queued`` and
``waiting-for-session`` row once it is due, so a crash between the 200 and the plan loses
nothing. Databases written before the retry columns existed get them (``ALTER TABLE``).

Roblox retries a delivery it thinks failed, and a captured request could be replayed within
its signature's lifetime: a ``NotificationId`` is acted on once. ``claim`` is atomic (one
``INSERT`` under the table's primary key), so two deliveries of one notification arriving at
once cannot both be accepted.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DONE", "FAILED", "QUEUED", "WAITING", "Pending", "SeenNotifications"]

QUEUED = "queued"
WAITING = "waiting-for-session"
FAILED = "failed"
DONE = "done"
_OPEN = (QUEUED, WAITING)
# columns added after the first release: name -> declaration
_ADDED = {"attempts": "INTEGER NOT NULL DEFAULT 0", "retry_at": "REAL", "remaining": "TEXT"}


@dataclass(frozen=True)
class Pending:
    """One row: the request's JSON and where its retries stand."""

    notification_id: str
    accepted: float
    state: str
    request: str | None
    attempts: int
    retry_at: float | None
    remaining: tuple[str, ...] | None


class SeenNotifications:
    """A persistent set of notification ids with the time each was accepted and its state."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # a request's JSON (it holds the user id) is zeroed when cleared, not left in free pages
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, accepted REAL NOT NULL,"
            " state TEXT NOT NULL DEFAULT 'queued', request TEXT)"
        )
        columns = {str(row[1]) for row in self._db.execute("PRAGMA table_info(seen)")}
        for name, declaration in _ADDED.items():
            if name not in columns:
                self._db.execute(f"ALTER TABLE seen ADD COLUMN {name} {declaration}")

    def claim(self, notification_id: str, now: float, request: str) -> bool:
        """True the first time ``notification_id`` is claimed (it is then ``queued`` with
        ``request``, its JSON), False ever after."""
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO seen (id, accepted, state, request) VALUES (?, ?, 'queued', ?)",
                    (notification_id, now, request),
                )
            except sqlite3.IntegrityError:
                return False
            return True

    def done(self, notification_id: str) -> None:
        """The request was handled: keep only its id."""
        with self._lock:
            self._db.execute(
                "UPDATE seen SET state = ?, request = NULL, retry_at = NULL, remaining = NULL"
                " WHERE id = ?",
                (DONE, notification_id),
            )
            # and out of the write-ahead log, whose frames still hold the old row
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def retry(
        self,
        notification_id: str,
        state: str,
        *,
        attempts: int,
        retry_at: float,
        remaining: tuple[str, ...],
    ) -> None:
        """Try ``remaining`` environments again at ``retry_at`` (state queued or waiting)."""
        assert state in _OPEN, state
        with self._lock:
            self._db.execute(
                "UPDATE seen SET state = ?, attempts = ?, retry_at = ?, remaining = ? WHERE id = ?",
                (state, attempts, retry_at, json.dumps(list(remaining)), notification_id),
            )

    def failed(self, notification_id: str, *, attempts: int) -> None:
        """Given up: no more retries (the request stays, to be queued again by hand)."""
        with self._lock:
            self._db.execute(
                "UPDATE seen SET state = ?, attempts = ?, retry_at = NULL WHERE id = ?",
                (FAILED, attempts, notification_id),
            )

    def due(self, now: float) -> list[Pending]:
        """Every open request whose time has come (never tried, or ``retry_at`` passed),
        oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM seen WHERE state IN (?, ?) AND request IS NOT NULL"
                " AND (retry_at IS NULL OR retry_at <= ?) ORDER BY accepted, rowid",
                (*_OPEN, now),
            ).fetchall()
        return [_pending(row) for row in rows]

    def next_retry(self) -> float | None:
        """The earliest ``retry_at`` of an open request, None when none is scheduled."""
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(retry_at) FROM seen WHERE state IN (?, ?) AND request IS NOT NULL",
                _OPEN,
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def rows(self) -> list[Pending]:
        """Every row, oldest first (``dsgit webhook list``)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM seen ORDER BY accepted, rowid"
            ).fetchall()
        return [_pending(row) for row in rows]

    def requeue(self, notification_id: str, now: float) -> Pending | None:
        """Queue a ``failed`` request again, its attempts from zero, due at ``now`` (a running
        server looks at the store at least once a minute); None when there is no such failed
        request (unknown, open, or done: a done one's JSON is gone)."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE seen SET state = ?, attempts = 0, retry_at = ?"
                " WHERE id = ? AND state = ? AND request IS NOT NULL",
                (QUEUED, now, notification_id, FAILED),
            )
            if cursor.rowcount != 1:
                return None
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM seen WHERE id = ?", (notification_id,)
            ).fetchone()
        return _pending(row)

    def get(self, notification_id: str) -> Pending | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM seen WHERE id = ?", (notification_id,)
            ).fetchone()
        return None if row is None else _pending(row)

    def __contains__(self, notification_id: object) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM seen WHERE id = ?", (notification_id,)).fetchone()
        return row is not None

    def close(self) -> None:
        with self._lock:
            self._db.close()


_COLUMNS = "id, accepted, state, request, attempts, retry_at, remaining"


def _pending(row: Any) -> Pending:
    identifier, accepted, state, request, attempts, retry_at, remaining = row
    return Pending(
        str(identifier),
        _number(accepted) or 0.0,
        str(state),
        None if request is None else str(request),
        int(_number(attempts) or 0),
        _number(retry_at),
        _environments(remaining),
    )


def _number(value: object) -> float | None:
    """A number column; one edited by hand into something else reads as unset."""
    try:
        return None if value is None else float(str(value))
    except ValueError:
        return None


def _environments(value: object) -> tuple[str, ...] | None:
    """``remaining``; anything but a JSON list of names (a row edited by hand) reads as NULL:
    every environment is planned again, which is safe (an erasure already done plans
    nothing)."""
    if value is None:
        return None
    try:
        names = json.loads(str(value))
    except ValueError:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return tuple(names)
