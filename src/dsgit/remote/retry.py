"""Retries of transient failures, and the rule that keeps writes from happening twice.

429, 500/502/503/504, timeouts and dropped connections are retried with exponential backoff and
jitter, waiting at least what ``Retry-After`` asks. A failure is *ambiguous* when the request may
have reached the service (a 5xx, a read timeout, a connection lost after sending): a write that
failed that way may have happened. Before retrying such a write the caller's ``verify`` reads
the entry; if the write shows there, it is not sent again. Writes that cannot be verified
(increments) are never retried after an ambiguous failure: they raise
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

from dsgit.errors import DsgitError, TransportError, WriteOutcomeUnknown

__all__ = [
    "RetryPolicy",
    "Retryable",
    "Safety",
    "Unreachable",
    "backoff",
    "call_with_retries",
]

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

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a retry policy needs at least one attempt")


class Safety(Enum):
    """What may be done after an ambiguous failure."""

    IDEMPOTENT = "idempotent"  # reads, listings, overwrites of a whole draft: retry freely
    VERIFIED = "verified"  # writes whose effect a read can show: verify, then retry
    UNSAFE = "unsafe"  # increments: never retried once ambiguous


class Retryable(Exception):
    """A transient failure of one attempt; ``error`` is what the user sees if retries run out."""

    def __init__(
        self,
        error: DsgitError,
        *,
        ambiguous: bool,
        retry_after: float | None = None,
        connect: bool = False,
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.ambiguous = ambiguous
        self.retry_after = retry_after
        self.connect = connect  # the connection itself failed: the service is unreachable


class Unreachable(Exception):
    """Every attempt failed to connect; ``error`` is what the user sees."""

    def __init__(self, error: TransportError) -> None:
        super().__init__(str(error))
        self.error = error


def backoff(policy: RetryPolicy, attempt_number: int, failure: BaseException | None) -> float:
    """Seconds to wait after failed attempt ``attempt_number`` (1-based): exponential backoff
    plus uniform jitter, or ``Retry-After`` (capped) when that is longer."""
    wait = min(policy.max_wait, policy.initial * 2.0 ** max(0, attempt_number - 1))
    wait += random.uniform(0.0, policy.jitter)
    if isinstance(failure, Retryable) and failure.retry_after is not None:
        return max(wait, min(failure.retry_after, policy.max_retry_after))
    return wait


class _Wait:
    """tenacity's view of :func:`backoff`; attempt numbers continue after the first attempt."""

    def __init__(self, policy: RetryPolicy, offset: int) -> None:
        self._policy = policy
        self._offset = offset

    def __call__(self, state: RetryCallState) -> float:
        outcome = state.outcome
        failure = outcome.exception() if outcome is not None else None
        return backoff(self._policy, state.attempt_number + self._offset, failure)


def _log_retry(state: RetryCallState) -> None:
    outcome = state.outcome
    failure = outcome.exception() if outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    log.info("retrying after %s (waiting %.2fs)", failure, wait)


def _refuse_unsafe(failure: Retryable, safety: Safety, describe: tuple[str, str]) -> None:
    if failure.ambiguous and safety is Safety.UNSAFE:
        raise WriteOutcomeUnknown(describe[0], describe[1], str(failure.error)) from failure


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
    # The first attempt runs without tenacity: nearly every request succeeds at once, and this
    # keeps the retry machinery (and the reference cycles it builds) off the hot path.
    try:
        return attempt()
    except Retryable as failure:
        _refuse_unsafe(failure, safety, describe)
        first = failure
    uncertain = first.ambiguous
    if policy.attempts > 1:
        wait = backoff(policy, 1, first)
        log.info("retrying after %s (waiting %.2fs)", first, wait)
        sleep(wait)
    retrying = Retrying(
        stop=stop_after_attempt(max(0, policy.attempts - 1)),
        wait=_Wait(policy, offset=1),
        retry=retry_if_exception_type(Retryable),
        sleep=sleep,
        before_sleep=_log_retry,
        reraise=True,
    )
    last = first
    try:
        if policy.attempts > 1:
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
                        _refuse_unsafe(failure, safety, describe)
                        uncertain = uncertain or failure.ambiguous
                        raise
    except Retryable as failure:
        last = failure
    if uncertain and verify is not None:
        seen = verify()
        if seen is not None:
            return seen
    if last.connect and isinstance(last.error, TransportError):
        raise Unreachable(last.error) from last
    raise last.error from last
