"""The Analytics Query API's data store storage metric, computed from the emulator's state.

``POST /analytics-query-api/v1/universes/{u}/metrics`` with ``{"metric":
"DataStoreStorageUsageBytes", "granularity", "startTime", "endTime"}`` answers one series of
data points, as Roblox's guide (cloud/guides/analytics) describes: ``{"path", "done": true,
"metadata": {"createdTime"}, "response": {"values": [{"breakdowns": [], "dataPoints":
[{"time", "value"}]}]}}``; errors are the same envelope with ``error: {code, message}`` (2001
for a bad request, 3000 over the data point budget).

The usage at an instant is what Roblox bills: the compressed size of the latest version of
every live entry (key and JSON value, deflated: :func:`compressed_size`), so a past bucket
sums the revisions current at its end (as far as the kept versions tell). The metric
supports OneMinute, HalfHour, OneHour and OneDay, no dimensions, and 28 days of history.
Buckets that end before the universe's first write, or start after now, are omitted (the
API omits empty buckets too).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from typing import Any

from dsgit.emulator.call import Call
from dsgit.emulator.clock import DAY, TICKS_PER_SECOND, format_time, parse_time
from dsgit.emulator.wire import Response, json_response

__all__ = ["METRIC", "compressed_size", "query_metrics"]

METRIC = "DataStoreStorageUsageBytes"
GRANULARITIES = {
    "OneMinute": 60,
    "HalfHour": 1_800,
    "OneHour": 3_600,
    "OneDay": 86_400,
}
RETENTION_DAYS = 28
MAX_POINTS = 5_000  # the data point budget of one query (429, code 3000, beyond)
_BAD_REQUEST = 2001
_OVER_BUDGET = 3000


class _Refused(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _envelope(call: Call, body: bytes) -> dict[str, Any]:
    operation = hashlib.sha256(body + str(call.now).encode()).hexdigest()[:16]
    return {
        "path": f"v1/universes/{call.universe}/operations/metrics/{operation}",
        "done": True,
        "metadata": {"createdTime": format_time(call.now)},
    }


def _time(body: dict[str, Any], name: str) -> int:
    text = body.get(name)
    if not isinstance(text, str):
        raise _Refused(400, _BAD_REQUEST, f"{name} is required (an RFC 3339 time)")
    try:
        return parse_time(text)
    except ValueError:
        raise _Refused(400, _BAD_REQUEST, f"{name} {text!r} is not an RFC 3339 time") from None


def _request(call: Call) -> tuple[int, int, int]:
    """(start, end, step) in ticks, checked as the service checks them."""
    try:
        body = call.body_object()
    except Exception as exc:  # the emulator's 400 for bodies that are not JSON objects
        raise _Refused(400, _BAD_REQUEST, str(exc)) from None
    metric = body.get("metric")
    if not isinstance(metric, str) or not metric:
        raise _Refused(400, _BAD_REQUEST, "metric is required")
    if metric != METRIC:
        raise _Refused(400, _BAD_REQUEST, f"metric {metric!r} is not served by the emulator")
    granularity = body.get("granularity")
    if granularity not in GRANULARITIES:
        allowed = ", ".join(GRANULARITIES)
        raise _Refused(
            400,
            _BAD_REQUEST,
            f"The requested granularity is not supported for this metric (use {allowed}).",
        )
    for name in ("breakdown", "filter"):
        if body.get(name):
            raise _Refused(400, _BAD_REQUEST, f"{METRIC} supports no dimensions ({name})")
    start, end = _time(body, "startTime"), _time(body, "endTime")
    if end <= start:
        raise _Refused(400, _BAD_REQUEST, "endTime must be after startTime")
    if start < call.now - RETENTION_DAYS * DAY:
        raise _Refused(
            400, _BAD_REQUEST, "The startTime exceeds the data retention period for the metric."
        )
    step = GRANULARITIES[str(granularity)] * TICKS_PER_SECOND
    start -= start % step  # buckets are aligned to UTC
    if (min(end, call.now) - start) // step > MAX_POINTS:
        raise _Refused(429, _OVER_BUDGET, "The query exceeded the data point budget.")
    return start, end, step


def _bucket_ends(start: int, end: int, step: int, now: int) -> Iterator[tuple[int, int]]:
    """(bucket start, instant measured) per bucket that has begun: its end, or now."""
    moment = start
    while moment < end and moment <= now:
        yield moment, min(moment + step, now)
        moment += step


def query_metrics(call: Call) -> Response:
    envelope = _envelope(call, call.request.body)
    try:
        start, end, step = _request(call)
    except _Refused as refused:
        error = {"code": refused.code, "message": refused.message}
        return json_response(refused.status, {**envelope, "error": error})
    buckets = list(_bucket_ends(start, end, step, call.now))
    usage, first_write = _usage(call, [instant for _, instant in buckets])
    points = [
        {"time": format_time(begin), "value": usage[index]}
        for index, (begin, instant) in enumerate(buckets)
        if first_write is not None and instant > first_write
    ]
    response = {"values": [{"breakdowns": [], "dataPoints": points}]}
    return json_response(200, {**envelope, "response": response})


def compressed_size(key: str, value: str) -> int:
    """Bytes of ``key`` and the JSON ``value`` deflated (raw, level 1). Small values use a
    small window: the same size within a few bytes, at a tenth of the cost of zlib's default
    set-up, which dominates for the few hundred bytes of a typical entry."""
    data = f"{key}{value}".encode()
    if len(data) <= 1024:
        window, memory = -10, 1
    elif len(data) <= 16_384:
        window, memory = -12, 2
    else:
        window, memory = -15, 8
    packer = zlib.compressobj(1, zlib.DEFLATED, window, memory)
    return len(packer.compress(data)) + len(packer.flush())


def _usage(call: Call, instants: list[int]) -> tuple[list[int], int | None]:
    """Bytes in use at each instant (sorted ascending), and the time of the first write."""
    totals = [0] * len(instants)
    first: int | None = None
    for revisions in call.state.standard.revision_history(call.universe):
        # revisions of one key, oldest first: (time, key, value or None for a tombstone)
        first = revisions[0][0] if first is None else min(first, revisions[0][0])
        sizes = [0 if value is None else compressed_size(key, value) for _, key, value in revisions]
        current = -1
        for index, instant in enumerate(instants):
            while current + 1 < len(revisions) and revisions[current + 1][0] <= instant:
                current += 1
            if current >= 0:
                totals[index] += sizes[current]
    return totals, first
