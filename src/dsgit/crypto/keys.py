"""Encryption keys and keyrings. Key material never appears in ``repr`` or in any message."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from dsgit.crypto.errors import KeyFileError, KeyNotAvailable

__all__ = ["KEY_SIZE", "Key", "Keyring", "encode_key", "generate_key", "key_id", "parse_key"]

KEY_SIZE = 32  # AES-256


def key_id(material: bytes) -> str:
    """The public name of a key: the first 8 hex digits of its SHA-256 (safe to print)."""
    return hashlib.sha256(material).hexdigest()[:8]


def generate_key() -> bytes:
    """A new random 32-byte key."""
    return os.urandom(KEY_SIZE)


def encode_key(material: bytes) -> str:
    """The text form of a key, as key files and ``DSGIT_ENCRYPTION_KEY`` hold it."""
    return base64.b64encode(material).decode("ascii")


@dataclass(frozen=True)
class Key:
    """One AES-256 key; ``source`` says where it came from (an env var name or a file)."""

    material: bytes = field(repr=False)
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.material) != KEY_SIZE:
            raise KeyFileError(f"a key must be {KEY_SIZE} bytes, got {len(self.material)}")

    @property
    def kid(self) -> str:
        return key_id(self.material)


def parse_key(text: str, source: str) -> Key:
    """Decode one base64 key; the error names ``source``, never the text."""
    try:
        material = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"{source}: not a base64-encoded key") from None
    if len(material) != KEY_SIZE:
        raise KeyFileError(
            f"{source}: a key must be {KEY_SIZE} bytes once base64-decoded, got {len(material)}"
        )
    return Key(material, source)


@dataclass(frozen=True)
class Keyring:
    """Keys to decrypt with, by key id; the first one is the one new values are encrypted with."""

    keys: tuple[Key, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyNotAvailable("a keyring needs at least one key")

    @classmethod
    def of(cls, keys: Iterable[Key]) -> Keyring:
        """A keyring of ``keys`` in order, dropping repeats of the same key."""
        seen: set[str] = set()
        unique: list[Key] = []
        for key in keys:
            if key.kid not in seen:
                seen.add(key.kid)
                unique.append(key)
        return cls(tuple(unique))

    @property
    def primary(self) -> Key:
        return self.keys[0]

    def find(self, kid: str) -> Key | None:
        for key in self.keys:
            if key.kid == kid:
                return key
        return None

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(key.kid for key in self.keys)
