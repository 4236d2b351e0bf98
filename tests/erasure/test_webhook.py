"""``dsgit webhook serve``'s server over real HTTP on 127.0.0.1 (tests/erasure)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dsgit.erasure.notification import ErasureNotification
from dsgit.erasure.seen import SeenNotifications
from dsgit.erasure.server import WebhookServer, WebhookSettings
from dsgit.erasure.signature import sign

SECRET = "canary-webhook-secret-7f3a"
NOW = 1_764_800_000.0
UNIVERSE = 5_000_001

# The sample Roblox documents for a RightToErasureRequest (Open Cloud webhooks page).
SAMPLE = {
    "NotificationId": "ba8b2f1d-c4e3-4d61-b8e7-6c0c4f2b9a10",
    "EventType": "RightToErasureRequest",
    "EventTime": "2023-12-30T16:24:24.2118874Z",
    "EventPayload": {"UserId": 1, "GameIds": [UNIVERSE, 1234]},
}


class Recorder:
    """The worker's callee: records what it was handed; blocks until released."""

    def __init__(self) -> None:
        self.handled: list[tuple[ErasureNotification, tuple[str, ...]]] = []
        self.release = threading.Event()
        self.started = threading.Event()

    def __call__(
        self, notification: ErasureNotification, envs: tuple[str, ...], attempt: int
    ) -> None:
        self.started.set()
        self.release.wait(timeout=30)
        self.handled.append((notification, envs))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def logs() -> list[str]:
    return []


@pytest.fixture
def server(tmp_path: Path, recorder: Recorder, logs: list[str]) -> Iterator[WebhookServer]:
    settings = WebhookSettings(
        SECRET, {UNIVERSE: ("production",)}, max_body=4096, clock=lambda: NOW
    )
    running = WebhookServer(
        settings, SeenNotifications(tmp_path / "seen.sqlite"), recorder, log=logs.append
    )
    running.start()
    yield running
    recorder.release.set()
    running.stop()


def _body(**changes: object) -> bytes:
    data = dict(SAMPLE)
    data.update(changes)
    return json.dumps(data).encode("utf-8")


def _post(
    server: WebhookServer,
    body: bytes,
    *,
    secret: str = SECRET,
    t: float = NOW,
    header: str | None = None,
) -> httpx.Response:
    signature = header if header is not None else sign(secret, int(t), body)
    return httpx.post(
        server.url + "roblox/erasure",
        content=body,
        headers={"roblox-signature": signature, "content-type": "application/json"},
        timeout=5.0,
    )


def test_the_documented_sample_is_answered_before_its_plan_is_built(
    server: WebhookServer, recorder: Recorder
) -> None:
    response = _post(server, _body())
    assert response.status_code == 200
    assert response.json() == {"status": "queued", "notification_id": SAMPLE["NotificationId"]}
    # The answer came back while the worker is still held inside the plan building.
    assert recorder.handled == []
    assert recorder.started.wait(timeout=10)
    recorder.release.set()
    server.drain()
    [(notification, envs)] = recorder.handled
    assert notification.user_id == 1
    assert notification.universe_ids == (UNIVERSE, 1234)
    assert envs == ("production",)


def test_requests_queue_behind_a_slow_one_in_order(
    server: WebhookServer, recorder: Recorder
) -> None:
    ids = [f"n-{i}" for i in range(3)]
    for notification_id in ids:
        assert _post(server, _body(NotificationId=notification_id)).status_code == 200
    assert recorder.handled == []
    recorder.release.set()
    server.drain()
    assert [n.notification_id for n, _ in recorder.handled] == ids


@pytest.mark.parametrize(
    ("kind", "expect"),
    [
        ("bad-signature", "signature does not match"),
        ("wrong-secret", "signature does not match"),
        ("stale", "stale timestamp"),
        ("future", "timestamp in the future"),
        ("no-header", "no roblox-signature header"),
    ],
)
def test_unsigned_or_badly_signed_requests_are_refused(
    server: WebhookServer, recorder: Recorder, kind: str, expect: str
) -> None:
    body = _body()
    if kind == "bad-signature":
        good = sign(SECRET, int(NOW), body)
        response = _post(server, body, header=good[:-6] + "AAAAA=")
    elif kind == "wrong-secret":
        response = _post(server, body, secret="another-secret")
    elif kind == "stale":
        response = _post(server, body, t=NOW - 601)
    elif kind == "future":
        response = _post(server, body, t=NOW + 3600)
    else:
        response = httpx.post(server.url, content=body, timeout=5.0)
    assert response.status_code == 401
    assert expect in response.json()["error"]
    recorder.release.set()
    server.drain()
    assert recorder.handled == []
    # A refused request does not use up its id: the genuine one is still accepted.
    assert _post(server, body).json()["status"] == "queued"


def test_a_body_signed_then_altered_is_refused(server: WebhookServer) -> None:
    body = _body()
    header = sign(SECRET, int(NOW), body)
    altered = body.replace(b'"UserId": 1', b'"UserId": 2')
    assert _post(server, altered, header=header).status_code == 401


def test_a_replayed_or_redelivered_notification_is_acted_on_once(
    server: WebhookServer, recorder: Recorder
) -> None:
    body = _body()
    first = _post(server, body)
    again = _post(server, body)  # Roblox's retry: same bytes
    replay = _post(server, body, t=NOW - 30)  # a captured request re-signed moments later
    assert first.json()["status"] == "queued"
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert replay.json()["status"] == "duplicate"
    recorder.release.set()
    server.drain()
    assert len(recorder.handled) == 1


def test_seen_ids_survive_a_restart_and_unfinished_work_is_requeued(tmp_path: Path) -> None:
    store = tmp_path / "seen.sqlite"
    held = Recorder()
    settings = WebhookSettings(SECRET, {UNIVERSE: ("production",)}, clock=lambda: NOW)
    first = WebhookServer(settings, SeenNotifications(store), held)
    # Not started: accepted and queued, then the process "dies" before its worker ran.
    status, _ = first.receive({"roblox-signature": sign(SECRET, int(NOW), _body())}, _body())
    assert status == 200
    first.stop()
    second_recorder = Recorder()
    second_recorder.release.set()
    second = WebhookServer(settings, SeenNotifications(store), second_recorder)
    second.start()
    try:
        second.drain()
        assert [n.notification_id for n, _ in second_recorder.handled] == [SAMPLE["NotificationId"]]
        assert _post(second, _body()).json()["status"] == "duplicate"
    finally:
        second.stop()


def test_oversized_body_is_refused_unread(server: WebhookServer, recorder: Recorder) -> None:
    body = _body(Padding="x" * 5000)
    response = _post(server, body)
    assert response.status_code == 413
    recorder.release.set()
    server.drain()
    assert recorder.handled == []


@pytest.mark.parametrize(
    ("body", "expect"),
    [
        (b"{not json", "body is not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({**SAMPLE, "EventType": "Other"}).encode(), "EventType"),
        (
            json.dumps({**SAMPLE, "EventPayload": {"UserId": "x", "GameIds": [1]}}).encode(),
            "UserId",
        ),
        (json.dumps({**SAMPLE, "EventPayload": {"UserId": 1}}).encode(), "GameIds"),
        (json.dumps({**SAMPLE, "NotificationId": "../../etc"}).encode(), "NotificationId"),
        # a dot could give two requests one plan file; a newline would forge a log line
        (json.dumps({**SAMPLE, "NotificationId": "n.production"}).encode(), "NotificationId"),
        (json.dumps({**SAMPLE, "NotificationId": "n\nfake"}).encode(), "NotificationId"),
        (json.dumps({**SAMPLE, "NotificationId": "n" * 101}).encode(), "NotificationId"),
    ],
)
def test_malformed_notifications_are_refused(
    server: WebhookServer, body: bytes, expect: str
) -> None:
    response = _post(server, body)
    assert response.status_code == 400
    assert expect in response.json()["error"]


def test_a_universe_no_environment_names_is_refused(server: WebhookServer) -> None:
    body = _body(EventPayload={"UserId": 7, "GameIds": [42]})
    response = _post(server, body)
    assert response.status_code == 422
    assert "universe 42" in response.json()["error"]


def test_the_secret_never_reaches_the_log_or_an_answer(
    server: WebhookServer, recorder: Recorder, logs: list[str]
) -> None:
    answers = [
        _post(server, _body()).text,
        _post(server, _body(), secret="wrong").text,
        _post(server, b"{").text,
    ]
    recorder.release.set()
    server.drain()
    assert logs
    assert all(SECRET not in line for line in logs + answers)


def test_a_row_edited_by_hand_or_a_store_error_does_not_stop_the_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker outlives what it reads from its store: a ``remaining`` that is not a JSON
    list (plans every environment again) and an SQLite error (logged, looked at again)."""
    import sqlite3

    import dsgit.erasure.server as server_module

    monkeypatch.setattr(server_module, "_ERROR_PAUSE", 0.05)
    store = tmp_path / "seen.sqlite"
    settings = WebhookSettings(SECRET, {UNIVERSE: ("production",)}, clock=lambda: NOW)
    first = WebhookServer(settings, SeenNotifications(store), Recorder())
    status, _ = first.receive({"roblox-signature": sign(SECRET, int(NOW), _body())}, _body())
    assert status == 200
    first.stop()
    with sqlite3.connect(store) as db:
        db.execute("UPDATE seen SET remaining = 'oops', attempts = 'x'")
    recorder, logs = Recorder(), []
    recorder.release.set()
    second = WebhookServer(settings, SeenNotifications(store), recorder, log=logs.append)
    real_due = second.seen.due
    failures = iter([sqlite3.OperationalError("database is locked")])

    def flaky_due(now: float) -> list[Any]:
        for error in failures:
            raise error
        return real_due(now)

    monkeypatch.setattr(second.seen, "due", flaky_due)
    second._worker.start()
    second.wake()
    try:
        deadline = time.monotonic() + 10
        while not recorder.handled and time.monotonic() < deadline:
            time.sleep(0.02)
        second.drain()
        assert [(n.notification_id, envs) for n, envs in recorder.handled] == [
            (SAMPLE["NotificationId"], ("production",))
        ]
        assert any("worker error" in line and "database is locked" in line for line in logs)
        assert second._worker.is_alive()
    finally:
        second.stop()


def test_the_request_path_is_not_logged(
    server: WebhookServer, recorder: Recorder, logs: list[str]
) -> None:
    body = _body()
    response = httpx.post(
        server.url + "hook?token=canary-path-token",
        content=body,
        headers={"roblox-signature": sign(SECRET, int(NOW), body)},
        timeout=5.0,
    )
    assert response.status_code == 200
    recorder.release.set()
    server.drain()
    assert logs and not any("canary-path-token" in line for line in logs)


def test_a_done_request_leaves_its_user_id_in_no_file(tmp_path: Path) -> None:
    """Clearing the request's JSON must not leave it in free pages or the write-ahead log."""
    store = SeenNotifications(tmp_path / "seen.sqlite")
    canary = "987654321123"
    try:
        store.claim("n-done", NOW, json.dumps({"EventPayload": {"UserId": int(canary)}}))
        assert any(canary.encode() in p.read_bytes() for p in tmp_path.iterdir())
        store.done("n-done")
        for path in tmp_path.iterdir():
            assert canary.encode() not in path.read_bytes(), path.name
        assert "n-done" in store
    finally:
        store.close()
