"""Error responses of Open Cloud mapped, once, into dsgit's error tree.

Three body shapes exist: v2 ``{"code": "NOT_FOUND", "message": …}``, the gateway's
``{"errors": [{"code": 0, "message": "Invalid API Key"}]}`` and the configs API's free-form
objects. The error names the method, the URL path (never the host, query or headers), the
status, the Roblox code and message, and the request id when the response carries one.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from dsgit.errors import (
    AuthError,
    NotFoundError,
    PreconditionFailed,
    RateLimitedError,
    RemoteError,
)

__all__ = [
    "REQUEST_ID_HEADERS",
    "error_from_response",
    "is_retryable_status",
    "parse_retry_after",
]

REQUEST_ID_HEADERS = ("x-roblox-request-id", "roblox-request-id", "x-request-id")
_MAX_MESSAGE = 500
_PRECONDITION_CODES = frozenset({"ABORTED", "FAILED_PRECONDITION"})


def is_retryable_status(status: int) -> bool:
    """429 and the transient 5xx answers; 501 (not implemented) is permanent."""
    return status == 429 or status in (500, 502, 503, 504)


def _code_and_message(body: Any) -> tuple[str | None, str | None]:
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            code = first.get("code")
            message = first.get("message")
            return (
                None if code in (None, 0) else str(code),
                message if isinstance(message, str) else None,
            )
        code = body.get("code") or body.get("error")
        message = body.get("message") or body.get("title") or body.get("errorDetails")
        return (
            str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None,
            message if isinstance(message, str) else None,
        )
    return None, None


def _scrub(text: str | None, secrets: tuple[str, ...]) -> str | None:
    if text is None:
        return None
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    if len(text) > _MAX_MESSAGE:
        text = text[:_MAX_MESSAGE] + "…"
    return text


def request_id(response: httpx.Response) -> str | None:
    for header in REQUEST_ID_HEADERS:
        value = response.headers.get(header)
        if value:
            return str(value)
    return None


def error_from_response(
    method: str, path: str, response: httpx.Response, *, secrets: tuple[str, ...] = ()
) -> RemoteError:
    """The one place an error status becomes a ``RemoteError`` subclass.

    ``secrets`` (the API key) are replaced by ``***`` should a server ever echo them.
    """
    status = response.status_code
    try:
        body: Any = json.loads(response.content) if response.content else None
    except ValueError:
        body = None
    code, message = _code_and_message(body)
    if message is None and body is None and response.content:
        message = response.content[:200].decode("utf-8", "replace").strip() or None
    kind: type[RemoteError]
    if status in (401, 403):
        kind = AuthError
    elif status == 404:
        kind = NotFoundError
    elif status == 412 or (status == 409 and (code is None or code in _PRECONDITION_CODES)):
        kind = PreconditionFailed
    elif status == 429:
        kind = RateLimitedError
    else:
        kind = RemoteError
    return kind(
        method,
        path,
        status,
        _scrub(code, secrets),
        _scrub(message, secrets),
        _scrub(request_id(response), secrets),
    )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date); None if absent."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)
