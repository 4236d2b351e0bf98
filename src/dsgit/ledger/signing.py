"""Ed25519 signatures on ledger records.

The signing key never lives in the repository: it comes from ``DSGIT_LEDGER_KEY`` (base64 of the
32 raw private bytes, or PEM text) or from the file named by ``DSGIT_LEDGER_KEY_FILE``. Public
keys live in the repository, ``audit/keys/<name>.pub`` (base64 of the 32 raw public bytes, or
PEM), so anyone with a checkout can verify. A key id is the first 16 hex digits of the sha256
of the raw public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from dsgit.errors import ConfigError, Location
from dsgit.ledger.records import Signature

__all__ = [
    "KEY_ENV",
    "KEY_FILE_ENV",
    "PUBLIC_KEYS_DIR",
    "Signer",
    "generate_key",
    "key_id",
    "load_public_keys",
    "load_signer",
    "verify_signature",
]

KEY_ENV = "DSGIT_LEDGER_KEY"
KEY_FILE_ENV = "DSGIT_LEDGER_KEY_FILE"
PUBLIC_KEYS_DIR = "audit/keys"


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    """A private key ready to sign record hashes."""

    private: Ed25519PrivateKey

    @property
    def key_id(self) -> str:
        return key_id(self.private.public_key())

    def sign(self, record_hash: str) -> Signature:
        value = self.private.sign(record_hash.encode("utf-8"))
        return Signature(self.key_id, base64.b64encode(value).decode("ascii"))

    def public_text(self) -> str:
        """The public key as it is stored in ``audit/keys/*.pub``."""
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode("ascii") + "\n"

    def private_text(self) -> str:
        raw = self.private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return base64.b64encode(raw).decode("ascii") + "\n"


def generate_key() -> Signer:
    return Signer(Ed25519PrivateKey.generate())


def load_signer(environ: Mapping[str, str] | None = None) -> Signer | None:
    """The signing key from the environment, or None when none is configured."""
    env = os.environ if environ is None else environ
    text = env.get(KEY_ENV)
    where = f"${KEY_ENV}"
    if not text and env.get(KEY_FILE_ENV):
        path = Path(env[KEY_FILE_ENV])
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot read the ledger signing key: {exc.strerror}", Location(where)
            ) from None
    if not text:
        return None
    return Signer(_private_from_text(text, where))


def _private_from_text(text: str, where: str) -> Ed25519PrivateKey:
    stripped = text.strip()
    try:
        if stripped.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(stripped.encode("ascii"), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError("not an Ed25519 key")
            return key
        raw = base64.b64decode(stripped, validate=True)
        return Ed25519PrivateKey.from_private_bytes(raw)
    except (ValueError, TypeError, binascii.Error):
        # The message must not echo the text: it is a private key.
        raise ConfigError(
            "the ledger signing key is not an Ed25519 key (base64 of 32 bytes, or PEM)",
            Location(where),
        ) from None


def _public_from_text(text: str, where: str) -> Ed25519PublicKey:
    stripped = text.strip()
    try:
        if stripped.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(stripped.encode("ascii"))
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("not an Ed25519 key")
            return key
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(stripped, validate=True))
    except (ValueError, TypeError, binascii.Error):
        raise ConfigError(
            "not an Ed25519 public key (base64 of 32 bytes, or PEM)", Location(where)
        ) from None


def load_public_keys(root: Path) -> dict[str, Ed25519PublicKey]:
    """Public keys of ``audit/keys/*.pub`` by key id."""
    keys: dict[str, Ed25519PublicKey] = {}
    folder = root / PUBLIC_KEYS_DIR
    if not folder.is_dir():
        return keys
    for path in sorted(folder.glob("*.pub")):
        public = _public_from_text(path.read_text(encoding="utf-8"), str(path.relative_to(root)))
        keys[key_id(public)] = public
    return keys


def verify_signature(
    record_hash: str, signature: Signature, keys: Mapping[str, Ed25519PublicKey]
) -> str | None:
    """None when valid, else the reason it is not."""
    public = keys.get(signature.key_id)
    if public is None:
        return f"signed by unknown key {signature.key_id} (not in {PUBLIC_KEYS_DIR}/)"
    try:
        public.verify(base64.b64decode(signature.value, validate=True), record_hash.encode())
    except (InvalidSignature, ValueError, binascii.Error):
        return f"bad signature by key {signature.key_id}"
    return None
