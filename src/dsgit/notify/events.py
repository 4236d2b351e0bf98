"""What a notification says: one frozen ``Event`` per thing that happened; pure.

An event holds addresses, counts, digests, ids, links and dsgit's own messages, never a value
read from or written to a data store, so no renderer can leak one. ``dsgit.notify.hooks`` builds
the events of apply; scan and erasure build theirs directly (``Event(EventKind.SCAN, ...)``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

__all__ = [
    "NOBODY",
    "SUBSCRIBABLE",
    "Context",
    "Event",
    "EventKind",
    "Severity",
    "drift_event",
    "test_event",
]


class EventKind(StrEnum):
    """What a sink can subscribe to (``events:`` in ``dsgit.yaml``); ``test`` reaches every
    sink (``dsgit notify test``)."""

    APPLY = "apply"  # an apply ran: applied, partial, interrupted, or failed with an error
    REFUSED = "refused"  # an apply was refused (policy) or its plan was stale: nothing written
    CONFLICT = "conflict"  # an apply left entries that changed since the plan
    DRIFT = "drift"  # live data differs from git
    ERASURE = "erasure"  # right-to-erasure work
    SCAN = "scan"  # scan findings (PII, outliers, keys near the size limit...)
    TEST = "test"


SUBSCRIBABLE = tuple(kind for kind in EventKind if kind is not EventKind.TEST)


class Severity(StrEnum):
    """How a chat message is coloured."""

    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Event:
    """One notification. ``summary`` is one sentence; ``reasons`` are dsgit's own messages
    (each unmet approval rule, the failure); ``addresses`` the entries concerned."""

    kind: EventKind
    environment: str
    summary: str
    outcome: str = ""
    severity: Severity = Severity.INFO
    universe_id: int | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    addresses: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    plan_digest: str | None = None
    apply_id: str | None = None
    actor: str | None = None
    commit: str | None = None
    link: str | None = None
    time: str = field(default_factory=_now)
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def title(self) -> str:
        outcome = f": {self.outcome}" if self.outcome else ""
        return f"dsgit {self.kind} in {self.environment}{outcome}"


@dataclass(frozen=True)
class Context:
    """Who and where, for every event of one run."""

    actor: str | None = None
    link: str | None = None


NOBODY = Context()  # events made outside CI by an unknown actor


def drift_event(
    environment: str,
    universe_id: int,
    items: Mapping[str, tuple[str, ...]],
    context: Context = NOBODY,
) -> Event:
    """Drift found: ``items`` maps a drift kind (changed, missing, unmanaged) to addresses."""
    counts = {kind: len(addresses) for kind, addresses in items.items() if addresses}
    total = sum(counts.values())
    words = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    return Event(
        EventKind.DRIFT,
        environment=environment,
        summary=f"Live data differs from git in {total} entr{'y' if total == 1 else 'ies'} "
        f"({words}).",
        outcome="drifted",
        severity=Severity.WARNING,
        universe_id=universe_id,
        counts=counts,
        addresses=tuple(address for group in items.values() for address in group),
        actor=context.actor,
        link=context.link,
    )


def test_event(environment: str, context: Context = NOBODY) -> Event:
    """What ``dsgit notify test`` sends."""
    return Event(
        EventKind.TEST,
        environment=environment,
        summary="A test notification from `dsgit notify test`: this sink is set up.",
        outcome="test",
        severity=Severity.INFO,
        actor=context.actor,
        link=context.link,
    )
