"""Timestamps inside values: RFC 3339 text, unix seconds or unix milliseconds.

Games write ``os.time()`` (seconds), ``DateTime.now().UnixTimestampMillis`` (milliseconds) or
``DateTime:ToIsoDate()`` (RFC 3339). A number at or above 10^11 is read as milliseconds
(10^11 seconds is the year 5138; 10^11 ms is 1973), anything else as seconds; a string of
digits is read as a number. A time at or before the unix epoch (0 or negative: an unset field
often defaults to 0) is no usable time, nor is RFC 3339 text without a UTC offset (``Z`` or
``+02:00``): whose clock it was is unknown. Pure.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from dsgit.model.entry import JSONValue
from dsgit.scan.entry import parse_rfc3339

__all__ = ["MILLISECONDS_FROM", "read_timestamp"]

MILLISECONDS_FROM = 10**11
_OFFSET = re.compile(r"(?:[zZ]|[+-]\d\d:?\d\d)$")


def _from_number(number: float) -> datetime | None:
    if not math.isfinite(number):
        return None
    if number <= 0:
        return None  # an unset field defaults to 0; nothing is deleted on it
    seconds = number / 1000 if abs(number) >= MILLISECONDS_FROM else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def read_timestamp(value: JSONValue) -> datetime | None:
    """The time ``value`` holds, or None when it holds none of the three forms."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _from_number(float(value))
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.replace(".", "", 1).isdigit():
            return _from_number(float(text))
        if ("T" not in text and "t" not in text) or not _OFFSET.search(text):
            return None
        return parse_rfc3339(text)
    return None
