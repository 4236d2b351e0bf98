"""Helpers for tests elsewhere in dsgit: a client wired to an in-process emulator.

::

    from dsgit.emulator import Emulator
    from dsgit.remote.testing import emulated_client

    def test_something() -> None:
        emu = Emulator(db=":memory:")
        with emulated_client(emu, universe_id=1) as client:
            client.create_entry("Bans", "user/1", EntryData({"banned": True}))

Retries never sleep and the rate budget is off unless ``budget`` is given.
"""

from __future__ import annotations

from typing import Protocol

import httpx

from dsgit.config import Budget
from dsgit.remote.budget import RateBudget
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.retry import RetryPolicy

__all__ = ["FAST_RETRIES", "emulated_client", "no_sleep"]

# Enough attempts to ride out injected faults; backoff waits are skipped by ``no_sleep``.
FAST_RETRIES = RetryPolicy(attempts=5, initial=0.01, max_wait=0.05, jitter=0.01)


class _HasTransport(Protocol):
    def transport(self) -> httpx.BaseTransport: ...


def no_sleep(seconds: float) -> None:
    """A ``sleep`` that returns at once (retry waits in tests)."""


def emulated_client(
    emulator: _HasTransport,
    *,
    universe_id: int = 1,
    api_key: str | None = None,
    budget: Budget | None = None,
    retry: RetryPolicy = FAST_RETRIES,
    max_workers: int | None = 4,
) -> OpenCloudClient:
    """An :class:`OpenCloudClient` for ``universe_id`` talking to ``emulator`` in process."""
    return OpenCloudClient(
        universe_id,
        base_url="http://emulator.test",
        api_key=api_key,
        transport=emulator.transport(),
        budget=RateBudget(budget) if budget is not None else RateBudget.unlimited(),
        retry=retry,
        max_workers=max_workers,
        sleep=no_sleep,
    )
