"""``dsgit webhook serve``: Roblox's right-to-erasure webhook, answered at once, acted on later.

Every POST (at any path) goes through, in order: the ``Content-Length`` (411 without one), the
body-size cap (413), reading the body within ``read_timeout`` (408 for a client that stalls),
the signature over the raw body with its timestamp (401), the JSON of a
``RightToErasureRequest`` (400), the universes it names against ``dsgit.yaml`` (422 when none
is known), the ``NotificationId`` (a duplicate or replay answers 200 ``duplicate`` and is not
acted on again: Roblox stops retrying). An accepted request is recorded as ``queued`` in the
persistent store *before* the 200 goes out; the answer never waits for a scan.

One background worker thread runs every request that is due (see :mod:`dsgit.erasure.seen`
for the states), oldest first, and sleeps until the next retry is due, a new request comes
in, or :meth:`WebhookServer.stop` (which wakes it at once). ``process`` tells it what came of
each request (:class:`PlanOutcome`):

- an environment whose plan failed is tried again after ``first_retry`` seconds, doubling each
  time up to ``retry_every``, at most ``max_attempts`` times; then the request is ``failed``
  and ``gave_up`` is told (a final notification);
- an environment whose plan left out entries held by a game server's session lock is tried
  again every ``retry_every`` (``waiting-for-session``) until nothing is left out, or until
  ``deadline`` seconds after the request was accepted (Roblox's 30 days), when it is
  ``failed`` too;
- otherwise the request is ``done``.

A restarted server picks up every open request when it is due. The secret is held by the
server and never printed; log lines name the notification, the status and a reason with no
user id, address or URL (:func:`dsgit.erasure.notification.redacted`).
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dsgit.erasure.notification import (
    ErasureNotification,
    NotificationRejected,
    parse_notification,
    redacted,
)
from dsgit.erasure.seen import QUEUED, WAITING, Pending, SeenNotifications
from dsgit.erasure.signature import SignatureRejected, verify

__all__ = [
    "DEADLINE_SECONDS",
    "MAX_BODY_BYTES",
    "MAX_CONNECTIONS",
    "PlanOutcome",
    "WebhookServer",
    "WebhookSettings",
]

MAX_BODY_BYTES = 64 * 1024  # a notification is a few hundred bytes
MAX_CONNECTIONS = 32  # open connections at once; more are closed unanswered
DEADLINE_SECONDS = 30 * 24 * 3600  # Roblox expects the data erased within 30 days
_MAX_SLEEP = 60.0  # the worker looks at the clock at least this often (real seconds)
_ERROR_PAUSE = 5.0  # after an error of the store, the worker looks again this much later
_WAKE, _STOP = "wake", "stop"


@dataclass(frozen=True)
class PlanOutcome:
    """What became of one attempt at a request: the environments whose plan failed (each with
    a reason naming no user, address or secret) and those whose plan left out entries held by
    a session lock. Neither: every plan was written (and applied where the policy says so)."""

    failed: Mapping[str, str] = field(default_factory=dict)
    locked: tuple[str, ...] = ()


# (notification, environments, attempt number from 1) -> outcome; None means all done
Process = Callable[[ErasureNotification, tuple[str, ...], int], PlanOutcome | None]
# (notification, environments, status) when the server stops retrying a request
GiveUp = Callable[[ErasureNotification, tuple[str, ...], str], None]
Log = Callable[[str], None]


@dataclass(frozen=True)
class WebhookSettings:
    """What the server checks against (the secret, the universes it serves, the cap, the body
    read timeout) and how it retries (seconds; ``clock`` gives unix seconds)."""

    secret: str
    universes: Mapping[int, tuple[str, ...]]  # universe id -> environment names
    max_body: int = MAX_BODY_BYTES
    clock: Callable[[], float] = time.time
    read_timeout: float = 10.0
    retry_every: float = 15 * 60.0
    first_retry: float = 60.0
    max_attempts: int = 8
    deadline: float = DEADLINE_SECONDS

    def backoff(self, attempt: int) -> float:
        """Seconds before retrying after failed attempt ``attempt`` (1, 2, ...)."""
        return float(min(self.first_retry * 2.0 ** (attempt - 1), self.retry_every))


class WebhookServer:
    """The HTTP server and its worker; ``process`` is called on the worker thread, once per
    attempt at an accepted notification, with the names of the environments still to plan."""

    def __init__(
        self,
        settings: WebhookSettings,
        seen: SeenNotifications,
        process: Process,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log: Log = lambda line: None,
        gave_up: GiveUp = lambda notification, environments, status: None,
    ) -> None:
        self.settings = settings
        self.seen = seen
        self.process = process
        self.gave_up = gave_up
        self.log = log
        self._signals: queue.Queue[str] = queue.Queue()
        self._httpd = _Server((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._worker = threading.Thread(target=self._work, name="erasure-worker", daemon=True)
        self._serving: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> None:
        """Serve on a background thread (tests); :meth:`serve_forever` blocks instead."""
        self._begin()
        self._serving = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._serving.start()

    def serve_forever(self) -> None:
        self._begin()
        try:
            self._httpd.serve_forever()
        finally:
            self._finish()

    def stop(self) -> None:
        """Stop taking requests, let the worker finish what is due now (later retries stay in
        the store for the next start), close the store."""
        if self._serving is not None:
            self._httpd.shutdown()
        self._finish()

    def wake(self) -> None:
        """Have the worker look for due requests now (a test that moved its clock)."""
        self._signals.put(_WAKE)

    def drain(self) -> None:
        """Wait until the worker has run everything due when it was last woken."""
        self._signals.join()

    def _begin(self) -> None:
        for row in self.seen.due(self.settings.clock()):
            self.log(f"webhook: {row.notification_id} re-queued (accepted before a restart)")
        self._worker.start()
        self.wake()

    def _finish(self) -> None:
        self._httpd.server_close()
        if self._worker.is_alive():
            self._signals.put(_STOP)
            self._worker.join()
        self.seen.close()

    def _sleep(self) -> float | None:
        """How long the worker may wait for a signal: until the next retry is due."""
        due = self.seen.next_retry()
        if due is None:  # still look now and then: `dsgit webhook requeue` writes to the store
            return _MAX_SLEEP
        return min(max(0.0, due - self.settings.clock()), _MAX_SLEEP)

    def _work(self) -> None:
        pause: float | None = None  # after a store error: wait before the next look
        while True:
            try:
                timeout = pause if pause is not None else self._sleep()
                signal = self._signals.get(timeout=timeout)
            except queue.Empty:  # a retry came due (or the pause after an error is over)
                pause = self._attempt(self._run_due)
                continue
            except Exception as exc:  # the store cannot say when the next retry is due
                pause = self._failed_look(exc)
                continue
            try:
                if signal == _STOP:
                    return
                pause = self._attempt(self._run_due)
            finally:
                self._signals.task_done()

    def _attempt(self, run: Callable[[], None]) -> float | None:
        """Run ``run``; an error of the store (locked, disk full, a row edited by hand) must not
        end the worker while the HTTP side keeps answering 200: log it, look again soon."""
        try:
            run()
        except Exception as exc:
            return self._failed_look(exc)
        return None

    def _failed_look(self, exc: Exception) -> float:
        self.log(f"webhook: worker error, trying again in {_ERROR_PAUSE:.0f}s: {_brief(exc)}")
        return _ERROR_PAUSE

    def _run_due(self) -> None:
        tried: set[str] = set()  # one attempt per request per wake: no spinning on a clock
        while True:
            rows = self.seen.due(self.settings.clock())
            row = next((r for r in rows if r.notification_id not in tried), None)
            if row is None:
                return
            tried.add(row.notification_id)
            try:
                self._handle(row)
            except Exception as exc:  # a row that cannot even be read: give up on it
                self.seen.failed(row.notification_id, attempts=row.attempts + 1)
                self.log(f"webhook: {row.notification_id} failed: {type(exc).__name__}")

    def _handle(self, row: Pending) -> None:
        assert row.request is not None
        notification = parse_notification(row.request.encode("utf-8"))
        environments = row.remaining
        if environments is None:
            environments = self.environments_of(notification)
        attempt = row.attempts + 1
        try:
            outcome = self.process(notification, environments, attempt) or PlanOutcome()
        except Exception as exc:  # the worker must outlive one bad request
            reason = redacted(f"{type(exc).__name__}: {exc}", notification.user_id)
            outcome = PlanOutcome(failed=dict.fromkeys(environments, reason))
        self._settle(row, notification, outcome, attempt)

    def _settle(
        self, row: Pending, notification: ErasureNotification, outcome: PlanOutcome, attempt: int
    ) -> None:
        settings, now, nid = self.settings, self.settings.clock(), row.notification_id
        if outcome.failed:
            left = tuple(dict.fromkeys((*outcome.failed, *outcome.locked)))
            reason = "; ".join(f"{env}: {why}" for env, why in outcome.failed.items())
            if attempt >= settings.max_attempts:
                self.seen.failed(nid, attempts=attempt)
                self._give_up(notification, left, f"gave up after {attempt} attempts: {reason}")
                return
            delay = settings.backoff(attempt)
            self.seen.retry(nid, QUEUED, attempts=attempt, retry_at=now + delay, remaining=left)
            self.log(f"webhook: {nid} attempt {attempt} failed ({reason}); retry in {delay:g} s")
            return
        if outcome.locked:
            deadline = row.accepted + settings.deadline
            if now >= deadline:
                self.seen.failed(nid, attempts=row.attempts)
                self._give_up(
                    notification,
                    outcome.locked,
                    "gave up: Roblox's 30-day deadline passed with entries still held by a "
                    "game server's session lock",
                )
                return
            retry_at = min(now + settings.retry_every, deadline)
            self.seen.retry(nid, WAITING, attempts=0, retry_at=retry_at, remaining=outcome.locked)
            self.log(f"webhook: {nid} {WAITING}: retry at {_iso(retry_at)}")
            return
        self.seen.done(nid)
        self.log(f"webhook: {nid} handled")

    def _give_up(
        self, notification: ErasureNotification, environments: tuple[str, ...], why: str
    ) -> None:
        status = f"failed ({why})"
        self.log(f"webhook: {notification.notification_id} {status}")
        try:
            self.gave_up(notification, environments, status)
        except Exception as exc:  # a broken sink must not stop the worker
            text = redacted(str(exc), notification.user_id)
            self.log(f"webhook: {notification.notification_id} not reported: {text}")

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
        self.wake()
        return 200, {"status": "queued", "notification_id": notification.notification_id}


def _iso(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="seconds")


class _Server(ThreadingHTTPServer):
    """At most ``MAX_CONNECTIONS`` connections at once (Roblox sends a few a day): one more is
    closed unanswered rather than given a thread, so stalled clients cannot exhaust them."""

    request_queue_size = 64  # the listen backlog: a burst waits to be accepted, not dropped

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up or stalls mid-request is normal: no traceback for it."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


def _handler_for(server: WebhookServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "dsgit-webhook"
        sys_version = ""
        timeout = server.settings.read_timeout  # the socket's: a stalled body is a 408

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
            try:
                body = self._body(length)
            except TimeoutError:
                self.close_connection = True
                self._answer(408, {"error": "the body did not arrive in time"})
                return
            if len(body) < length:  # the client hung up before the whole body
                self.close_connection = True
                return
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, answer = server.receive(headers, body)
            self._answer(status, answer)

        def handle(self) -> None:
            """One request per connection (HTTP/1.0), the whole of it (headers and body) within
            twice ``read_timeout``: a client trickling header bytes is cut off then too."""
            watchdog = threading.Timer(2 * server.settings.read_timeout, self._cut_off)
            watchdog.daemon = True
            watchdog.start()
            try:
                super().handle()
            finally:
                watchdog.cancel()

        def _cut_off(self) -> None:
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def _body(self, length: int) -> bytes:
            """The body, all of it within ``read_timeout`` (the socket's timeout alone counts
            per read: a byte every few seconds would hold the thread for days)."""
            deadline = time.monotonic() + server.settings.read_timeout
            chunks: list[bytes] = []
            left = length
            while left > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                self.connection.settimeout(remaining)
                chunk = self.rfile.read1(left)
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            return b"".join(chunks)

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
            # never the path: a URL may carry a routing token
            server.log(f"webhook: {self.command} -> {status} {reason}")

        def log_message(self, format: str, *args: Any) -> None:
            return  # our own line in _answer; http.server's would print headers' neighbours

    return Handler


def _brief(exc: Exception) -> str:
    """An error of the worker's own machinery for the log: SQLite's messages name no data
    ("database is locked"); anything else is named by its type only."""
    if isinstance(exc, sqlite3.Error):
        return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}"
    return type(exc).__name__
