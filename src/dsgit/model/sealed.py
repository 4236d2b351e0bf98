"""How an encrypted value looks in an entry file, without the cryptography to open it.

The planning core must tell an ``ENC[...]`` value from plaintext (it is shown masked and never
encrypted twice) but must not load ``cryptography``: the shape lives here, the cipher in
:mod:`dsgit.crypto`.
"""

from __future__ import annotations

from typing import TypeGuard

__all__ = ["PREFIX", "is_encrypted"]

PREFIX = "ENC["


def is_encrypted(value: object) -> TypeGuard[str]:
    """True for a string shaped like ``ENC[...]`` (well-formed or not: a damaged token is still
    a token, never plaintext to encrypt again)."""
    return isinstance(value, str) and value.startswith(PREFIX) and value.endswith("]")
