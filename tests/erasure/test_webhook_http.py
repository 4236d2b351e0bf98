"""``dsgit webhook serve``'s HTTP edges over a real server on 127.0.0.1: 411 and 408 through
raw sockets, and the 200 that comes back while the REAL worker is still planning against a
served emulator slowed by a latency fault."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dsgit.config import load_project_config
from dsgit.emulator import Emulator, FaultSpec
from dsgit.erasure.notification import ErasureNotification
from dsgit.erasure.seen import DONE, SeenNotifications
from dsgit.erasure.server import MAX_CONNECTIONS, WebhookServer, WebhookSettings
from dsgit.erasure.signature import sign
from dsgit.erasure.worker import ErasureWorker
from dsgit.model.entry import EntryData
from dsgit.planfile import read_any_plan
from dsgit.remote.testing import emulated_client
from support import write_files

SECRET = "canary-http-secret-5d0e"
UNIVERSE = 7
USER = 31_337_042


def _notification(notification_id: str = "n-http") -> bytes:
    return json.dumps(
        {
            "NotificationId": notification_id,
            "EventType": "RightToErasureRequest",
            "EventTime": "2026-12-04T00:00:00Z",
            "EventPayload": {"UserId": USER, "GameIds": [UNIVERSE]},
        }
    ).encode()


def _signed(body: bytes) -> dict[str, str]:
    return {"roblox-signature": sign(SECRET, int(time.time()), body)}


def _read_answer(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        chunk = sock.recv(4096)
        if not chunk:  # the server closed the connection
            return b"".join(chunks)
        chunks.append(chunk)


class Handled:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, notification: ErasureNotification, envs: tuple[str, ...], n: int) -> None:
        self.calls.append(notification.notification_id)


@pytest.fixture
def quick(tmp_path: Path) -> Iterator[tuple[WebhookServer, Handled]]:
    handled = Handled()
    server = WebhookServer(
        WebhookSettings(SECRET, {UNIVERSE: ("production",)}, read_timeout=0.5),
        SeenNotifications(tmp_path / "seen.sqlite"),
        handled,
    )
    server.start()
    yield server, handled
    server.stop()


def _address(server: WebhookServer) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").rstrip("/").split(":")
    return host, int(port)


def test_a_post_without_content_length_gets_411(quick: tuple[WebhookServer, Handled]) -> None:
    server, handled = quick
    body = _notification()
    with socket.create_connection(_address(server), timeout=5) as sock:
        signature = _signed(body)["roblox-signature"]
        head = f"POST /hook HTTP/1.1\r\nHost: x\r\nroblox-signature: {signature}\r\n"
        sock.sendall(head.encode() + b"Transfer-Encoding: chunked\r\n\r\n")
        answer = _read_answer(sock)
    assert answer.startswith(b"HTTP/1.0 411 ")
    assert b"Content-Length required" in answer
    server.drain()
    assert handled.calls == []


def test_a_stalled_body_gets_408_and_others_are_served_meanwhile(
    quick: tuple[WebhookServer, Handled],
) -> None:
    server, handled = quick
    body = _notification("n-stalled")
    began = time.monotonic()
    with socket.create_connection(_address(server), timeout=10) as stalled:
        head = (
            f"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
            f"roblox-signature: {_signed(body)['roblox-signature']}\r\n\r\n"
        )
        stalled.sendall(head.encode() + body[:10])  # ... and nothing more
        # another client is answered while that one stalls
        other = _notification("n-other")
        response = httpx.post(server.url, content=other, headers=_signed(other), timeout=5)
        assert response.status_code == 200 and response.json()["status"] == "queued"
        answer = _read_answer(stalled)  # returns once the server closes the connection
    waited = time.monotonic() - began
    assert answer.startswith(b"HTTP/1.0 408 ")
    assert b"did not arrive in time" in answer
    assert 0.4 < waited < 5
    server.drain()
    assert handled.calls == ["n-other"]
    # the stalled notification was never accepted: its complete delivery is
    good = httpx.post(server.url, content=body, headers=_signed(body), timeout=5)
    assert good.json()["status"] == "queued"


def _trickle(sock: socket.socket, data: bytes, every: float, finished: threading.Event) -> None:
    """Send ``data`` a byte at a time (a slow-loris client), stopping when the server hangs up."""
    with contextlib.suppress(OSError):
        for byte in data:
            sock.sendall(bytes([byte]))
            time.sleep(every)
        finished.set()


@pytest.mark.parametrize("part", ["body", "headers"])
def test_a_trickled_request_is_cut_off_within_its_deadline(
    quick: tuple[WebhookServer, Handled], part: str
) -> None:
    """The socket timeout counts per read: a byte every 0.2 s never trips a 0.5 s one. The
    whole body must come within read_timeout (408), the whole request within twice it."""
    server, handled = quick
    body = _notification("n-trickled")
    head = (
        f"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
        f"roblox-signature: {_signed(body)['roblox-signature']}\r\n\r\n"
    ).encode()
    finished = threading.Event()
    with socket.create_connection(_address(server), timeout=10) as sock:
        if part == "body":
            sock.sendall(head)
            slow = body
        else:
            sock.sendall(head[:20])
            slow = head[20:] + body
        # ~ 40 s to send it all at this pace; the server hangs up long before
        sender = threading.Thread(target=_trickle, args=(sock, slow, 0.2, finished), daemon=True)
        sender.start()
        answer = _read_answer(sock)
    assert not finished.is_set()
    if part == "body":
        assert answer.startswith(b"HTTP/1.0 408 ")
    else:
        assert answer == b""  # cut off without an answer: it never finished its headers
    server.drain()
    assert handled.calls == []


def test_connections_beyond_the_cap_are_closed_and_serving_goes_on(tmp_path: Path) -> None:
    handled = Handled()
    server = WebhookServer(
        WebhookSettings(SECRET, {UNIVERSE: ("production",)}, read_timeout=30),
        SeenNotifications(tmp_path / "seen.sqlite"),
        handled,
    )
    server.start()
    idle: list[socket.socket] = []
    try:
        for _ in range(MAX_CONNECTIONS):
            sock = socket.create_connection(_address(server), timeout=10)
            sock.sendall(b"POST /hook HTTP/1.1\r\n")  # and nothing more: each holds a slot
            idle.append(sock)
        time.sleep(0.2)  # let the server accept them all
        with socket.create_connection(_address(server), timeout=10) as extra:
            extra.sendall(b"POST /hook HTTP/1.1\r\n")
            assert _read_answer(extra) == b""  # closed at once, no thread given
        for sock in idle:
            sock.close()
        body = _notification("n-after-cap")
        deadline = time.monotonic() + 10
        while True:  # the slots come back as the handlers see their clients gone
            try:
                response = httpx.post(server.url, content=body, headers=_signed(body), timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert response.status_code == 200 and response.json()["status"] == "queued"
        server.drain()
        assert handled.calls == ["n-after-cap"]
    finally:
        for sock in idle:
            sock.close()
        server.stop()


CONFIG = """\
version: 1
default_environment: production
environments:
  production:
    universe_id: 7
    url: {url}
    api_key_env: DSGIT_HOOK_TEST_KEY
    budget: {{ccu: 20000, share: 1}}
"""
POLICY = """\
version: 1
user_data_templates:
  - key_template: {data_store_type: STANDARD, data_store_name: PlayerStore, key_pattern: "{UserId}"}
"""
LATENCY = 1.5  # every request to the emulator; a plan makes at least one


@pytest.mark.slow
def test_the_200_comes_back_while_the_real_worker_plans_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSGIT_HOOK_TEST_KEY", "any-key")
    emulator = Emulator(db=":memory:")
    with emulated_client(emulator, universe_id=UNIVERSE) as api:
        api.create_entry("PlayerStore", str(USER), EntryData({"Coins": 5}, {}, (USER,)))
        api.create_entry("PlayerStore", "11", EntryData({"Coins": 6}))
    emulator.faults = FaultSpec(latency_min=LATENCY, latency_max=LATENCY)
    with emulator.serve() as served:
        root = write_files(
            tmp_path / "repo",
            {"dsgit.yaml": CONFIG.format(url=served.url), "policies/erasure.yaml": POLICY},
        )
        out = tmp_path / "plans"
        out.mkdir()
        seen = SeenNotifications(root / ".dsgit" / "webhook-seen.sqlite")
        worker = ErasureWorker(root, load_project_config(root), out)
        server = WebhookServer(WebhookSettings(SECRET, {UNIVERSE: ("production",)}), seen, worker)
        server.start()
        try:
            body = _notification()
            began = time.monotonic()
            response = httpx.post(server.url, content=body, headers=_signed(body), timeout=5)
            answered = time.monotonic() - began
            plan_path = out / "n-http.json"
            assert response.status_code == 200 and response.json()["status"] == "queued"
            assert answered < 5  # Roblox's limit; in fact well under one emulator request
            assert answered < LATENCY
            assert not plan_path.exists()  # the worker is still waiting on the emulator
            deadline = time.monotonic() + 60
            while not plan_path.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            server.drain()
            planned = time.monotonic() - began
        finally:
            server.stop()
    assert planned >= LATENCY  # the plan did take longer than the answer
    plan = read_any_plan(plan_path)
    assert [str(c.address) for c in plan.changes] == [f"PlayerStore/global/{USER}"]  # type: ignore[union-attr]
    [line] = [json.loads(x) for x in (out / "queue.jsonl").read_text().splitlines()]
    assert line["status"] == "awaiting-approval" and line["plan_digest"] == plan.digest  # type: ignore[union-attr]
    reopened = SeenNotifications(root / ".dsgit" / "webhook-seen.sqlite")
    try:
        row = reopened.get("n-http")
        assert row is not None and row.state == DONE
    finally:
        reopened.close()
