"""Faults the emulator cannot produce, scripted with respx: retries, Retry-After, lost answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx

from dsgit.errors import (
    AuthError,
    MalformedResponse,
    NotFoundError,
    PreconditionFailed,
    RateLimitedError,
    RemoteError,
    TransportError,
    WriteOutcomeUnknown,
)
from dsgit.model.entry import EntryData
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.failures import parse_retry_after
from dsgit.remote.retry import RetryPolicy

BASE = "https://apis.test"
ENTRY = f"{BASE}/cloud/v2/universes/7/data-stores/Bans/scopes/global/entries/user%2F1"
ENTRIES = f"{BASE}/cloud/v2/universes/7/data-stores/Bans/scopes/global/entries"
ORDERED = f"{BASE}/cloud/v2/universes/7/ordered-data-stores/Wins/scopes/global/entries/u1"


def entry_body(value: Any, revision: str = "r1", users: list[str] | None = None) -> dict[str, Any]:
    return {
        "path": "universes/7/data-stores/Bans/scopes/global/entries/user/1",
        "id": "user/1",
        "value": value,
        "etag": revision,
        "revisionId": revision,
        "revisionCreateTime": "2024-07-22T19:40:35.001520100Z",
        "createTime": "2024-07-22T19:40:35.001520100Z",
        "state": "ACTIVE",
        "users": users if users is not None else ["users/45348281"],
        "attributes": {},
    }


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def router() -> respx.Router:
    return respx.Router(assert_all_called=False)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(router: respx.Router, sleeps: Sleeps) -> Callable[..., OpenCloudClient]:
    def make(**kw: Any) -> OpenCloudClient:
        kw.setdefault("retry", RetryPolicy(attempts=4, initial=0.1, max_wait=1.0, jitter=0.0))
        return OpenCloudClient(
            7, base_url=BASE, transport=httpx.MockTransport(router.handler), sleep=sleeps, **kw
        )

    return make


def test_5xx_then_success_is_retried(
    router: respx.Router, make_client: Any, sleeps: Sleeps
) -> None:
    route = router.get(ENTRY).mock(
        side_effect=[
            httpx.Response(503, json={"code": "UNAVAILABLE"}),
            httpx.Response(200, json=entry_body(1)),
        ]
    )
    with make_client() as client:
        entry = client.get_entry("Bans", "user/1")
    assert entry is not None and entry.value == 1 and entry.users == (45348281,)
    assert route.call_count == 2
    assert len(sleeps) == 1


def test_429_honours_retry_after_seconds(
    router: respx.Router, make_client: Any, sleeps: Sleeps
) -> None:
    router.get(ENTRY).mock(
        side_effect=[
            httpx.Response(429, headers={"retry-after": "7"}, json={"code": "RESOURCE_EXHAUSTED"}),
            httpx.Response(200, json=entry_body(1)),
        ]
    )
    with make_client() as client:
        assert client.get_entry("Bans", "user/1") is not None
    assert sleeps == [7.0]


def test_429_that_persists_becomes_rate_limited_error(
    router: respx.Router, make_client: Any, sleeps: Sleeps
) -> None:
    router.get(ENTRY).mock(
        return_value=httpx.Response(
            429,
            json={"code": "RESOURCE_EXHAUSTED", "message": "slow down"},
            headers={"x-roblox-request-id": "req-42"},
        )
    )
    with make_client() as client, pytest.raises(RateLimitedError) as caught:
        client.get_entry("Bans", "user/1")
    text = str(caught.value)
    assert "GET /cloud/v2/universes/7/data-stores/Bans/scopes/global/entries/user%2F1" in text
    assert "HTTP 429 RESOURCE_EXHAUSTED: slow down" in text
    assert "req-42" in text
    assert caught.value.status == 429 and caught.value.request_id == "req-42"
    # 429s count against their own limit (16 attempts), not the 4 the policy allows for 5xx,
    # and the time slept stays within the bound
    policy = RetryPolicy()
    assert len(sleeps) == policy.throttled_attempts - 1
    assert sum(sleeps) <= policy.max_total_wait


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("3", 3.0),
        ("1.5", 1.5),
        ("-4", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
    ],
)
def test_retry_after_parsing(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_retry_after_http_date() -> None:
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(header, now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(days=1), usegmt=True), now=now) == 0.0


def test_retry_after_over_the_cap_is_capped(
    router: respx.Router, make_client: Any, sleeps: Sleeps
) -> None:
    router.get(ENTRY).mock(
        side_effect=[
            httpx.Response(503, headers={"retry-after": "100000"}),
            httpx.Response(200, json=entry_body(1)),
        ]
    )
    with make_client() as client:
        client.get_entry("Bans", "user/1")
    assert sleeps == [120.0]


def test_connect_error_is_retried_and_then_reported(router: respx.Router, make_client: Any) -> None:
    router.get(ENTRY).mock(side_effect=httpx.ConnectError("refused"))
    with make_client() as client, pytest.raises(TransportError) as caught:
        client.get_entry("Bans", "user/1")
    assert caught.value.path.startswith("/cloud/v2/universes/7/data-stores/Bans")
    assert "cannot connect to apis.test:443" in str(caught.value)
    assert "ConnectError: refused" in str(caught.value)


def test_an_unreachable_service_is_retried_once_per_run_not_per_request(
    router: respx.Router, make_client: Any, sleeps: Sleeps
) -> None:
    route = router.get(ENTRY).mock(side_effect=httpx.ConnectError("refused"))
    with make_client() as client:
        with pytest.raises(TransportError):
            client.get_entry("Bans", "user/1")
        tried, waited = route.call_count, len(sleeps)
        assert tried > 1 and waited == tried - 1  # the first request was retried
        for _ in range(3):
            with pytest.raises(TransportError) as caught:
                client.get_entry("Bans", "user/1")
            assert "cannot connect to apis.test:443" in str(caught.value)
        assert (route.call_count, len(sleeps)) == (tried, waited)  # later ones fail at once


def test_a_connect_error_that_recovers_does_not_mark_the_service_unreachable(
    router: respx.Router, make_client: Any
) -> None:
    route = router.get(ENTRY).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=entry_body(1))]
    )
    with make_client() as client:
        assert client.get_entry("Bans", "user/1") is not None
        route.side_effect = None
        route.return_value = httpx.Response(200, json=entry_body(2))
        entry = client.get_entry("Bans", "user/1")
        assert entry is not None and entry.value == 2


def test_malformed_bodies_are_reported_not_retried(router: respx.Router, make_client: Any) -> None:
    route = router.get(ENTRY).mock(return_value=httpx.Response(200, content=b"<html>oops"))
    with make_client() as client, pytest.raises(MalformedResponse) as caught:
        client.get_entry("Bans", "user/1")
    assert "not JSON" in str(caught.value)
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ([1, 2], "expected a JSON object"),
        ({"value": 1}, "revisionId"),
        ({**entry_body(1), "users": ["players/1"]}, "users/<id>"),
        ({**entry_body(1), "attributes": [1]}, "attributes"),
        ({k: v for k, v in entry_body(1).items() if k != "value"}, "value"),
    ],
)
def test_entries_with_wrong_fields_are_malformed(
    router: respx.Router, make_client: Any, body: Any, complaint: str
) -> None:
    router.get(ENTRY).mock(return_value=httpx.Response(200, json=body))
    with make_client() as client, pytest.raises(MalformedResponse) as caught:
        client.get_entry("Bans", "user/1")
    assert complaint in str(caught.value)


def test_a_repeating_page_token_stops_the_listing(router: respx.Router, make_client: Any) -> None:
    router.get(ENTRIES).mock(
        return_value=httpx.Response(
            200, json={"dataStoreEntries": [{"id": "a", "path": "x"}], "nextPageToken": "same"}
        )
    )
    with make_client() as client, pytest.raises(MalformedResponse, match="page token repeats"):
        list(client.list_keys("Bans"))


def test_status_codes_map_to_error_classes(router: respx.Router, make_client: Any) -> None:
    router.patch(ENTRY).mock(
        side_effect=[
            httpx.Response(409, json={"code": "ABORTED", "message": "etag mismatch"}),
            httpx.Response(404, json={"code": "NOT_FOUND", "message": "no such entry"}),
            httpx.Response(400, json={"code": "INVALID_ARGUMENT", "message": "too big"}),
            httpx.Response(501, text="not implemented"),
            httpx.Response(403, json={"errors": [{"code": 0, "message": "Insufficient scope"}]}),
        ]
    )
    data = EntryData(1)
    with make_client() as client:
        with pytest.raises(PreconditionFailed, match="ABORTED: etag mismatch"):
            client.update_entry("Bans", "user/1", data, etag="r0")
        with pytest.raises(NotFoundError):
            client.update_entry("Bans", "user/1", data)
        with pytest.raises(RemoteError, match="INVALID_ARGUMENT: too big") as caught:
            client.update_entry("Bans", "user/1", data)
        assert type(caught.value) is RemoteError
        with pytest.raises(RemoteError, match="501: not implemented"):
            client.update_entry("Bans", "user/1", data)
        with pytest.raises(AuthError, match="HTTP 403: Insufficient scope"):
            client.update_entry("Bans", "user/1", data)  # the last: a 403 ends the run


class LossyStore:
    """One entry behind PATCH/GET; ``lose`` answers of writes are dropped after committing."""

    def __init__(self, lose: int, how: str) -> None:
        self.value: Any = "old"
        self.revision = 1
        self.lose = lose
        self.how = how
        self.patches = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=entry_body(self.value, f"r{self.revision}", []))
        assert request.method == "PATCH"
        self.patches += 1
        body = json.loads(request.content)
        if body.get("etag") not in (None, f"r{self.revision}"):
            return httpx.Response(409, json={"code": "ABORTED", "message": "etag mismatch"})
        self.value = body["value"]
        self.revision += 1
        if self.lose > 0:
            self.lose -= 1
            if self.how == "reset":
                raise httpx.RemoteProtocolError("connection reset after send")
            if self.how == "timeout":
                raise httpx.ReadTimeout("read timed out")
            return httpx.Response(500, json={"code": "INTERNAL", "message": "lost"})
        return httpx.Response(200, json=entry_body(self.value, f"r{self.revision}", []))


@pytest.mark.parametrize("how", ["reset", "timeout", "5xx"])
def test_an_ambiguous_write_is_read_back_and_not_repeated(
    router: respx.Router, make_client: Any, how: str
) -> None:
    store = LossyStore(lose=1, how=how)
    router.route(url__startswith=ENTRY).mock(side_effect=store.handle)
    with make_client() as client:
        entry = client.update_entry("Bans", "user/1", EntryData("new"), etag="r1")
    assert store.patches == 1  # the write landed; it was read back, not sent again
    assert entry.value == "new" and entry.etag == "r2"


def test_an_ambiguous_write_that_did_not_land_is_retried(
    router: respx.Router, make_client: Any
) -> None:
    calls: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if request.method == "GET":
            return httpx.Response(200, json=entry_body("old", "r1", []))
        if calls.count("PATCH") == 1:
            return httpx.Response(503, json={"code": "UNAVAILABLE"})  # rejected before writing
        return httpx.Response(200, json=entry_body("new", "r2", []))

    router.route(url__startswith=ENTRY).mock(side_effect=handle)
    with make_client() as client:
        entry = client.update_entry("Bans", "user/1", EntryData("new"), etag="r1")
    assert calls == ["PATCH", "GET", "PATCH"]
    assert entry.etag == "r2"


def test_ambiguous_failures_to_the_end_still_check_the_entry(
    router: respx.Router, make_client: Any
) -> None:
    store = LossyStore(lose=99, how="5xx")
    router.route(url__startswith=ENTRY).mock(side_effect=store.handle)
    with make_client() as client:
        entry = client.update_entry("Bans", "user/1", EntryData("new"))
    assert store.patches == 1
    assert entry.value == "new"


def test_create_after_lost_answer_returns_the_created_entry(
    router: respx.Router, make_client: Any
) -> None:
    state: dict[str, Any] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            if "value" not in state:
                return httpx.Response(404, json={"code": "NOT_FOUND"})
            return httpx.Response(200, json=entry_body(state["value"], "r1", []))
        assert request.url.params["id"] == "user/1"
        state["posts"] = state.get("posts", 0) + 1
        state["value"] = json.loads(request.content)["value"]
        raise httpx.ReadTimeout("timed out")

    router.route(url__startswith=ENTRIES).mock(side_effect=handle)
    with make_client() as client:
        entry = client.create_entry("Bans", "user/1", EntryData({"banned": True}))
    assert state["posts"] == 1
    assert entry.value == {"banned": True}


def test_delete_after_lost_answer_is_not_repeated(router: respx.Router, make_client: Any) -> None:
    methods: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        methods.append(request.method)
        if request.method == "DELETE":
            raise httpx.RemoteProtocolError("reset")
        return httpx.Response(404, json={"code": "NOT_FOUND"})

    router.route(url__startswith=ENTRY).mock(side_effect=handle)
    with make_client() as client:
        client.delete_entry("Bans", "user/1")
    assert methods == ["DELETE", "GET"]


def test_increment_is_never_repeated_after_an_ambiguous_failure(
    router: respx.Router, make_client: Any
) -> None:
    route = router.post(f"{ENTRY}:increment").mock(side_effect=httpx.ReadTimeout("timed out"))
    with make_client() as client, pytest.raises(WriteOutcomeUnknown) as caught:
        client.increment_entry("Bans", "user/1", 5)
    assert route.call_count == 1
    assert "outcome unknown" in str(caught.value)
    assert "user%2F1:increment" in str(caught.value)


def test_increment_is_retried_after_a_429(router: respx.Router, make_client: Any) -> None:
    route = router.post(f"{ORDERED}:increment").mock(
        side_effect=[
            httpx.Response(429, json={"code": "RESOURCE_EXHAUSTED"}),
            httpx.Response(200, json={"path": "p", "id": "u1", "value": 12.0}),
        ]
    )
    with make_client() as client:
        entry = client.increment_ordered("Wins", "u1", 2)
    assert route.call_count == 2
    assert entry.value == 12 and isinstance(entry.value, int)


def test_ordered_update_after_lost_answer_reads_back(
    router: respx.Router, make_client: Any
) -> None:
    value = {"v": 1}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"id": "u1", "path": "p", "value": value["v"]})
        value["v"] = json.loads(request.content)["value"]
        return httpx.Response(502)

    router.route(url__startswith=ORDERED).mock(side_effect=handle)
    with make_client() as client:
        entry = client.update_ordered("Wins", "u1", 40)
    assert entry.value == 40


def test_a_single_attempt_policy_does_not_retry(
    router: respx.Router, make_client: Any, sleeps: Sleeps
) -> None:
    route = router.get(ENTRY).mock(return_value=httpx.Response(503))
    with make_client(retry=RetryPolicy(attempts=1)) as client, pytest.raises(RemoteError):
        client.get_entry("Bans", "user/1")
    assert route.call_count == 1 and sleeps == []
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)


def test_backoff_grows_then_caps(router: respx.Router, make_client: Any, sleeps: Sleeps) -> None:
    router.get(ENTRY).mock(return_value=httpx.Response(500))
    policy = RetryPolicy(attempts=6, initial=0.5, max_wait=3.0, jitter=0.0)
    with make_client(retry=policy) as client, pytest.raises(RemoteError):
        client.get_entry("Bans", "user/1")
    assert sleeps == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_config_revisions_stop_when_the_server_ignores_skip(
    router: respx.Router, make_client: Any
) -> None:
    revisions = [{"revisionId": f"r{i}", "version": i, "message": "m"} for i in range(100)]
    route = router.get(url__regex=r".*/repositories/InExperienceConfig/revisions").mock(
        return_value=httpx.Response(200, json={"revisions": revisions})
    )
    with make_client() as client:
        listed = list(client.list_config_revisions("InExperienceConfig"))
    assert [r.revision_id for r in listed] == [f"r{i}" for i in range(100)]
    assert route.call_count == 2  # the second page brought nothing new
