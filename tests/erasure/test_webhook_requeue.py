"""``dsgit webhook list`` and ``dsgit webhook requeue``: what an operator sees of the store and
how a request the server gave up on is tried again (by a running server too)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from dsgit.cli.erasure import SEEN_FILE
from dsgit.erasure.notification import ErasureNotification
from dsgit.erasure.seen import FAILED, QUEUED, SeenNotifications
from dsgit.erasure.server import WebhookServer, WebhookSettings
from support import LOCAL_CONFIG, invoke_cli, write_files

USER = 77_300_118
REQUEST = json.dumps(
    {
        "NotificationId": "n-gave-up",
        "EventType": "RightToErasureRequest",
        "EventPayload": {"UserId": USER, "GameIds": [1]},
    }
)


def _repo(tmp_path: Path) -> Path:
    root = write_files(tmp_path / "repo", {"dsgit.yaml": LOCAL_CONFIG})
    store = SeenNotifications(root / SEEN_FILE)
    try:
        store.claim("n-gave-up", 1_764_800_000.0, REQUEST)
        store.failed("n-gave-up", attempts=8)
        store.claim("n-done", 1_764_800_100.0, REQUEST.replace("n-gave-up", "n-done"))
        store.done("n-done")
    finally:
        store.close()
    return root


def test_list_shows_states_never_the_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _repo(tmp_path)
    code, out, err = invoke_cli(["-C", str(root), "webhook", "list", "--format", "json"], capsys)
    assert code == 0, err
    rows = json.loads(out)
    assert [(r["notification_id"], r["state"], r["attempts"]) for r in rows] == [
        ("n-gave-up", FAILED, 8),
        ("n-done", "done", 0),
    ]
    assert rows[0]["accepted"] == "2025-12-03T22:13:20Z"
    code, text, err = invoke_cli(["-C", str(root), "webhook", "list"], capsys)
    assert code == 0 and "n-gave-up  failed" in text and "8 failed attempt(s)" in text
    assert str(USER) not in out + text + err


def test_list_of_a_repository_that_never_served(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files(tmp_path / "repo", {"dsgit.yaml": LOCAL_CONFIG})
    code, out, _ = invoke_cli(["-C", str(root), "webhook", "list"], capsys)
    assert code == 0 and "No requests" in out
    assert not (root / SEEN_FILE).exists()  # listing makes no store


def test_requeue_a_failed_request_and_refuse_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _repo(tmp_path)
    base = ["-C", str(root), "webhook", "requeue"]
    code, out, err = invoke_cli([*base, "n-gave-up"], capsys)
    assert code == 0 and "Queued n-gave-up again (after 8 failed attempts)" in out, err
    store = SeenNotifications(root / SEEN_FILE)
    try:
        row = store.get("n-gave-up")
        assert row is not None and row.state == QUEUED and row.attempts == 0
        assert row.request == REQUEST
    finally:
        store.close()
    for name, why in [
        ("n-gave-up", "it is queued, not failed"),
        ("n-done", "it is done, not failed"),
        ("n-unknown", "no such request"),
    ]:
        code, out, err = invoke_cli([*base, name], capsys)
        assert code == 1 and why in err and SEEN_FILE in err, (name, err)
        assert "Traceback" not in err


def test_a_running_server_picks_up_a_requeued_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dsgit.erasure.server as server_module

    monkeypatch.setattr(server_module, "_MAX_SLEEP", 0.05)
    path = tmp_path / "seen.sqlite"
    handled: list[str] = []

    def process(n: ErasureNotification, envs: tuple[str, ...], attempt: int) -> None:
        handled.append(n.notification_id)

    first = SeenNotifications(path)
    first.claim("n-gave-up", time.time(), REQUEST)
    first.failed("n-gave-up", attempts=8)
    first.close()
    server = WebhookServer(WebhookSettings("s" * 16, {1: ("p",)}), SeenNotifications(path), process)
    server.start()
    try:
        server.drain()
        assert handled == []  # failed: not tried again by itself
        other = SeenNotifications(path)  # what `dsgit webhook requeue` does, from outside
        assert other.requeue("n-gave-up", time.time()) is not None
        other.close()
        deadline = time.monotonic() + 10
        while not handled and time.monotonic() < deadline:
            time.sleep(0.02)
        assert handled == ["n-gave-up"]
    finally:
        server.stop()
