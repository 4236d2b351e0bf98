"""Signing generic webhook bodies as Roblox signs its own (``roblox-signature``).

Header ``dsgit-signature: t=<unix seconds>,v1=<signature>`` where the signature is
``base64(HMAC-SHA256(secret, "<t>.<raw body>"))``. A receiver recomputes it over the raw bytes
it got, compares in constant time, and rejects a timestamp older than its tolerance (Roblox's
documented example is 10 minutes) and an ``id`` it has seen (retries resend the same id).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "sign", "verify"]

SIGNATURE_HEADER = "dsgit-signature"


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 600) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` and is at most ``tolerance`` seconds
    from ``now`` (what a receiver does; dsgit's tests use it, and docs/notifications.md shows
    the same steps for receivers in other languages)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), _digest(secret, timestamp, body))
