"""Retries of transient failures, and the rule that keeps writes from happening twice.

429, 500/502/503/504, timeouts and dropped connections are retried with exponential backoff and
jitter, waiting at least what ``Retry-After`` asks. A failure is *ambiguous* when the request may
have reached the service (a 5xx, a read timeout, a connection lost after sending): a write that
failed that way may have happened. Before retrying such a write the caller's ``verify`` reads
the entry; if the write shows there, it is not sent again. Writes that cannot be verified
(increments, publishes) are never retried after an ambiguous failure: they raise
``WriteOutcomeUnknown``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

from dsgit.errors import DsgitError, WriteOutcomeUnknown

__all__ = ["RetryPolicy", "Retryable", "Safety", "call_with_retries"]

log = logging.getLogger("dsgit.remote")

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry: attempts in all, backoff bounds (seconds)."""

    attempts: int = 6
    initial: float = 0.5
    max_wait: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 120.0


class Safety(Enum):
    """What may be done after an ambiguous failure."""

    IDEMPOTENT = "idempotent"  # reads, listings, overwrites of a whole draft: retry freely
    VERIFIED = "verified"  # writes whose effect a read can show: verify, then retry
    UNSAFE = "unsafe"  # increments, publishes: never retried once ambiguous


class Retryable(Exception):
    """A transient failure of one attempt; ``error`` is what the user sees if retries run out."""

    def __init__(
        self, error: DsgitError, *, ambiguous: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.ambiguous = ambiguous
        self.retry_after = retry_after


class _Wait:
    """Exponential backoff plus uniform jitter, or ``Retry-After`` when that is longer."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy

    def __call__(self, state: RetryCallState) -> float:
        policy = self._policy
        exponent = max(0, state.attempt_number - 1)
        backoff = min(policy.max_wait, policy.initial * 2.0**exponent)
        backoff += random.uniform(0.0, policy.jitter)
        outcome = state.outcome
        failure = outcome.exception() if outcome is not None else None
        if isinstance(failure, Retryable) and failure.retry_after is not None:
            return max(backoff, min(failure.retry_after, self._policy.max_retry_after))
        return backoff


def _log_retry(state: RetryCallState) -> None:
    outcome = state.outcome
    failure = outcome.exception() if outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    log.info("retrying after %s (attempt %d, waiting %.2fs)", failure, state.attempt_number, wait)


def call_with_retries(
    attempt: Callable[[], T],
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    safety: Safety = Safety.IDEMPOTENT,
    verify: Callable[[], T | None] | None = None,
    describe: tuple[str, str] = ("", ""),
) -> T:
    """Run ``attempt`` until it succeeds, a permanent error occurs, or attempts run out.

    ``verify`` (for ``Safety.VERIFIED``) returns the result of the write if a read shows it
    happened, else None. ``describe`` is ``(method, path)`` for ``WriteOutcomeUnknown``.
    """
    if safety is Safety.VERIFIED and verify is None:
        raise ValueError("a verified write needs a verify function")
    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=_Wait(policy),
        retry=retry_if_exception_type(Retryable),
        sleep=sleep,
        before_sleep=_log_retry,
        reraise=True,
    )
    uncertain = False
    try:
        for state in retrying:
            with state:
                if uncertain and verify is not None:
                    seen = verify()
                    if seen is not None:
                        log.info("%s %s had already happened; not sent again", *describe)
                        return seen
                try:
                    return attempt()
                except Retryable as failure:
                    if failure.ambiguous and safety is Safety.UNSAFE:
                        raise WriteOutcomeUnknown(
                            describe[0], describe[1], str(failure.error)
                        ) from failure
                    uncertain = uncertain or failure.ambiguous
                    raise
    except Retryable as failure:
        if uncertain and verify is not None:
            seen = verify()
            if seen is not None:
                return seen
        raise failure.error from failure
    raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover
