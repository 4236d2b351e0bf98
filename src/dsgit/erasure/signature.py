"""The ``roblox-signature`` header of a webhook: ``t=<unix seconds>,v1=<base64 signature>``.

The signature is base64(HMAC-SHA256(secret, "<t>.<raw body>")) (Roblox's webhook
documentation). It is checked over the raw bytes received, never over re-encoded JSON, with a
constant-time comparison; a timestamp older than ``max_age`` or more than ``max_skew`` in the
future is refused, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

__all__ = ["MAX_AGE_SECONDS", "MAX_SKEW_SECONDS", "SignatureRejected", "sign", "verify"]

MAX_AGE_SECONDS = 600  # 10 minutes, Roblox's documented example
MAX_SKEW_SECONDS = 60  # clocks differ a little; further in the future is refused


class SignatureRejected(Exception):
    """Why a request's signature was refused (the message names no secret)."""


@dataclass(frozen=True)
class _Header:
    timestamp: int
    signatures: tuple[str, ...]


def _parse(header: str) -> _Header:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if name == "t":
            if not value.isdigit():
                raise SignatureRejected("roblox-signature: t is not unix seconds")
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None:
        raise SignatureRejected("roblox-signature: no t= timestamp")
    if not signatures:
        raise SignatureRejected("roblox-signature: no v1= signature")
    return _Header(timestamp, tuple(signatures))


def _digest(secret: str, timestamp: int, body: bytes) -> bytes:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header Roblox sends for ``body`` at ``timestamp`` (tests and `webhook` docs use it)."""
    value = base64.b64encode(_digest(secret, timestamp, body)).decode("ascii")
    return f"t={timestamp},v1={value}"


def verify(
    header: str | None,
    body: bytes,
    secret: str,
    now: float,
    *,
    max_age: int = MAX_AGE_SECONDS,
    max_skew: int = MAX_SKEW_SECONDS,
) -> int:
    """The verified timestamp; :class:`SignatureRejected` for anything else."""
    if not header:
        raise SignatureRejected("no roblox-signature header")
    parsed = _parse(header)
    if parsed.timestamp < now - max_age:
        raise SignatureRejected(f"stale timestamp (older than {max_age} seconds)")
    if parsed.timestamp > now + max_skew:
        raise SignatureRejected("timestamp in the future")
    expected = _digest(secret, parsed.timestamp, body)
    matched = False
    for candidate in parsed.signatures:
        try:
            given = base64.b64decode(candidate, validate=True)
        except ValueError:
            continue
        # compare_digest on every candidate: no early exit that leaks which one matched
        matched = hmac.compare_digest(given, expected) or matched
    if not matched:
        raise SignatureRejected("signature does not match")
    return parsed.timestamp
