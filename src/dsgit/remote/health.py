"""Run-wide failure bounds: a service that cannot be reached, refuses the key or answers only
5xx stops the run quickly with one named error, instead of every request retrying on its own.

Per-request retries (``retry.py``) ride out blips: a dropped connection, a 503 now and then, a
429 burst. This module watches the run as a whole, across threads:

- **connect**: a request that cannot connect is tried ``connect_attempts`` times (each with a
  ``connect_timeout``), then the run stops with :class:`~dsgit.errors.ServiceUnreachable`
  naming the host and port; every later request of the run fails at once with the same error.
  Concurrent requests count together: ``connect_attempts`` failures in a row across the run,
  the first at least ``connect_grace`` seconds ago, stop it as well (a plan listing eight
  stores at once learns in about a second that nothing answers).
- **unavailable**: once the service has answered nothing but transient errors (5xx, timeouts)
  for ``unavailable_seconds`` with no good answer in between, reads and listings stop retrying
  and the run stops with :class:`~dsgit.errors.ServiceUnavailable`. Writes keep their own
  retry rules (a write that may have landed is verified first), but fail at once after that.
- **auth**: a 401 or 403 is the same for every request of the run, so the first one becomes
  the run's only error, :class:`~dsgit.errors.AccessDenied`, naming the environment, the key
  variable and the scope the refused operation needs.

429s are not counted: the rate budget and ``retry.py`` handle them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from dsgit.errors import (
    AccessDenied,
    AuthError,
    DsgitError,
    RemoteError,
    ServiceUnavailable,
    ServiceUnreachable,
    TransportError,
)
from dsgit.remote.scopes import scopes_for

__all__ = ["RunBounds", "RunHealth", "Target", "host_and_port"]


@dataclass(frozen=True)
class RunBounds:
    """How long one run keeps trying a service that does not answer well (seconds)."""

    connect_attempts: int = 3
    connect_timeout: float = 3.0
    connect_grace: float = 1.0
    unavailable_seconds: float = 15.0


@dataclass(frozen=True)
class Target:
    """What errors name: the environment, the variable holding its key, the universe."""

    environment: str | None = None
    key_variable: str | None = None
    universe_id: int | None = None
    has_key: bool = False


def host_and_port(base_url: str) -> str:
    """``host:port`` of a base URL, with the scheme's default port when none is given."""
    url = httpx.URL(base_url)
    port = url.port or (443 if url.scheme == "https" else 80)
    return f"{url.host}:{port}"


class RunHealth:
    """The state of the service as this run has seen it; thread safe."""

    def __init__(
        self,
        base_url: str,
        target: Target,
        bounds: RunBounds,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bounds = bounds
        self.target = target
        self.where = host_and_port(base_url)
        self._clock = clock
        self._lock = threading.Lock()
        self._failing_since: float | None = None
        self._connect_failures = 0
        self._connect_failing_since: float | None = None
        self._fatal: DsgitError | None = None

    # --- what the session reports ------------------------------------------------------------
    def answered(self) -> None:
        """The service gave a real answer (success or a 4xx): it is up."""
        with self._lock:
            self._failing_since = None
            self._connect_failures = 0
            self._connect_failing_since = None

    def connect_failed(self) -> bool:
        """Record a failed connection; True once the run's failures in a row reach the bound."""
        with self._lock:
            now = self._clock()
            if self._connect_failing_since is None:
                self._connect_failing_since = now
            self._connect_failures += 1
            return (
                self._connect_failures >= self.bounds.connect_attempts
                and now - self._connect_failing_since >= self.bounds.connect_grace
            )

    def failing_too_long(self) -> bool:
        """Record a transient failure; True once only such failures were seen for the bound."""
        with self._lock:
            now = self._clock()
            if self._failing_since is None:
                self._failing_since = now
            return now - self._failing_since >= self.bounds.unavailable_seconds

    def remaining(self) -> float:
        """Seconds left before the unavailable bound is reached (the bound when not failing)."""
        with self._lock:
            if self._failing_since is None:
                return self.bounds.unavailable_seconds
            elapsed = self._clock() - self._failing_since
            return max(0.0, self.bounds.unavailable_seconds - elapsed)

    def check(self) -> None:
        """Raise the run's fatal error, if there is one."""
        with self._lock:
            fatal = self._fatal
        if fatal is not None:
            raise fatal.with_traceback(None)

    def _stop(self, error: DsgitError) -> DsgitError:
        with self._lock:
            if self._fatal is None:
                self._fatal = error
            return self._fatal

    # --- the run's fatal errors --------------------------------------------------------------
    def _env(self) -> str:
        name = self.target.environment
        return f" (environment {name!r})" if name else ""

    def unreachable(self, error: TransportError, attempts: int) -> DsgitError:
        with self._lock:
            attempts = max(attempts, self._connect_failures)
        tries = f"{attempts} connection attempt{'s' if attempts != 1 else ''}"
        explanation = (
            f"cannot connect to {self.where}{self._env()}: {error.reason} ({tries}); "
            "check the environment's `url` in dsgit.yaml and that the service is running"
        )
        return self._stop(ServiceUnreachable(error.method, error.path, error.reason, explanation))

    def unavailable(self, error: DsgitError) -> DsgitError:
        seconds = f"{self.bounds.unavailable_seconds:g}"
        if isinstance(error, RemoteError):
            explanation = (
                f"{self.where}{self._env()} answered only errors for {seconds} s; "
                "the run stopped (nothing more was sent): retry later, or check the "
                "service's status"
            )
            return self._stop(ServiceUnavailable(error, explanation))
        assert isinstance(error, TransportError)
        explanation = (
            f"{self.where}{self._env()} gave no answer for {seconds} s ({error.reason}); "
            "the run stopped: retry later, or check the network and the service"
        )
        return self._stop(ServiceUnreachable(error.method, error.path, error.reason, explanation))

    def denied(self, error: AuthError) -> DsgitError:
        target = self.target
        variable = f"${target.key_variable}" if target.key_variable else None
        universe = f" for universe {target.universe_id}" if target.universe_id else ""
        scopes = scopes_for(error.method, error.path)
        if error.status == 401:
            if not target.has_key:
                explanation = (
                    f"{self.where}{self._env()} requires an API key and none is sent: set "
                    "`api_key_env` for the environment in dsgit.yaml to the variable "
                    "holding the key"
                )
            else:
                explanation = (
                    f"{self.where}{self._env()} rejected the API key in {variable} "
                    f"(HTTP 401): check that it holds a current Open Cloud API key{universe} "
                    "(not expired or revoked, and allowed from this IP address)"
                )
        else:
            needed = " and ".join(f"`{scope}`" for scope in scopes) or "the scope it needs"
            holder = f"the API key in {variable}" if variable else "the API key"
            explanation = (
                f"{holder}{self._env()} lacks permission {needed}{universe} (HTTP 403): add "
                "it to the key (Creator Dashboard, Open Cloud, API Keys) or use a key that "
                "has it"
            )
        return self._stop(AccessDenied(error, explanation, scopes))
