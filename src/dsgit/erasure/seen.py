"""The notifications a webhook server has accepted, kept across restarts (SQLite).

Each row is ``queued`` (accepted, its plan not yet written: a restarted server picks it up
again, so a crash between the 200 and the plan loses nothing) or ``done`` (the request itself
is then dropped from the row: only the id stays, to refuse replays).

Roblox retries a delivery it thinks failed, and a captured request could be replayed within
its signature's lifetime: a ``NotificationId`` is acted on once. ``claim`` is atomic (one
``INSERT`` under the table's primary key), so two deliveries of one notification arriving at
once cannot both be accepted.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

__all__ = ["SeenNotifications"]


class SeenNotifications:
    """A persistent set of notification ids with the time each was accepted."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, accepted REAL NOT NULL,"
            " state TEXT NOT NULL DEFAULT 'queued', request TEXT)"
        )

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
                "UPDATE seen SET state = 'done', request = NULL WHERE id = ?", (notification_id,)
            )

    def pending(self) -> list[str]:
        """The JSON of every request accepted but not handled, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT request FROM seen WHERE state = 'queued' ORDER BY accepted, id"
            ).fetchall()
        return [str(row[0]) for row in rows if row[0] is not None]

    def __contains__(self, notification_id: object) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM seen WHERE id = ?", (notification_id,)).fetchone()
        return row is not None

    def close(self) -> None:
        with self._lock:
            self._db.close()
