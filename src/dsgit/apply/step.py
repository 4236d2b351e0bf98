"""A change ready to run, and the small helpers every kind's executor shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dsgit.ledger.records import EntryState
from dsgit.model.entry import EntryData
from dsgit.plan.model import Change

__all__ = ["ABSENT", "EXISTS_STATUSES", "Step", "now_text", "parse_time", "state_json"]

ABSENT = EntryState(exists=False)
EXISTS_STATUSES = (400, 409, 412)  # what Open Cloud answers a create of an existing entry


@dataclass(frozen=True)
class Step:
    """A change ready to run: ``data`` is what to write (secrets resolved, in memory only)."""

    change: Change
    data: EntryData | None
    after_digest: str | None
    encrypt_preimage: bool


def now_text(clock: Callable[[], datetime]) -> str:
    return clock().astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def state_json(state: EntryState) -> dict[str, Any]:
    return state.to_json()


def parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    # Revision times carry up to 7 fractional digits; Python reads 6, so allow a rounding tick.
    return moment - timedelta(microseconds=1) if moment.tzinfo else None
