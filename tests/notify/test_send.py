"""Delivery against a real receiver on 127.0.0.1: signatures, retries, failures, canaries."""

from __future__ import annotations

import json
import time

import pytest

from dsgit.notify.events import EventKind
from dsgit.notify.send import deliver
from dsgit.notify.signing import SIGNATURE_HEADER, sign, verify
from dsgit.notify.sinks import Sink, SinkType
from notify.events import SECRET, URL_TOKEN, conflict_event, sinks
from notify.receiver import closed_port_url, receiver


def _no_sleep(seconds: float) -> None:
    assert seconds >= 0


def _environ(url: str) -> dict[str, str]:
    return {
        "TEST_DISCORD_URL": url + "/discord",
        "TEST_SLACK_URL": url + "/slack",
        "TEST_HOOK_URL": url + "/hook",
        "TEST_HOOK_SECRET": SECRET,
    }


def test_each_sink_gets_its_body_and_the_webhook_signature_verifies() -> None:
    with receiver() as rx:
        results = deliver(conflict_event(), sinks(), _environ(rx.url), sleep=_no_sleep)
    assert [(r.sink, r.ok, r.attempts) for r in results] == [
        ("chat", True, 1),
        ("team", True, 1),
        ("hook", True, 1),
    ]
    by_path = {req.path.rsplit("/", 1)[-1]: req for req in rx.requests}
    hook = by_path["hook"]
    header = hook.headers[SIGNATURE_HEADER]
    assert header.startswith("t=") and ",v1=" in header
    now = int(time.time())
    assert verify(SECRET, header, hook.body, now=now)
    assert not verify(SECRET, header, hook.body + b" ", now=now)  # a changed body
    assert not verify("another-secret", header, hook.body, now=now)
    assert not verify(SECRET, header, hook.body, now=now + 601)  # replayed too late
    assert SIGNATURE_HEADER not in by_path["discord"].headers  # chat sinks are not signed
    body = hook.json()
    assert body["type"] == "conflict" and body["environment"] == "production"
    assert body["counts"] == {"written": 3, "conflicts": 1}
    assert body["addresses_total"] == 2
    for request in rx.requests:
        assert request.headers["content-type"] == "application/json"
        assert SECRET not in request.body.decode() and URL_TOKEN not in request.body.decode()


def test_signature_is_roblox_style_base64_hmac_over_timestamp_dot_body() -> None:
    import base64
    import hashlib
    import hmac

    body = b'{"type":"apply"}'
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), b"1700000000." + body, hashlib.sha256).digest()
    ).decode()
    assert sign(SECRET, 1700000000, body) == f"t=1700000000,v1={expected}"
    assert not verify(SECRET, "v1=" + expected, body, now=1700000000)  # no timestamp
    assert not verify(SECRET, "t=x,v1=" + expected, body, now=1700000000)


def test_server_errors_are_retried_then_succeed() -> None:
    with receiver([500, 503, 204]) as rx:
        [result] = deliver(conflict_event(), sinks()[2:], _environ(rx.url), sleep=_no_sleep)
    assert (result.ok, result.attempts) == (True, 3)
    ids = {req.json()["id"] for req in rx.requests}
    assert len(ids) == 1  # a retry is the same delivery: receivers drop duplicates by id


def test_rate_limits_are_retried_after_the_time_asked() -> None:
    waits: list[float] = []
    with receiver([429, 204]) as rx:
        rx.headers["retry-after"] = "0.2"
        [result] = deliver(conflict_event(), sinks()[:1], _environ(rx.url), sleep=waits.append)
    assert result.ok and waits == [0.2]


def test_a_rate_limit_asking_too_long_or_nonsense_is_not_waited_for() -> None:
    waits: list[float] = []
    with receiver([429, 204]) as rx:
        rx.headers["retry-after"] = "3600"
        [late] = deliver(conflict_event(), sinks()[:1], _environ(rx.url), sleep=waits.append)
    assert (late.ok, late.problem, waits) == (False, "HTTP 429", [])
    with receiver([429, 204]) as rx:
        rx.headers["retry-after"] = "-5"
        [result] = deliver(conflict_event(), sinks()[:1], _environ(rx.url), sleep=waits.append)
    assert result.ok and waits == [0.0]


@pytest.mark.parametrize(("status", "attempts"), [(500, 4), (404, 1), (401, 1)])
def test_a_failing_sink_reports_in_its_own_words(status: int, attempts: int) -> None:
    with receiver([status]) as rx:
        [result] = deliver(conflict_event(), sinks()[:1], _environ(rx.url), sleep=_no_sleep)
    assert (result.ok, result.attempts, result.problem) == (False, attempts, f"HTTP {status}")


def test_connection_refused() -> None:
    [result] = deliver(conflict_event(), sinks()[:1], _environ(closed_port_url()), sleep=_no_sleep)
    assert (result.ok, result.problem, result.attempts) == (False, "connection refused", 4)
    assert URL_TOKEN not in repr(result)


def test_a_hanging_sink_times_out_within_the_deadline() -> None:
    with receiver(hang=2.0) as rx:
        [result] = deliver(conflict_event(), sinks()[:1], _environ(rx.url), deadline=0.4)
    assert not result.ok and result.problem in ("timed out", "out of time")
    assert URL_TOKEN not in repr(result)


def test_missing_variables_are_reported_without_sending() -> None:
    with receiver() as rx:
        environ = _environ(rx.url)
        del environ["TEST_HOOK_SECRET"], environ["TEST_SLACK_URL"]
        environ["TEST_DISCORD_URL"] = "discord.com/api/webhooks/no-scheme"
        results = deliver(conflict_event(), sinks(), environ, sleep=_no_sleep)
    assert [r.problem for r in results] == [
        "$TEST_DISCORD_URL does not hold an http(s) URL",
        "$TEST_SLACK_URL is not set",
        "$TEST_HOOK_SECRET (its signing secret) is not set",
    ]
    assert rx.requests == []


def test_sinks_get_only_the_events_and_environments_they_want() -> None:
    only_drift = Sink(
        "d",
        SinkType.WEBHOOK,
        "TEST_HOOK_URL",
        "TEST_HOOK_SECRET",
        events=frozenset({EventKind.DRIFT}),
    )
    only_staging = Sink(
        "s", SinkType.DISCORD, "TEST_DISCORD_URL", environments=frozenset({"staging"})
    )
    with receiver() as rx:
        assert deliver(conflict_event(), (only_drift, only_staging), _environ(rx.url)) == []
        test = conflict_event(kind=EventKind.TEST)
        assert len(deliver(test, (only_drift, only_staging), _environ(rx.url))) == 2
    assert len(rx.requests) == 2  # a test event reaches every sink


def test_a_secret_in_a_message_is_redacted_from_every_body() -> None:
    # dsgit's messages never hold secrets; if one ever did, the body still would not.
    leaky = conflict_event(reasons=(f"bad key {SECRET} at {URL_TOKEN}",))
    with receiver() as rx:
        environ = _environ(rx.url)
        deliver(leaky, sinks(), environ, sleep=_no_sleep, extra_secrets=("API-KEY-CANARY-77",))
        deliver(
            conflict_event(reasons=("API-KEY-CANARY-77",)),
            sinks(),
            environ,
            extra_secrets=("API-KEY-CANARY-77",),
        )
    for request in rx.requests:
        text = request.body.decode()
        assert SECRET not in text and "API-KEY-CANARY-77" not in text
        assert "(redacted)" in text
    hook = next(r for r in rx.requests if r.path.endswith("/hook"))
    assert json.loads(hook.body)["reasons"][0].startswith("bad key (redacted)")
