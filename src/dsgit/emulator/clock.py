"""Time as the emulator keeps it: integer ticks of 100 ns since the Unix epoch, UTC.

Open Cloud answers RFC 3339 times with 7 fractional digits (snapshots with 3), the v1 headers
use a ``+00:00`` offset, and revision ids carry .NET ticks in hex.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = [
    "DAY",
    "TICKS_PER_SECOND",
    "Clock",
    "dotnet_ticks",
    "format_millis",
    "format_offset",
    "format_time",
    "parse_time",
    "system_clock",
    "to_ticks",
]

Clock = Callable[[], datetime]

TICKS_PER_SECOND = 10_000_000
DAY = 86_400 * TICKS_PER_SECOND
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DOTNET_EPOCH_TICKS = 621_355_968_000_000_000
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+ -])(\d{2}):?(\d{2})[Zz]?)?$"
)


def system_clock() -> datetime:
    return datetime.now(UTC)


def to_ticks(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1) * 10


def dotnet_ticks(ticks: int) -> int:
    return _DOTNET_EPOCH_TICKS + ticks


def _split(ticks: int) -> tuple[datetime, int]:
    seconds, fraction = divmod(ticks, TICKS_PER_SECOND)
    return _EPOCH + timedelta(seconds=seconds), fraction


def format_time(ticks: int) -> str:
    """``2024-07-22T19:40:35.0015201Z``: 7 fractional digits, as Open Cloud answers."""
    whole, fraction = _split(ticks)
    return f"{whole:%Y-%m-%dT%H:%M:%S}.{fraction:07d}Z"


def format_millis(ticks: int) -> str:
    """``2024-07-29T22:08:49.588Z``: 3 fractional digits, as snapshot times."""
    whole, fraction = _split(ticks)
    return f"{whole:%Y-%m-%dT%H:%M:%S}.{fraction // 10_000:03d}Z"


def format_offset(ticks: int) -> str:
    """``2022-02-02T23:30:06.5388799+00:00``, as the v1 ``roblox-entry-*-time`` headers."""
    return format_time(ticks)[:-1] + "+00:00"


def parse_time(text: str) -> int:
    """RFC 3339 text to ticks. Raises ``ValueError`` on anything else.

    A time without an offset is read as UTC (Python's ``datetime.isoformat()`` of a naive time,
    as rblx-open-cloud sends in revision filters); ``+0000`` is read as ``+00:00``, and a space
    before the offset as ``+`` (an unencoded ``+`` in a query string decodes to a space), and a
    ``Z`` after an offset is ignored (rblx-open-cloud sends ``…T00:00:00+00:00Z`` for a whole
    second).
    """
    match = _RFC3339.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an RFC 3339 time")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = (match.group(7) or "").ljust(7, "0")[:7]
    try:
        moment = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
        if match.group(9):
            offset = timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
            moment -= -offset if match.group(9) == "-" else offset
    except OverflowError:  # an offset that moves year 1 or 9999 out of range
        raise ValueError(f"{text!r} is out of range") from None
    return to_ticks(moment) + int(fraction)
