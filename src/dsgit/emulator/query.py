"""Query parameters as Open Cloud reads them: booleans, page sizes, page tokens and filters.

Empty ``filter=`` / ``orderBy=`` count as absent; booleans accept any letter case. Page tokens
are opaque to clients (base64 of the last item returned and a fingerprint of the other
parameters, which must match on the next call, as the API requires).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from dsgit.emulator import json_text
from dsgit.emulator.api_error import invalid
from dsgit.emulator.clock import parse_time
from dsgit.emulator.limits import INT64_MAX, INT64_MIN

__all__ = [
    "decode_token",
    "encode_token",
    "flag",
    "id_prefix",
    "order_descending",
    "page_size",
    "revision_window",
    "value_range",
]

_ID_PREFIX = re.compile(r"""^\s*id\s*\.\s*startsWith\s*\(\s*(["'])((?:\\.|(?!\1).)*)\1\s*\)\s*$""")
_REVISION_TERM = re.compile(r"""^\s*revision_create_time\s*(>=|<=)\s*["']?([^"'\s]+)["']?\s*$""")
_VALUE_TERM = re.compile(r"^\s*(?:entry|value)\s*(>=|<=)\s*(-?\d+)\s*$")


def flag(params: dict[str, str], *names: str) -> bool:
    """A boolean parameter under any of ``names``: ``true``/``True``/``1`` or ``false``…"""
    for name in names:
        raw = params.get(name)
        if raw is None or raw == "":
            continue
        lowered = raw.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise invalid(f"{name} must be true or false, got {raw!r}")
    return False


def page_size(raw: str | None, default: int, maximum: int, name: str = "maxPageSize") -> int:
    """Missing or 0 gives ``default``; above ``maximum`` is lowered to it; negative is an error."""
    if raw is None or raw.strip() == "":
        return default
    try:
        size = int(raw)
    except ValueError:
        raise invalid(f"{name} must be an integer, got {raw!r}") from None
    if size < 0:
        raise invalid(f"{name} must not be negative")
    if size == 0:
        return default
    return min(size, maximum)


def _fingerprint(params: tuple[Any, ...]) -> str:
    text = json.dumps(params, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def encode_token(cursor: list[Any], params: tuple[Any, ...]) -> str:
    text = json.dumps([cursor, _fingerprint(params)], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_token(
    token: str | None, params: tuple[Any, ...], shape: tuple[type, ...]
) -> list[Any] | None:
    """The cursor in ``token`` (None for no token). 400 if it is not ours or params changed.

    ``shape`` is the type of each cursor item (``int`` within int64, or ``str``): tokens are
    not signed, so an edited one must be refused here rather than fail in a query."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        cursor, fingerprint = json_text.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise invalid("invalid page token", "InvalidCursor") from None
    if not isinstance(cursor, list) or fingerprint != _fingerprint(params):
        raise invalid(
            "page token does not match the request: every other parameter must stay the same",
            "InvalidCursor",
        )
    if len(cursor) != len(shape) or not all(map(_fits, cursor, shape)):
        raise invalid("invalid page token", "InvalidCursor")
    return cursor


def _fits(item: Any, kind: type) -> bool:
    if kind is int:
        return type(item) is int and INT64_MIN <= item <= INT64_MAX
    return isinstance(item, kind)


def id_prefix(raw: str | None) -> str | None:
    """``id.startsWith("foo")`` to ``foo``; the only filter list endpoints support."""
    if raw is None or raw.strip() == "":
        return None
    match = _ID_PREFIX.match(raw)
    if match is None:
        raise invalid(f'unsupported filter {raw!r}: only id.startsWith("...") is supported')
    inner = match.group(2)
    if match.group(1) == '"':
        try:
            return str(json.loads(f'"{inner}"'))  # CEL double-quoted strings escape like JSON
        except ValueError:
            pass
    return re.sub(r"\\(.)", r"\1", inner)


def revision_window(raw: str | None) -> tuple[int | None, int | None]:
    """``revision_create_time >= T1 && revision_create_time <= T2`` to tick bounds."""
    if raw is None or raw.strip() == "":
        return None, None
    start: int | None = None
    end: int | None = None
    for term in raw.split("&&"):
        match = _REVISION_TERM.match(term)
        if match is None:
            raise invalid(
                f"unsupported filter {raw!r}: use revision_create_time >= T && "
                "revision_create_time <= T"
            )
        try:
            moment = parse_time(match.group(2))
        except ValueError:
            raise invalid(f"{match.group(2)!r} in filter is not an RFC 3339 time") from None
        if match.group(1) == ">=":
            start = moment if start is None else max(start, moment)
        else:
            end = moment if end is None else min(end, moment)
    return start, end


def value_range(raw: str | None) -> tuple[int | None, int | None]:
    """``entry >= 10 && entry <= 30`` (ordered data stores) to inclusive bounds."""
    if raw is None or raw.strip() == "":
        return None, None
    low: int | None = None
    high: int | None = None
    for term in raw.split("&&"):
        match = _VALUE_TERM.match(term)
        if match is None:
            raise invalid(f"unsupported filter {raw!r}: use entry >= N && entry <= M")
        number = _bounded(match.group(2))
        if match.group(1) == ">=":
            low = number if low is None else max(low, number)
        else:
            high = number if high is None else min(high, number)
    if (low is not None and low > INT64_MAX) or (high is not None and high < INT64_MIN):
        return INT64_MAX, INT64_MIN  # no int64 value matches: an empty range SQLite can bind
    low = None if low is None else max(low, INT64_MIN)
    high = None if high is None else min(high, INT64_MAX)
    return low, high


def _bounded(digits: str) -> int:
    """A filter bound clamped to just outside int64 (values are int64, so nothing changes):
    SQLite cannot bind larger integers and Python refuses int() of very long digit strings."""
    negative = digits.startswith("-")
    magnitude = digits.lstrip("-").lstrip("0") or "0"
    if len(magnitude) > 19 or int(magnitude) > INT64_MAX:
        return INT64_MIN - 1 if negative else INT64_MAX + 1
    return -int(magnitude) if negative else int(magnitude)


def order_descending(raw: str | None) -> bool:
    """``orderBy``: ``value`` (ascending, the default), ``value asc`` or ``value desc``."""
    if raw is None or raw.strip() == "":
        return False
    words = raw.strip().lower().split()
    if words == ["desc"]:
        return True
    if not words or words[0] != "value" or len(words) > 2:
        raise invalid(f"unsupported orderBy {raw!r}: only value and value desc are supported")
    if len(words) == 2 and words[1] not in ("asc", "desc"):
        raise invalid(f"unsupported orderBy {raw!r}")
    return len(words) == 2 and words[1] == "desc"
