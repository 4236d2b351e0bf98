"""The Analytics Query API's storage metric: served from the emulator's state, and read by the
client (``OpenCloudClient.storage_usage``), polling a long-running query."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dsgit.emulator import Emulator
from dsgit.emulator.analytics_api import compressed_size
from dsgit.model.entry import EntryData
from dsgit.remote.analytics_ops import AnalyticsError
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.retry import RetryPolicy

URL = "/analytics-query-api/v1/universes/1/metrics"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def compressed(key: str, value: object) -> int:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    size = compressed_size(key, text)
    assert 0 < size < len(key) + len(text) + 16
    return size


def query(client: httpx.Client, body: dict[str, object]) -> httpx.Response:
    return client.post(URL, json=body, headers={"x-api-key": "k"})


def test_usage_follows_the_state_hour_by_hour() -> None:
    clock = Clock()
    emulator = Emulator(clock=clock)
    api = OpenCloudClient(1, transport=emulator.transport())
    first = {"Data": {"Coins": 10}}
    api.create_entry("PlayerStore", "1", EntryData(first))
    clock.now += timedelta(hours=1)
    second = {"coins": 5, "inventory": []}
    api.create_entry("DATA/2", "1", EntryData(second))
    clock.now += timedelta(hours=1)
    api.delete_entry("PlayerStore", "1")
    http = httpx.Client(transport=emulator.transport(), base_url="http://emu")
    answer = query(
        http,
        {
            "metric": "DataStoreStorageUsageBytes",
            "granularity": "OneHour",
            "startTime": "2026-12-03T08:00:00Z",
            "endTime": "2026-12-03T13:00:00Z",
        },
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["done"] is True and body["path"].startswith("v1/universes/1/operations/metrics/")
    series = body["response"]["values"]
    assert series[0]["breakdowns"] == []
    points = [(p["time"][:13], p["value"]) for p in series[0]["dataPoints"]]
    one, two = compressed("1", first), compressed("1", second)
    # 08:00 ends before the first write: omitted; 13:00 starts after now (12:30): omitted
    assert points == [("2026-12-03T10", one), ("2026-12-03T11", one + two), ("2026-12-03T12", two)]
    usage = api.storage_usage(now=clock.now)
    assert usage is not None and usage.bytes == two


@pytest.mark.parametrize(
    ("change", "status", "code", "words"),
    [
        ({"metric": "DailyActiveUsers"}, 400, 2001, "not served"),
        ({"granularity": "OneWeek"}, 400, 2001, "granularity"),
        ({"breakdown": ["Platform"]}, 400, 2001, "no dimensions"),
        ({"startTime": "2026-10-01T00:00:00Z"}, 400, 2001, "retention"),
        ({"startTime": "yesterday"}, 400, 2001, "RFC 3339"),
        ({"endTime": "2026-12-01T00:00:00Z"}, 400, 2001, "after"),
        ({"granularity": "OneMinute", "startTime": "2026-11-06T00:00:00Z"}, 429, 3000, "budget"),
    ],
)
def test_refusals_use_the_operation_envelope(
    change: dict[str, object], status: int, code: int, words: str
) -> None:
    emulator = Emulator(clock=Clock())
    http = httpx.Client(transport=emulator.transport(), base_url="http://emu")
    body = {
        "metric": "DataStoreStorageUsageBytes",
        "granularity": "OneHour",
        "startTime": "2026-12-02T00:00:00Z",
        "endTime": "2026-12-03T00:00:00Z",
    } | change
    answer = query(http, body)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == code and words in error["message"]
    assert answer.json()["done"] is True


def test_the_key_needs_the_analytics_scope() -> None:
    emulator = Emulator(api_keys={"ds-only": frozenset({"universe-datastores.objects:read"})})
    http = httpx.Client(transport=emulator.transport(), base_url="http://emu")
    answer = http.post(URL, json={}, headers={"x-api-key": "ds-only"})
    assert answer.status_code == 403


def test_client_polls_a_long_running_query_and_reports_errors() -> None:
    answers = [
        (202, {"path": "v1/universes/1/operations/metrics/abc", "done": False}),
        (200, {"path": "v1/universes/1/operations/metrics/abc", "done": False}),
        (
            200,
            {
                "done": True,
                "response": {
                    "values": [
                        {
                            "breakdowns": [],
                            "dataPoints": [
                                {"time": "2026-12-03T09:00:00Z", "value": 10},
                                {"time": "2026-12-03T10:00:00Z", "value": 1234},
                            ],
                        }
                    ]
                },
            },
        ),
    ]
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        status, body = answers.pop(0)
        return httpx.Response(status, json=body)

    api = OpenCloudClient(
        1, transport=httpx.MockTransport(handler), retry=RetryPolicy(), sleep=lambda s: None
    )
    usage = api.storage_usage(sleep=lambda seconds: None)
    assert usage is not None and (usage.bytes, usage.time) == (1234, "2026-12-03T10:00:00Z")
    assert seen == [
        f"POST {URL}",
        "GET /analytics-query-api/v1/universes/1/operations/metrics/abc",
        "GET /analytics-query-api/v1/universes/1/operations/metrics/abc",
    ]

    def failed(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"done": True, "error": {"code": 2000, "message": "x"}})

    broken = OpenCloudClient(1, transport=httpx.MockTransport(failed))
    with pytest.raises(AnalyticsError, match="code 2000"):
        broken.storage_usage()
