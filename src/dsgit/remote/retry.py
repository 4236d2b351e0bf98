"""Retries of transient failures, and the rule that keeps writes from happening twice.

429, 500/502/503/504, timeouts and dropped connections are retried with exponential backoff and
jitter, waiting at least what ``Retry-After`` asks. A failure is *ambiguous* when the request may
have reached the service (a 5xx, a read timeout, a connection lost after sending): a write that
failed that way may have happened. Before retrying such a write the caller's ``verify`` reads
the entry; if the write shows there, it is not sent again. Writes that cannot be verified
(increments) are never retried after an ambiguous failure: they raise
``WriteOutcomeUnknown``.

A 429 means the request was not processed and the service says when to come back, so throttled
attempts are counted apart from other failures (:func:`throttle_backoff`): a burst of 429s
(ten in a row is common when game servers share the budget) must not exhaust the attempts of a
step that runs one request at a time (taking the lock, paging through a listing), while the
total time one request spends waiting stays bounded (``max_total_wait``; docs/client.md).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type

from dsgit.errors import DsgitError, TransportError, WriteOutcomeUnknown

__all__ = [
    "RetryPolicy",
    "Retryable",
    "Safety",
    "Unreachable",
    "backoff",
    "call_with_retries",
    "throttle_backoff",
]

log = logging.getLogger("dsgit.remote")

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry: attempts in all, backoff bounds (seconds).

    ``attempts`` bounds the attempts that failed with a 5xx, a timeout or a lost connection;
    429 answers count against ``throttled_attempts`` instead. ``max_total_wait`` bounds the
    time one request spends sleeping between its attempts, whatever failed.
    """

    attempts: int = 6
    initial: float = 0.5
    max_wait: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 120.0
    throttled_attempts: int = 16
    throttle_max_wait: float = 8.0
    max_total_wait: float = 120.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.throttled_attempts < 1:
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


def _throttled(failure: BaseException | None) -> bool:
    return isinstance(failure, Retryable) and getattr(failure.error, "status", None) == 429


def throttle_backoff(policy: RetryPolicy, throttles: int, failure: BaseException | None) -> float:
    """Seconds to wait after the ``throttles``-th 429 answer (1-based) of one request.

    What ``Retry-After`` asks (capped at ``max_retry_after``) plus jitter: the service said when
    the budget has room again, so growing the wait further only loses time. Without the header:
    exponential from ``initial``, capped at ``throttle_max_wait``, plus jitter.
    """
    jitter = random.uniform(0.0, policy.jitter)
    if isinstance(failure, Retryable) and failure.retry_after is not None:
        return min(failure.retry_after, policy.max_retry_after) + jitter
    return min(policy.throttle_max_wait, policy.initial * 2.0 ** max(0, throttles - 1)) + jitter


class _Attempts:
    """Counts one request's failed attempts by kind; tenacity's wait and stop over them.

    Throttled (429) and other failures have their own attempt limits; the time slept is bounded
    by ``max_total_wait`` (the wait that would cross it is not taken: the request fails).
    """

    def __init__(self, policy: RetryPolicy, first: BaseException) -> None:
        self._policy = policy
        self.throttles = 0
        self.failures = 0
        self.slept = 0.0
        self._pending: float | None = None
        self._seen = 0
        self.count(first)

    def count(self, failure: BaseException | None) -> None:
        if _throttled(failure):
            self.throttles += 1
        else:
            self.failures += 1

    def exhausted(self) -> bool:
        policy = self._policy
        return self.failures >= policy.attempts or self.throttles >= policy.throttled_attempts

    def next_wait(self, failure: BaseException | None) -> float | None:
        """The wait before the next attempt, or None when retrying must stop."""
        if self.exhausted():
            return None
        if _throttled(failure):
            wait = throttle_backoff(self._policy, self.throttles, failure)
        else:
            wait = backoff(self._policy, self.failures, failure)
        if self.slept + wait > self._policy.max_total_wait:
            return None
        return wait

    def _update(self, state: RetryCallState) -> None:
        """Count the attempt that just failed, once (tenacity asks wait and stop about it)."""
        if state.attempt_number == self._seen:
            return
        self._seen = state.attempt_number
        outcome = state.outcome
        failure = outcome.exception() if outcome is not None else None
        self.count(failure)
        self._pending = self.next_wait(failure)
        if self._pending is not None:
            self.slept += self._pending

    def stop(self, state: RetryCallState) -> bool:
        self._update(state)
        return self._pending is None

    def wait(self, state: RetryCallState) -> float:
        self._update(state)
        return self._pending or 0.0


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
    attempts = _Attempts(policy, first)
    wait = attempts.next_wait(first)
    if wait is not None:
        log.info("retrying after %s (waiting %.2fs)", first, wait)
        attempts.slept += wait
        sleep(wait)
    retrying = Retrying(
        stop=attempts.stop,
        wait=attempts.wait,
        retry=retry_if_exception_type(Retryable),
        sleep=sleep,
        before_sleep=_log_retry,
        reraise=True,
    )
    last = first
    try:
        if wait is not None:
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
