"""The Analytics Query API's data store storage metric (``DataStoreStorageUsageBytes``).

``POST /analytics-query-api/v1/universes/{u}/metrics`` (Roblox's cloud/guides/analytics):
most queries answer ``done: true`` at once; a slow one answers ``202`` with ``done: false`` and
a ``path`` to poll with GET until it is done. The key needs ``universe.analytics:read``. The
metric keeps 28 days at OneMinute to OneDay granularity and has no dimensions.

The query is not drawn from the data store budget (it is a separate API with its own limit),
and one scan sends one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dsgit.errors import DsgitError
from dsgit.remote import paths as P
from dsgit.remote.session import Session

__all__ = ["STORAGE_METRIC", "Analytics", "StorageUsage"]

STORAGE_METRIC = "DataStoreStorageUsageBytes"
_POLLS = 10


@dataclass(frozen=True)
class StorageUsage:
    """The latest data point of the storage metric: bytes in use at ``time``."""

    bytes: int
    time: str


class AnalyticsError(DsgitError):
    """The Analytics Query API answered with an error envelope or an unexpected body."""


def _latest(body: Any) -> StorageUsage | None:
    if not isinstance(body, dict):
        raise AnalyticsError("the Analytics Query API answered something that is not an object")
    error = body.get("error")
    if isinstance(error, dict):
        raise AnalyticsError(
            f"the Analytics Query API refused the query: {error.get('message')} "
            f"(code {error.get('code')})"
        )
    values = (body.get("response") or {}).get("values")
    if not isinstance(values, list):
        raise AnalyticsError("the Analytics Query API answered no response.values")
    latest: StorageUsage | None = None
    for series in values:
        points = series.get("dataPoints") if isinstance(series, dict) else None
        for point in points if isinstance(points, list) else ():
            value, time = point.get("value"), point.get("time")
            fresh = isinstance(time, str) and (latest is None or time > latest.time)
            if isinstance(value, int | float) and fresh:
                latest = StorageUsage(int(value), str(time))
    return latest


class Analytics:
    """The storage metric query of :class:`~dsgit.remote.client.OpenCloudClient`."""

    universe_id: int
    _session: Session

    def storage_usage(
        self,
        *,
        now: datetime | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> StorageUsage | None:
        """Bytes of data store storage in use: the latest of the last two hours' data points
        (hourly buckets; the current one measured now), None when the API has none yet."""
        moment = (now or datetime.now(UTC)).replace(microsecond=0)
        path = f"/analytics-query-api/v1/universes/{self.universe_id}/metrics"
        body = self._session.call(
            "POST",
            path,
            None,
            body={
                "metric": STORAGE_METRIC,
                "granularity": "OneHour",
                "startTime": P.format_time(moment - timedelta(hours=2)),
                "endTime": P.format_time(moment + timedelta(minutes=1)),
            },
        )
        wait = sleep or self._session._sleep
        for _ in range(_POLLS):
            if not isinstance(body, dict) or body.get("done", True):
                break
            operation = body.get("path")
            if not isinstance(operation, str) or not operation:
                raise AnalyticsError("the Analytics Query API answered a pending query no path")
            wait(1.0)
            body = self._session.call("GET", f"/analytics-query-api/{operation}", None)
        else:
            raise AnalyticsError(f"the storage query did not finish after {_POLLS} polls")
        return _latest(body)
