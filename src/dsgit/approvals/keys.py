"""Approver key pairs: Ed25519, the private key in a 0600 file outside the repository.

``dsgit keys generate --name NAME`` writes ``~/.config/dsgit/keys/NAME.key`` (PEM, PKCS#8) and
prints ``ed25519:<base64>``, the public key line for ``policies/approvals.yaml``. A private key
is never printed, logged, or put in an error message.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dsgit.errors import ConfigError, Location
from dsgit.policy.parse import KEY_PREFIX

__all__ = [
    "ApproverKey",
    "check_name",
    "default_key_path",
    "generate_key_file",
    "load_key",
    "public_key_line",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def public_key_line(private: Ed25519PrivateKey) -> str:
    """``ed25519:<base64 of the 32 raw public bytes>``."""
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return KEY_PREFIX + base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class ApproverKey:
    """A loaded private key; ``repr`` shows only the public key."""

    private: Ed25519PrivateKey
    path: Path

    @property
    def public(self) -> str:
        return public_key_line(self.private)

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.private.sign(data)).decode("ascii")

    def __repr__(self) -> str:
        return f"ApproverKey(public={self.public!r}, path={str(self.path)!r})"


def default_key_path(name: str, home: Path | None = None) -> Path:
    base = home if home is not None else Path.home()
    return base / ".config" / "dsgit" / "keys" / f"{name}.key"


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(
            f"approver name {name!r} must be 1-64 letters, digits, '.', '_' or '-' "
            "(it names the approval file)"
        )
    return name


def generate_key_file(name: str, out: Path | None = None) -> tuple[Path, str]:
    """Write a new private key (mode 0600, never over an existing file); ``(path, public)``."""
    check_name(name)
    path = out if out is not None else default_key_path(name)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    except FileExistsError:
        raise ConfigError(
            "a key file is already there; choose another --out or remove it first",
            Location(str(path)),
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot write the key: {exc.strerror}", Location(str(path))) from None
    try:
        os.fchmod(handle, 0o600)
        os.write(handle, pem)
        os.fsync(handle)
    finally:
        os.close(handle)
    return path, public_key_line(private)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def load_key(path: Path) -> ApproverKey:
    """The private key at ``path`` (PEM PKCS#8, or base64 of 32 raw bytes)."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a key file"
        raise ConfigError(f"cannot read the key: {reason}", Location(str(path))) from None
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise ConfigError(
            "the private key is readable by other users; run `chmod 600` on it",
            Location(str(path)),
        )
    stripped = text.strip()
    try:
        if stripped.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(stripped.encode("ascii"), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(stripped, validate=True))
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not Ed25519")
    except (ValueError, TypeError, binascii.Error):
        # Never echo the file: it is a private key.
        raise ConfigError(
            "not an Ed25519 private key (make one with `dsgit keys generate`)",
            Location(str(path)),
        ) from None
    return ApproverKey(key, path)
