"""``dsgit webhook serve``: Roblox's right-to-erasure webhook, answered at once, acted on later.

Every POST (at any path) goes through, in order: the body-size cap (413), the signature over
the raw body with its timestamp (401), the JSON of a ``RightToErasureRequest`` (400), the
universes it names against ``dsgit.yaml`` (422 when none is known), the ``NotificationId``
(a duplicate or replay answers 200 ``duplicate`` and is not acted on again: Roblox stops
retrying). An accepted request is recorded as ``queued`` in the persistent store *before* the
200 goes out, then handed to one background worker, which builds the erasure plans; the
answer never waits for a scan. A restarted server re-queues what was accepted and not done.

The secret is held by the server and never printed; log lines name the notification, the
status and the reason only.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dsgit.erasure.notification import (
    ErasureNotification,
    NotificationRejected,
    parse_notification,
)
from dsgit.erasure.seen import SeenNotifications
from dsgit.erasure.signature import SignatureRejected, verify

__all__ = ["MAX_BODY_BYTES", "WebhookServer", "WebhookSettings"]

MAX_BODY_BYTES = 64 * 1024  # a notification is a few hundred bytes

Process = Callable[[ErasureNotification, tuple[str, ...]], None]
Log = Callable[[str], None]


@dataclass(frozen=True)
class WebhookSettings:
    """What the server checks against: the secret, the universes it serves, the cap."""

    secret: str
    universes: Mapping[int, tuple[str, ...]]  # universe id -> environment names
    max_body: int = MAX_BODY_BYTES
    clock: Callable[[], float] = time.time


class WebhookServer:
    """The HTTP server and its worker; ``process`` is called on the worker thread, once per
    accepted notification, with the names of the environments its universes map to."""

    def __init__(
        self,
        settings: WebhookSettings,
        seen: SeenNotifications,
        process: Process,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log: Log = lambda line: None,
    ) -> None:
        self.settings = settings
        self.seen = seen
        self.process = process
        self.log = log
        self._queue: queue.Queue[ErasureNotification | None] = queue.Queue()
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._worker = threading.Thread(target=self._work, name="erasure-worker", daemon=True)
        self._serving: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> None:
        """Serve on a background thread (tests); :meth:`serve_forever` blocks instead."""
        self._requeue()
        self._worker.start()
        self._serving = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._serving.start()

    def serve_forever(self) -> None:
        self._requeue()
        self._worker.start()
        try:
            self._httpd.serve_forever()
        finally:
            self._finish()

    def stop(self) -> None:
        """Stop taking requests, let the worker finish what is queued, close the store."""
        if self._serving is not None:
            self._httpd.shutdown()
        self._finish()

    def _finish(self) -> None:
        self._httpd.server_close()
        if self._worker.is_alive():
            self._queue.put(None)
            self._worker.join()
        self.seen.close()

    def drain(self) -> None:
        """Wait until every queued notification has been processed."""
        self._queue.join()

    def _requeue(self) -> None:
        for raw in self.seen.pending():
            notification = parse_notification(raw.encode("utf-8"))
            self.log(
                f"webhook: {notification.notification_id} re-queued (accepted before a restart)"
            )
            self._queue.put(notification)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._handle(item)
            finally:
                self._queue.task_done()

    def _handle(self, notification: ErasureNotification) -> None:
        environments = self.environments_of(notification)
        try:
            self.process(notification, environments)
        except Exception as exc:  # the worker must outlive one bad request; it stays queued
            self.log(f"webhook: {notification.notification_id} failed: {exc}")
            return
        self.seen.done(notification.notification_id)
        self.log(f"webhook: {notification.notification_id} handled")

    def environments_of(self, notification: ErasureNotification) -> tuple[str, ...]:
        names: list[str] = []
        for universe in notification.universe_ids:
            names.extend(self.settings.universes.get(universe, ()))
        return tuple(dict.fromkeys(names))

    def receive(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """Decide one request (see the module docstring): the status and the JSON answer."""
        try:
            verify(
                headers.get("roblox-signature"), body, self.settings.secret, self.settings.clock()
            )
        except SignatureRejected as exc:
            return 401, {"error": str(exc)}
        try:
            notification = parse_notification(body)
        except NotificationRejected as exc:
            return 400, {"error": str(exc)}
        if not self.environments_of(notification):
            known = ", ".join(str(u) for u in notification.universe_ids)
            return 422, {"error": f"no environment in dsgit.yaml has universe {known}"}
        request = json.dumps(json.loads(body.decode("utf-8")), sort_keys=True)
        if not self.seen.claim(notification.notification_id, self.settings.clock(), request):
            return 200, {"status": "duplicate", "notification_id": notification.notification_id}
        self._queue.put(notification)
        return 200, {"status": "queued", "notification_id": notification.notification_id}


def _handler_for(server: WebhookServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "dsgit-webhook"
        sys_version = ""

        def do_POST(self) -> None:
            length_text = self.headers.get("Content-Length")
            if length_text is None or not length_text.isdigit():
                self._answer(411, {"error": "Content-Length required"})
                return
            length = int(length_text)
            if length > server.settings.max_body:
                self.close_connection = True
                self._answer(413, {"error": f"body over {server.settings.max_body} bytes"})
                return
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, answer = server.receive(headers, body)
            self._answer(status, answer)

        def do_GET(self) -> None:
            self._answer(405, {"error": "POST a notification"})

        def _answer(self, status: int, answer: Mapping[str, Any]) -> None:
            data = json.dumps(answer).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            reason = answer.get("error") or answer.get("status")
            server.log(f"webhook: {self.command} {self.path} -> {status} {reason}")

        def log_message(self, format: str, *args: Any) -> None:
            return  # our own line in _answer; http.server's would print headers' neighbours

    return Handler
