"""API keys and their permission scopes, checked as the Open Cloud gateway does.

A key grants scopes such as ``universe-datastores.objects:read``; ``universe-datastores.objects:*``
grants every operation of that resource and ``*`` grants everything.
"""

from __future__ import annotations

from collections.abc import Mapping

from dsgit.emulator.api_error import GatewayError
from dsgit.emulator.routes import Operation
from dsgit.emulator.wire import Request

__all__ = ["MISSING_KEY", "Auth", "allows", "api_key_of"]

MISSING_KEY = "Invalid API Key"
"""What the gateway answers (401) to a request without ``x-api-key``, as to a wrong key."""


def api_key_of(request: Request) -> str | None:
    """``x-api-key``, or an OAuth-style ``Authorization: Bearer <key>`` (rblx-open-cloud and
    openblox send the latter for OAuth tokens): both are checked against the same keys."""
    key = request.header("x-api-key")
    if key:
        return key
    scheme, _, token = (request.header("authorization") or "").strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def allows(granted: frozenset[str], scope: str) -> bool:
    if "*" in granted or scope in granted:
        return True
    resource, _, _ = scope.rpartition(":")
    return f"{resource}:*" in granted


class Auth:
    """``keys`` None: no authentication; otherwise ``x-api-key`` must be one of them."""

    def __init__(self, keys: Mapping[str, frozenset[str]] | None) -> None:
        self._keys = None if keys is None else dict(keys)

    @property
    def enabled(self) -> bool:
        return self._keys is not None

    def check(self, operation: Operation, api_key: str | None) -> frozenset[str] | None:
        """The scopes of the caller's key (None with auth off). 401/403 if refused."""
        if self._keys is None:
            return None
        granted = self._keys.get(api_key or "")
        if granted is None:
            raise GatewayError(401, MISSING_KEY)
        needed = operation.scopes
        ok = (
            any(allows(granted, scope) for scope in needed)
            if operation.any_scope
            else all(allows(granted, scope) for scope in needed)
        )
        if not ok:
            raise GatewayError(403, f"Insufficient scope: requires {', '.join(needed)}")
        return granted

    @staticmethod
    def require(granted: frozenset[str] | None, scope: str) -> None:
        """For conditional scopes checked by a handler once it knows what exists."""
        if granted is not None and not allows(granted, scope):
            raise GatewayError(403, f"Insufficient scope: requires {scope}")
