"""Notifications (DESIGN §15, docs/notifications.md): Discord, Slack and signed webhooks.

``emit(event, config)`` is the one call a command makes: it sends the event to every sink of
``dsgit.yaml``'s ``notifications:`` that wants it, within a short deadline, and never raises
or changes the command's outcome; a sink that fails prints one warning on stderr.

- :mod:`dsgit.notify.events`: the ``Event`` and the builders for apply and drift (pure)
- :mod:`dsgit.notify.render`: Discord, Slack and generic webhook bodies (pure)
- :mod:`dsgit.notify.signing`: the ``dsgit-signature`` header and its verification
- :mod:`dsgit.notify.sinks`: the ``notifications:`` settings and their checks
- :mod:`dsgit.notify.send`: HTTP delivery with retries and the deadline
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

import httpx

from dsgit.config import ProjectConfig
from dsgit.errors import DsgitError
from dsgit.notify.events import Context, Event, EventKind, Severity
from dsgit.notify.send import DEFAULT_DEADLINE, Delivery, deliver
from dsgit.notify.sinks import Sink, SinkType, sinks_of

__all__ = [
    "DEADLINE_ENV",
    "Context",
    "Delivery",
    "Event",
    "EventKind",
    "Severity",
    "Sink",
    "SinkType",
    "deadline_from",
    "emit",
    "sinks_of",
]

DEADLINE_ENV = "DSGIT_NOTIFY_DEADLINE"  # seconds for all sinks of one event (default 10)


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def deadline_from(environ: Mapping[str, str], warn: Callable[[str], None]) -> float:
    text = (environ.get(DEADLINE_ENV) or "").strip()
    if not text:
        return DEFAULT_DEADLINE
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 300:
        warn(f"warning: ${DEADLINE_ENV} must be seconds in (0, 300]; using {DEFAULT_DEADLINE:g}")
        return DEFAULT_DEADLINE
    return seconds


def _api_key(config: ProjectConfig, environment: str) -> tuple[str, ...]:
    try:
        key = config.environments[environment].api_key()
    except (KeyError, DsgitError):
        return ()
    return (key,) if key else ()


def emit(
    event: Event,
    config: ProjectConfig,
    *,
    warn: Callable[[str], None] = _stderr,
    environ: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> list[Delivery]:
    """Send ``event`` to the sinks that want it; one warning per failed sink; never raises.

    Returns what happened per sink (empty when no sink wants the event). Scan and erasure
    call this with their own ``Event(kind=EventKind.SCAN | EventKind.ERASURE, ...)``.
    """
    environ = os.environ if environ is None else environ
    try:
        sinks = sinks_of(config.raw)
        if not any(sink.wants(event) for sink in sinks):
            return []
        deliveries = deliver(
            event,
            sinks,
            environ,
            deadline=deadline_from(environ, warn),
            transport=transport,
            extra_secrets=_api_key(config, event.environment),
        )
    except Exception as exc:  # a notification must never fail the command that sent it
        warn(f"warning: notifications not sent ({type(exc).__name__}); the result is unchanged")
        return []
    for delivery in deliveries:
        if not delivery.ok:
            tries = f" after {delivery.attempts} attempts" if delivery.attempts > 1 else ""
            warn(
                f"warning: notification sink {delivery.sink!r} failed{tries}: {delivery.problem} "
                f"({event.kind} event not delivered; the command's result is unchanged)"
            )
    return deliveries
