"""Times as users type them on the command line (``--at``, ``--since``, ``--until``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from dsgit.errors import ConfigError

__all__ = ["parse_user_time"]

_AGE = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_user_time(text: str, *, now: datetime | None = None) -> datetime:
    """RFC 3339 (``2026-01-31T12:00:00Z``), a date (``2026-01-31``), or an age (``30m``,
    ``12h``, ``7d``, ``2w``: that long before ``now``). A time without a zone is UTC."""
    cleaned = text.strip()
    match = _AGE.match(cleaned)
    if match:
        delta = timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        return (now or datetime.now(UTC)) - delta
    try:
        moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"bad time {text!r}: use RFC 3339 (2026-01-31T12:00:00Z), a date, or an age (7d)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
