"""Session locks of the save libraries games use, told from the value's shape alone.

ProfileService and its successor ProfileStore (MadStudioRoblox) lock a profile while a game
server holds it: the saved value is ``{Data, MetaData = {..., ActiveSession = ...}, ...}``, and
``MetaData.ActiveSession`` is present exactly while a server has the profile loaded (Luau
``nil`` fields vanish in JSON, so a released profile has no ``ActiveSession``). Anything written
from outside then fights the session or is overwritten at its next save. ProfileService stores
``{place_id, game_job_id}``, ProfileStore ``{PlaceId, JobId, unique_session_id}`` (Luau arrays,
so JSON arrays; object forms are read too). DataStore2 keeps no session lock: its values never
hold one.

Retention, migrations and erasure never plan a write of a locked entry unless the run is given
``--allow DSP005=REASON``; they report it, and a later run retries it (docs/lifecycle.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from dsgit.model.entry import JSONValue

__all__ = ["SessionLock", "session_lock"]


@dataclass(frozen=True)
class SessionLock:
    """An active session found in a value: which library, which server, when it last saved."""

    library: str  # "ProfileService", "ProfileStore" or "ProfileService/ProfileStore"
    place_id: int | None = None
    job_id: str | None = None
    last_update: float | None = None  # MetaData.LastUpdate, unix seconds, when present

    def describe(self, now: float | None = None) -> str:
        """``a ProfileStore session (place 123, job ab12…), last saved 5 min ago``."""
        where = []
        if self.place_id is not None:
            where.append(f"place {self.place_id}")
        if self.job_id:
            where.append(f"job {self.job_id}")
        text = f"a {self.library} session" + (f" ({', '.join(where)})" if where else "")
        if self.last_update is not None and now is not None:
            text += f", last saved {_ago(now - self.last_update)}"
        return text


def _ago(seconds: float) -> str:
    if seconds < 0:
        return "in the future (clock skew)"
    if seconds < 120:
        return f"{int(seconds)} s ago"
    if seconds < 7200:
        return f"{int(seconds // 60)} min ago"
    if seconds < 172800:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86400)} days ago"


def _number(value: JSONValue) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _place(value: JSONValue) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None


def _job(value: JSONValue) -> str | None:
    return value if isinstance(value, str) else None


def session_lock(value: JSONValue) -> SessionLock | None:
    """The active session a ProfileService / ProfileStore profile holds, or None.

    None for any other value (DataStore2 blobs, plain tables, released profiles). Pure.
    """
    if not isinstance(value, dict):
        return None
    meta = value.get("MetaData")
    if not isinstance(meta, dict):
        return None
    session = meta.get("ActiveSession")
    if session is None:
        return None
    last_update = _number(meta.get("LastUpdate"))
    if isinstance(session, list):
        library = "ProfileStore" if len(session) >= 3 else "ProfileService"
        place = _place(session[0]) if session else None
        job = _job(session[1]) if len(session) > 1 else None
        return SessionLock(library, place, job, last_update)
    if isinstance(session, dict):
        if "PlaceId" in session or "JobId" in session or "unique_session_id" in session:
            return SessionLock(
                "ProfileStore",
                _place(session.get("PlaceId")),
                _job(session.get("JobId")),
                last_update,
            )
        return SessionLock(
            "ProfileService",
            _place(session.get("place_id")),
            _job(session.get("game_job_id")),
            last_update,
        )
    # Some other non-null marker: still a held session as far as anyone can tell.
    return SessionLock("ProfileService/ProfileStore", None, None, last_update)
