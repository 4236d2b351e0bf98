"""A ``RightToErasureRequest`` notification as Roblox POSTs it.

``{"NotificationId": "<uuid>", "EventType": "RightToErasureRequest", "EventTime":
"<RFC 3339>", "EventPayload": {"UserId": <int>, "GameIds": [<universe ids>]}}``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ERASURE_EVENT",
    "ErasureNotification",
    "NotificationRejected",
    "parse_notification",
    "redacted",
]

ERASURE_EVENT = "RightToErasureRequest"
# Roblox's ids are UUIDs; the id names the plan files (``<id>.json``, ``<id>.<env>.json``) and
# log lines: no dot (two requests' files could share a name), no path, no control character.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
_ADDRESS = re.compile(r"\S+/\S+")  # an entry address (store/scope/key) or a path


class NotificationRejected(Exception):
    """The body is not a notification dsgit can act on (the message says which field)."""


@dataclass(frozen=True)
class ErasureNotification:
    """One right-to-erasure request: whose data, in which universes."""

    notification_id: str
    user_id: int
    universe_ids: tuple[int, ...]
    event_time: str

    def to_json(self) -> dict[str, Any]:
        return {
            "notification_id": self.notification_id,
            "user_id": self.user_id,
            "universe_ids": list(self.universe_ids),
            "event_time": self.event_time,
        }


def _positive_int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise NotificationRejected(f"{field} is not a number")
    text = str(value)
    if not text.isdigit() or int(text) <= 0:
        raise NotificationRejected(f"{field} is not a positive integer")
    return int(text)


def parse_notification(body: bytes) -> ErasureNotification:
    """The request in ``body``; :class:`NotificationRejected` names what is wrong."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotificationRejected(f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise NotificationRejected("body is not a JSON object")
    notification_id = data.get("NotificationId")
    if not isinstance(notification_id, str) or not notification_id.strip():
        raise NotificationRejected("NotificationId is missing")
    if not _ID.fullmatch(notification_id):
        raise NotificationRejected(
            "NotificationId is not an id (letters, digits, '-' and '_', at most 100)"
        )
    event = data.get("EventType")
    if event != ERASURE_EVENT:
        raise NotificationRejected(f"EventType {event!r} is not {ERASURE_EVENT}")
    payload = data.get("EventPayload")
    if not isinstance(payload, dict):
        raise NotificationRejected("EventPayload is missing")
    user_id = _positive_int(payload.get("UserId"), "EventPayload.UserId")
    games = payload.get("GameIds")
    if not isinstance(games, list) or not games:
        raise NotificationRejected("EventPayload.GameIds is not a list of universe ids")
    universes = tuple(
        dict.fromkeys(_positive_int(g, f"EventPayload.GameIds[{i}]") for i, g in enumerate(games))
    )
    event_time = data.get("EventTime")
    return ErasureNotification(
        notification_id,
        user_id,
        universes,
        event_time if isinstance(event_time, str) else "",
    )


def redacted(text: str, user_id: int, *, limit: int = 200) -> str:
    """The first line of ``text`` (an error message) fit for a queue line, a log or a
    notification: URLs, entry addresses and paths (anything with a ``/``) and the user id
    itself are replaced, so neither the user nor where their data was is named."""
    line = (text.strip().splitlines() or [""])[0]
    line = _URL.sub("<url>", line)
    line = _ADDRESS.sub("<entry>", line)
    line = re.sub(rf"(?<!\d){user_id}(?!\d)", "<user>", line)
    return line[:limit]
