"""The one error tree of dsgit.

Every failure a user can meet is a :class:`DsgitError`. The CLI (``dsgit.cli.main``) is the only
place that prints errors and maps them to exit codes; everything else raises.

::

    DsgitError (exit 1)
    ├── ConfigError          a bad file: carries file, line, column, field
    ├── ValidationFailed     ``dsgit validate`` found problems (the problems are the output)
    ├── RemoteError          Open Cloud answered an error: method, path, status, code, message
    │   ├── NotFoundError    404
    │   ├── PreconditionFailed  etag / version mismatch (409/412)
    │   ├── RateLimitedError 429 after retries were exhausted
    │   ├── AuthError        401/403 (bad key or missing scope)
    │   │   └── AccessDenied  the run's one 401/403: environment, key variable, missing scope
    │   ├── ServiceUnavailable  the service answered only 5xx for the run's retry bound
    │   └── MalformedResponse  a success status with a body that is not what the API describes
    ├── TransportError       the request never got an answer (timeout, connection refused)
    │   └── ServiceUnreachable  no connection could be made: names host:port and environment
    ├── GitHubError          GitHub REST API failed: method, host, path, status (never the token)
    ├── WriteOutcomeUnknown  a write got no clear answer and reading back cannot tell if it happened
    ├── LockHeld             another apply holds the environment lock (or this plan's journal)
    ├── LedgerError          the audit ledger cannot be appended to (damaged tail, chain head)
    ├── PolicyRefused        exit 3: missing approvals, blocked diagnostics
    ├── StalePlan            exit 4: digest, expiry or source commit no longer match
    ├── ConflictError        exit 5: a live entry changed since the plan; nothing written to it
    └── PartialApply         exit 6: some changes applied, resume to finish

Messages never contain an API key: RemoteError is built from the method, the path (not the full
URL with query secrets) and the response, never from request headers.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "EXIT_CHANGES",
    "EXIT_CONFLICT",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_POLICY",
    "EXIT_STALE",
    "AccessDenied",
    "AuthError",
    "ConfigError",
    "ConflictError",
    "DsgitError",
    "GitHubError",
    "LedgerError",
    "Location",
    "LockHeld",
    "MalformedResponse",
    "NotFoundError",
    "PartialApply",
    "PolicyRefused",
    "PreconditionFailed",
    "RateLimitedError",
    "RemoteError",
    "RunFatal",
    "ServiceUnavailable",
    "ServiceUnreachable",
    "StalePlan",
    "TransportError",
    "ValidationFailed",
    "WriteOutcomeUnknown",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_POLICY = 3
EXIT_STALE = 4
EXIT_CONFLICT = 5
EXIT_PARTIAL = 6
EXIT_INTERRUPTED = 130


class DsgitError(Exception):
    """Root of every error dsgit reports to a user. ``exit_code`` is what the CLI exits with.

    ``already_reported``: the command's output (stdout) already describes the failure (a
    validation report), so ``--format json`` gets no separate error object.
    """

    already_reported: bool = False

    exit_code: int = EXIT_ERROR


@dataclass(frozen=True)
class Location:
    """A place in a file: 1-based line and column; ``field`` is a dotted or JSON-pointer path."""

    file: str
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        text = self.file
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


class ConfigError(DsgitError):
    """A file the user wrote is wrong. The message names the file, line and field."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.location = location
        self.message = message
        if location is None:
            super().__init__(message)
        else:
            where = str(location)
            field = f" ({location.field})" if location.field else ""
            super().__init__(f"{where}: {message}{field}")


class ValidationFailed(DsgitError):
    """``validate`` (or a command that validates first) found errors; they were already listed."""

    already_reported = True


class RemoteError(DsgitError):
    """Open Cloud (or the emulator) answered with an error status.

    ``path`` is the URL path of the request (no host, no query string, no headers), so the API
    key can never appear in the message.
    """

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        code: str | None = None,
        message: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.remote_message = message
        self.request_id = request_id
        text = f"{method} {path} failed: HTTP {status}"
        if code:
            text += f" {code}"
        if message:
            text += f": {message}"
        if request_id:
            text += f" (request id {request_id})"
        super().__init__(text)


class NotFoundError(RemoteError):
    """404 from the remote API."""


class PreconditionFailed(RemoteError):
    """The write's etag / version precondition did not hold (the entry changed)."""


class RateLimitedError(RemoteError):
    """429 that persisted after every retry."""


class AuthError(RemoteError):
    """401 (missing or bad API key) or 403 (key lacks the scope the operation needs)."""


class RunFatal(DsgitError):
    """Marks an error that ends the whole run (every later request would fail the same way):
    planning does not turn it into one diagnostic per store, it stops with this one error."""


class AccessDenied(AuthError, RunFatal):
    """The run's one 401 or 403, explained: the environment, the key variable, the scope.

    ``scopes`` are the Open Cloud permission scopes the refused operation needs.
    """

    def __init__(self, error: AuthError, explanation: str, scopes: tuple[str, ...]) -> None:
        super().__init__(
            error.method,
            error.path,
            error.status,
            error.code,
            error.remote_message,
            error.request_id,
        )
        self.scopes = scopes
        self.args = (f"{explanation}\n  (the refused request: {error})",)


class ServiceUnavailable(RemoteError, RunFatal):
    """The service answered only transient errors (5xx) for longer than the run's bound."""

    def __init__(self, error: RemoteError, explanation: str) -> None:
        super().__init__(
            error.method,
            error.path,
            error.status,
            error.code,
            error.remote_message,
            error.request_id,
        )
        self.args = (f"{explanation}\n  (the last answer: {error})",)


class MalformedResponse(RemoteError):
    """The remote answered a success status with a body dsgit cannot read (not JSON, bad fields)."""


class TransportError(DsgitError):
    """The request got no answer: timeout, refused connection, reset."""

    def __init__(self, method: str, path: str, reason: str) -> None:
        self.method = method
        self.path = path
        self.reason = reason
        super().__init__(f"{method} {path} failed: {reason}")


class ServiceUnreachable(TransportError, RunFatal):
    """No connection could be made to the environment's service after bounded retries."""

    def __init__(self, method: str, path: str, reason: str, explanation: str) -> None:
        super().__init__(method, path, reason)
        self.args = (explanation,)


class GitHubError(DsgitError):
    """A GitHub REST API request failed: an error status, no answer, or an unreadable body.

    The message names the method, host, path and status (``None`` when no answer came), never
    the token or any request header.
    """

    def __init__(self, method: str, host: str, path: str, status: int | None, reason: str) -> None:
        self.method = method
        self.host = host
        self.path = path
        self.status = status
        self.reason = reason
        answer = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"GitHub {method} {host}{path} failed: {answer}: {reason}")


class WriteOutcomeUnknown(DsgitError):
    """A non-idempotent write (an increment) failed ambiguously: it may have happened.

    dsgit does not retry it, because a second attempt could apply it twice; read the entry and
    decide. ``reason`` says what went wrong.
    """

    def __init__(self, method: str, path: str, reason: str) -> None:
        self.method = method
        self.path = path
        self.reason = reason
        super().__init__(
            f"{method} {path}: outcome unknown ({reason}); it was not retried because it may "
            "have been applied: read the entry before trying again"
        )


class LockHeld(DsgitError):
    """Another apply holds the environment lock (or this plan's journal on this machine)."""


class PolicyRefused(DsgitError):
    """Refused by policy: missing approvals or unsuppressed blocking diagnostics."""

    exit_code = EXIT_POLICY


class StalePlan(DsgitError):
    """The plan no longer matches: bad digest, expired, or the source commit moved."""

    exit_code = EXIT_STALE


class ConflictError(DsgitError):
    """A live entry changed after the plan was made; nothing was written to it."""

    exit_code = EXIT_CONFLICT


class PartialApply(DsgitError):
    """An apply stopped part way; running it again resumes it."""

    exit_code = EXIT_PARTIAL


class LedgerError(DsgitError):
    """The audit ledger cannot take a record: a damaged tail, or a chain head it cannot extend."""
