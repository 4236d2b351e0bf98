"""Run-wide failure bounds (remote/health.py) on a fake clock: scripted with respx."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from dsgit.errors import (
    AccessDenied,
    RemoteError,
    ServiceUnavailable,
    ServiceUnreachable,
    TransportError,
)
from dsgit.model.entry import EntryData
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.health import RunBounds, Target, host_and_port
from dsgit.remote.retry import RetryPolicy

BASE = "https://apis.test"
ENTRY = f"{BASE}/cloud/v2/universes/7/data-stores/Bans/scopes/global/entries/k"
OTHER = f"{BASE}/cloud/v2/universes/7/data-stores/Bans/scopes/global/entries/other"
LIST = f"{BASE}/cloud/v2/universes/7/data-stores/Bans/scopes/global/entries"


class Clock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _client(router: respx.Router, clock: Clock, **kw: Any) -> OpenCloudClient:
    return OpenCloudClient(
        7,
        base_url=BASE,
        transport=httpx.MockTransport(router.handler),
        sleep=clock.sleep,
        clock=clock,
        retry=kw.pop("retry", RetryPolicy(attempts=6, initial=0.5, max_wait=30.0, jitter=0.0)),
        target=Target("prod", "PROD_KEY", 7, has_key=True),
        **kw,
    )


def _body(value: Any) -> dict[str, Any]:
    return {
        "path": "universes/7/data-stores/Bans/scopes/global/entries/k",
        "id": "k",
        "value": value,
        "etag": "r1",
        "revisionId": "r1",
        "revisionCreateTime": "2024-07-22T19:40:35Z",
        "createTime": "2024-07-22T19:40:35Z",
        "state": "ACTIVE",
        "users": [],
        "attributes": {},
    }


def test_host_and_port_defaults_by_scheme() -> None:
    assert host_and_port("https://apis.roblox.com") == "apis.roblox.com:443"
    assert host_and_port("http://127.0.0.1:8080/") == "127.0.0.1:8080"
    assert host_and_port("http://emulator") == "emulator:80"


def test_an_unreachable_service_stops_the_run_after_bounded_attempts() -> None:
    router, clock = respx.Router(), Clock()
    route = router.get(ENTRY).mock(side_effect=httpx.ConnectError("refused"))
    other = router.get(OTHER).mock(return_value=httpx.Response(200, json=_body(1)))
    with _client(router, clock) as client:
        with pytest.raises(ServiceUnreachable) as caught:
            client.get_entry("Bans", "k")
        assert route.call_count == RunBounds().connect_attempts
        assert sum(clock.slept) < 3.0
        message = str(caught.value)
        assert "cannot connect to apis.test:443 (environment 'prod')" in message
        assert message.count("apis.test") == 1  # the address once
        with pytest.raises(ServiceUnreachable):
            client.get_entry("Bans", "other")  # the run is over: not even sent
        assert other.call_count == 0


def test_5xx_only_stops_the_run_at_the_bound_and_later_calls_fail_at_once() -> None:
    router, clock = respx.Router(), Clock()
    route = router.get(LIST).mock(
        return_value=httpx.Response(503, json={"code": "UNAVAILABLE", "message": "down"})
    )
    bounds = RunBounds(unavailable_seconds=5.0)
    with _client(router, clock, bounds=bounds) as client:
        with pytest.raises(ServiceUnavailable) as caught:
            list(client.list_keys("Bans"))
        assert clock.now <= 5.0 + 1e-9  # waits were cut to the bound
        assert "apis.test:443 (environment 'prod') answered only errors for 5 s" in str(
            caught.value
        )
        assert "HTTP 503" in str(caught.value)
        sent = route.call_count
        with pytest.raises(ServiceUnavailable):
            list(client.list_keys("Bans"))
        assert route.call_count == sent


def test_a_good_answer_resets_the_5xx_bound() -> None:
    router, clock = respx.Router(), Clock()
    failing = httpx.Response(503, json={"code": "UNAVAILABLE"})
    router.get(ENTRY).mock(side_effect=[failing, failing, httpx.Response(200, json=_body(1))] * 4)
    bounds = RunBounds(unavailable_seconds=2.0)
    with _client(router, clock, bounds=bounds) as client:
        for _ in range(4):  # 1.5 s of failures each time, then an answer: never over 2 s
            entry = client.get_entry("Bans", "k")
            assert entry is not None and entry.value == 1
    assert clock.now > bounds.unavailable_seconds  # in all longer than the bound


def test_writes_are_verified_not_cut_short_by_the_bound() -> None:
    router, clock = respx.Router(), Clock()
    router.patch(ENTRY).mock(return_value=httpx.Response(503, json={"code": "UNAVAILABLE"}))
    reads = router.get(ENTRY).mock(return_value=httpx.Response(200, json=_body("old")))
    bounds = RunBounds(unavailable_seconds=1.0)
    retry = RetryPolicy(attempts=3, initial=0.5, max_wait=1.0, jitter=0.0)
    with _client(router, clock, bounds=bounds, retry=retry) as client:
        with pytest.raises(RemoteError) as caught:
            client.update_entry("Bans", "k", EntryData("new"))
        assert not isinstance(caught.value, ServiceUnavailable)
        assert reads.call_count >= 1  # each ambiguous failure was checked before a retry


def test_401_and_403_are_one_error_for_the_run_naming_variable_and_scope() -> None:
    router, clock = respx.Router(), Clock()
    route = router.get(LIST).mock(
        return_value=httpx.Response(403, json={"errors": [{"code": 0, "message": "no"}]})
    )
    with _client(router, clock) as client:
        with pytest.raises(AccessDenied) as caught:
            list(client.list_keys("Bans"))
        assert caught.value.scopes == ("universe-datastores.objects:list",)
        message = str(caught.value)
        assert "the API key in $PROD_KEY (environment 'prod') lacks permission" in message
        assert "`universe-datastores.objects:list` for universe 7" in message
        with pytest.raises(AccessDenied):
            client.get_entry("Bans", "k")
        assert route.call_count == 1 and clock.slept == []

    router = respx.Router()
    router.get(ENTRY).mock(return_value=httpx.Response(401, json={"errors": [{"code": 0}]}))
    with _client(router, Clock()) as client, pytest.raises(AccessDenied) as caught:
        client.get_entry("Bans", "k")
    assert "rejected the API key in $PROD_KEY (HTTP 401)" in str(caught.value)


class _H11Like(httpx.BaseTransport):
    """Refuses a header as h11 does, quoting the value (the key) in its message."""

    def __init__(self) -> None:
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        raise httpx.LocalProtocolError(f"Illegal header value {request.headers['x-api-key']!r}")


def test_a_local_error_is_not_retried_and_never_shows_the_key() -> None:
    clock = Clock()
    canary = "canary-1234\r"
    transport = _H11Like()
    with (
        OpenCloudClient(
            7,
            base_url=BASE,
            api_key=canary,
            transport=transport,
            sleep=clock.sleep,
            clock=clock,
        ) as client,
        pytest.raises(TransportError) as caught,
    ):
        client.get_entry("Bans", "k")
    assert clock.slept == [] and transport.calls == 1
    assert "canary-1234" not in str(caught.value)
    assert "could not be sent" in str(caught.value)
