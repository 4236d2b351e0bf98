"""Encrypt and decrypt one JSON value with AES-256-GCM, bound to where it is stored.

The associated data (authenticated, not encrypted) of every value is::

    <entry address> "#" <JSON pointer> "\\n" <type>

for example ``PlayerData/global/Player_1#/token\\nstr``. The GCM tag is therefore a MAC over
the ciphertext, the entry address, the pointer inside the value and the declared type: editing
``data``, ``iv``, ``tag`` or ``type``, or moving the token to another entry or pointer, makes
decryption fail. The address is path-encoded (it holds no ``#`` or newline) and the type holds
no newline, so the associated data of two different places never coincide.
"""

from __future__ import annotations

import json
import math
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dsgit.crypto.errors import DecryptionFailed, EncryptionError, KeyNotAvailable
from dsgit.crypto.keys import Key, Keyring
from dsgit.crypto.token import IV_SIZE, TAG_SIZE, Token, ValueType, format_token, parse_token
from dsgit.model.entry import Address, JSONValue

__all__ = ["associated_data", "decrypt_value", "encrypt_value", "value_type"]


def associated_data(address: Address | str, pointer: str, value_type: ValueType) -> bytes:
    return f"{address}#{pointer}\n{value_type}".encode()


def value_type(value: JSONValue) -> ValueType:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "json"


def _to_bytes(value: JSONValue, kind: ValueType, address: str, pointer: str) -> bytes:
    if kind == "str":
        assert isinstance(value, str)
        return value.encode("utf-8")
    if kind == "bool":
        return b"true" if value else b"false"
    if kind == "float":
        assert isinstance(value, float)
        if not math.isfinite(value):
            raise EncryptionError(
                "cannot encrypt a non-finite number (not JSON)", address=address, pointer=pointer
            )
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
            "utf-8"
        )
    except (TypeError, ValueError):
        raise EncryptionError(
            "cannot encrypt a value that is not JSON", address=address, pointer=pointer
        ) from None


def _reject_constant(name: str) -> JSONValue:
    raise ValueError(name)


def _from_bytes(raw: bytes, kind: ValueType, address: str, pointer: str) -> JSONValue:
    try:
        text = raw.decode("utf-8")
        if kind == "str":
            return text
        if kind == "bool":
            if text not in ("true", "false"):
                raise ValueError(kind)
            return text == "true"
        value: JSONValue = json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):
        raise DecryptionFailed(
            f"decrypted value is not a valid {kind}", address=address, pointer=pointer
        ) from None
    if value_type(value) != kind:
        raise DecryptionFailed(
            f"decrypted value is not a valid {kind}", address=address, pointer=pointer
        )
    return value


def encrypt_value(value: JSONValue, key: Key | bytes, address: Address | str, pointer: str) -> str:
    """Encrypt ``value`` stored at ``pointer`` of the entry ``address``; returns ``ENC[...]``."""
    if isinstance(key, bytes):
        key = Key(key)
    where = str(address)
    kind = value_type(value)
    iv = os.urandom(IV_SIZE)
    sealed = AESGCM(key.material).encrypt(
        iv, _to_bytes(value, kind, where, pointer), associated_data(where, pointer, kind)
    )
    token = Token(sealed[:-TAG_SIZE], iv, sealed[-TAG_SIZE:], kind, key.kid)
    return format_token(token)


def decrypt_value(
    token: str, keyring: Keyring | Key | bytes, address: Address | str, pointer: str
) -> JSONValue:
    """Decrypt an ``ENC[...]`` token found at ``pointer`` of the entry ``address``.

    Raises :class:`DecryptionFailed` when the key is wrong, any part of the token was edited,
    or the token was moved from another entry or pointer; the message never holds plaintext.
    """
    where = str(address)
    if isinstance(keyring, bytes):
        keyring = Key(keyring)
    if isinstance(keyring, Key):
        keyring = Keyring((keyring,))
    parsed = parse_token(token, address=where, pointer=pointer)
    key = keyring.find(parsed.kid)
    if key is None:
        raise KeyNotAvailable(
            f"encrypted with key {parsed.kid}, which is not among the available keys "
            f"({', '.join(keyring.kids)})",
            address=where,
            pointer=pointer,
        )
    try:
        raw = AESGCM(key.material).decrypt(
            parsed.iv, parsed.data + parsed.tag, associated_data(where, pointer, parsed.type)
        )
    except InvalidTag:
        raise DecryptionFailed(
            "cannot decrypt: the value was edited, or moved here from another entry or pointer "
            f"(key {parsed.kid})",
            address=where,
            pointer=pointer,
        ) from None
    return _from_bytes(raw, parsed.type, where, pointer)
