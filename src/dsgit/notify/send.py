"""Delivering one event to its sinks over HTTP: retries with backoff inside a short deadline.

Every sink is tried at once (one thread each) and all of them together stop at the deadline,
so a slow or dead sink delays the command by at most that long. Failures come back as
``Delivery`` values with a problem in dsgit's own words (``HTTP 500``, ``timed out``): an
exception's text could carry the URL, which for Discord and Slack is the secret itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from dsgit import __version__
from dsgit.notify.events import Event
from dsgit.notify.render import discord_payload, slack_payload, webhook_payload
from dsgit.notify.signing import SIGNATURE_HEADER, sign
from dsgit.notify.sinks import Sink, SinkType

__all__ = ["DEFAULT_DEADLINE", "Delivery", "deliver"]

DEFAULT_DEADLINE = 10.0  # seconds for every sink of one event together
_ATTEMPTS = 4
_ATTEMPT_TIMEOUT = 5.0
_MIN_ATTEMPT = 0.25  # seconds an attempt needs at least to be worth making
_REDACTED = "(redacted)"


@dataclass(frozen=True)
class Delivery:
    """How sending one event to one sink went; ``problem`` never holds a URL or secret."""

    sink: str
    ok: bool
    attempts: int = 0
    problem: str | None = None


class _Retryable(Exception):
    """A failed attempt worth repeating (5xx, 429, a transport error)."""

    def __init__(self, problem: str, retry_after: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after


class _Final(Exception):
    """A failure that another attempt would not mend (4xx, missing variable)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _payload(sink: Sink, event: Event) -> dict[str, Any]:
    match sink.type:
        case SinkType.DISCORD:
            return discord_payload(event)
        case SinkType.SLACK:
            return slack_payload(event)
        case SinkType.WEBHOOK:
            return webhook_payload(event)


def _body(payload: Mapping[str, Any], secrets: tuple[str, ...]) -> bytes:
    """The JSON body, with any configured secret that slipped into a message replaced: events
    never carry one, this is the last fence."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for secret in secrets:
        text = text.replace(secret, _REDACTED)
    return text.encode("utf-8")


def _transport_problem(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused" if "refused" in str(exc).lower() else "could not connect"
    return f"transport error ({type(exc).__name__})"


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds a 429 asks to wait: ``Retry-After``, or Discord's ``retry_after`` in the body."""
    header = response.headers.get("retry-after")
    try:
        if header is not None:
            return float(header)
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("retry_after"), int | float):
            return float(body["retry_after"])
    except (ValueError, json.JSONDecodeError):
        return None
    return None


@dataclass
class _Attempts:
    """Sends one sink's body until it lands, the attempts run out or the deadline passes."""

    sink: Sink
    client: httpx.Client
    url: str
    body: bytes
    secret: str | None
    deadline: float  # time.monotonic() value
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    count: int = 0

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def once(self) -> None:
        timeout = min(_ATTEMPT_TIMEOUT, self.remaining())
        if timeout <= 0:
            raise _Final("out of time")
        self.count += 1
        headers = {"content-type": "application/json", "user-agent": f"dsgit/{__version__}"}
        if self.secret is not None:
            headers[SIGNATURE_HEADER] = sign(self.secret, int(time.time()), self.body)
        try:
            response = self.client.post(
                self.url, content=self.body, headers=headers, timeout=timeout
            )
        except httpx.TransportError as exc:
            raise _Retryable(_transport_problem(exc)) from None
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retryable(f"HTTP {response.status_code}", _retry_after(response))
        if response.status_code >= 300:
            raise _Final(f"HTTP {response.status_code}")

    @staticmethod
    def backoff(state: RetryCallState) -> float:
        """What the failure asked for (429), else 0.25 s, 0.5 s, 1 s ..."""
        failure = state.outcome.exception() if state.outcome is not None else None
        asked = failure.retry_after if isinstance(failure, _Retryable) else None
        return max(0.0, asked) if asked is not None else 0.25 * 2 ** (state.attempt_number - 1)

    def wait(self, state: RetryCallState) -> float:
        return self.backoff(state)

    def stop(self, state: RetryCallState) -> bool:
        # No retry that could not get a useful attempt in before the deadline: the problem
        # reported stays the real one (HTTP 500), not a hurried timeout.
        too_late = self.remaining() - self.backoff(state) < _MIN_ATTEMPT
        return stop_after_attempt(_ATTEMPTS)(state) or too_late

    def run(self) -> Delivery:
        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=self.stop,
            wait=self.wait,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            retrying(self.once)
        except (_Retryable, _Final) as exc:
            return Delivery(self.sink.name, False, self.count, exc.problem)
        return Delivery(self.sink.name, True, self.count)


def _deliver_one(
    sink: Sink,
    event: Event,
    environ: Mapping[str, str],
    secrets: tuple[str, ...],
    client: httpx.Client,
    deadline: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> Delivery:
    url = (environ.get(sink.url_env) or "").strip()
    if not url:
        return Delivery(sink.name, False, 0, f"${sink.url_env} is not set")
    if not url.startswith(("https://", "http://")):
        return Delivery(sink.name, False, 0, f"${sink.url_env} does not hold an http(s) URL")
    secret = None
    if sink.secret_env is not None:
        secret = (environ.get(sink.secret_env) or "").strip()
        if not secret:
            return Delivery(
                sink.name, False, 0, f"${sink.secret_env} (its signing secret) is not set"
            )
    body = _body(_payload(sink, event), secrets)
    return _Attempts(sink, client, url, body, secret, deadline, clock, sleep).run()


def _secrets(
    sinks: tuple[Sink, ...], environ: Mapping[str, str], extra: tuple[str, ...]
) -> tuple[str, ...]:
    names = [name for sink in sinks for name in (sink.url_env, sink.secret_env) if name]
    values = [(environ.get(name) or "").strip() for name in names] + [s for s in extra if s]
    # Longest first, so a URL is replaced whole before a secret inside it.
    return tuple(sorted({v for v in values if len(v) >= 8}, key=len, reverse=True))


def deliver(
    event: Event,
    sinks: tuple[Sink, ...],
    environ: Mapping[str, str],
    *,
    deadline: float = DEFAULT_DEADLINE,
    transport: httpx.BaseTransport | None = None,
    extra_secrets: tuple[str, ...] = (),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    """Send ``event`` to each sink that wants it, all within ``deadline`` seconds."""
    chosen = tuple(sink for sink in sinks if sink.wants(event))
    if not chosen:
        return []
    secrets = _secrets(sinks, environ, extra_secrets)
    ends = clock() + deadline
    with (
        httpx.Client(transport=transport, follow_redirects=False) as client,
        ThreadPoolExecutor(max_workers=len(chosen)) as pool,
    ):
        futures = [
            pool.submit(_deliver_one, sink, event, environ, secrets, client, ends, clock, sleep)
            for sink in chosen
        ]
        return [future.result() for future in futures]
