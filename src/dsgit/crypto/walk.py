"""Encrypt and decrypt the values of one entry at a list of JSON pointer patterns.

Patterns are JSON pointers relative to the entry's ``value``; a ``*`` segment matches every
array item and object member (see :mod:`dsgit.model.pointers`). Patterns are applied from the
shallowest to the deepest, so when both ``/a`` and ``/a/b`` are listed, ``/a`` is encrypted as
a whole. Paths absent from a value are skipped (optional fields stay optional). Every function
returns a new value; the input is never modified.
"""

from __future__ import annotations

from collections.abc import Iterable

from dsgit.crypto.cipher import decrypt_value, encrypt_value
from dsgit.crypto.errors import EncryptionError
from dsgit.crypto.keys import Key, Keyring
from dsgit.crypto.token import is_encrypted, parse_token
from dsgit.model.entry import Address, JSONValue
from dsgit.model.pointers import expand, format_pointer, parse_pointer, resolve, set_at
from dsgit.yamlio.equality import json_equal

__all__ = [
    "decrypt_all",
    "decrypt_paths",
    "encrypt_paths",
    "find_encrypted",
    "plaintext_paths",
    "reencrypt_all",
]


def _by_depth(patterns: Iterable[str]) -> list[str]:
    unique = dict.fromkeys(patterns)
    return sorted(unique, key=lambda pattern: len(parse_pointer(pattern)))


def encrypt_paths(
    value: JSONValue,
    patterns: Iterable[str],
    key: Key,
    address: Address | str,
    *,
    previous: JSONValue = None,
    keyring: Keyring | None = None,
) -> JSONValue:
    """Encrypt every plaintext node ``patterns`` match; tokens already there are kept.

    With ``previous`` (the value as it was stored, tokens and all) and ``keyring``, a node whose
    plaintext equals what the token at the same pointer of ``previous`` decrypts to keeps that
    token, so re-encrypting an unchanged value changes no byte of its file.
    """
    result = value
    for pattern in _by_depth(patterns):
        for pointer in expand(result, pattern):
            present, node = resolve(result, pointer)
            if not present or is_encrypted(node):
                continue
            reused = _reusable(previous, pointer, node, keyring, address)
            token = reused if reused is not None else encrypt_value(node, key, address, pointer)
            result = set_at(result, pointer, token)
    return result


def _reusable(
    previous: JSONValue,
    pointer: str,
    plaintext: JSONValue,
    keyring: Keyring | None,
    address: Address | str,
) -> str | None:
    if keyring is None:
        return None
    present, old = resolve(previous, pointer)
    if not present or not is_encrypted(old):
        return None
    if not json_equal(decrypt_value(old, keyring, address, pointer), plaintext):
        return None
    return old


def decrypt_paths(
    value: JSONValue, patterns: Iterable[str], keyring: Keyring, address: Address | str
) -> JSONValue:
    """Decrypt the tokens at the nodes ``patterns`` match (plaintext there is left alone)."""
    result = value
    for pattern in _by_depth(patterns):
        for pointer in expand(result, pattern):
            present, node = resolve(result, pointer)
            if present and is_encrypted(node):
                plain = decrypt_value(node, keyring, address, pointer)
                result = set_at(result, pointer, plain)
    return result


def plaintext_paths(value: JSONValue, patterns: Iterable[str]) -> list[str]:
    """Concrete pointers that ``patterns`` match whose node is not encrypted (a leak to report).

    A node under an already-encrypted ancestor is not reported: the ancestor covers it.
    """
    leaks: list[str] = []
    for pattern in _by_depth(patterns):
        for pointer in expand(value, pattern):
            present, node = resolve(value, pointer)
            if present and not is_encrypted(node):
                leaks.append(pointer)
    return leaks


def find_encrypted(value: JSONValue) -> list[str]:
    """Pointers of every ``ENC[...]`` token in ``value``, in document order."""
    found: list[str] = []

    def go(node: JSONValue, path: list[str]) -> None:
        if is_encrypted(node):
            found.append(format_pointer(path))
        elif isinstance(node, dict):
            for name, child in node.items():
                go(child, [*path, name])
        elif isinstance(node, list):
            for index, child in enumerate(node):
                go(child, [*path, str(index)])

    go(value, [])
    return found


def decrypt_all(value: JSONValue, keyring: Keyring, address: Address | str) -> JSONValue:
    """Decrypt every token in ``value`` wherever it sits (tokens inside decrypted JSON too)."""
    result = value
    pending = find_encrypted(result)
    while pending:
        for pointer in pending:
            _, node = resolve(result, pointer)
            assert isinstance(node, str)
            plain = decrypt_value(node, keyring, address, pointer)
            result = set_at(result, pointer, plain)
        pending = find_encrypted(result)
    return result


def reencrypt_all(
    value: JSONValue, keyring: Keyring, new_key: Key, address: Address | str
) -> tuple[JSONValue, int]:
    """Every token re-encrypted with ``new_key`` (tokens already under it are kept).

    Returns the new value and how many tokens changed.
    """
    result = value
    changed = 0
    for pointer in find_encrypted(value):
        _, node = resolve(result, pointer)
        assert isinstance(node, str)
        if parse_token(node, address=str(address), pointer=pointer).kid == new_key.kid:
            continue
        plain = decrypt_value(node, keyring, address, pointer)
        if is_encrypted(plain):
            raise EncryptionError(
                "holds a token encrypted twice; decrypt it and encrypt it again",
                address=str(address),
                pointer=pointer,
            )
        token = encrypt_value(plain, new_key, address, pointer)
        result = set_at(result, pointer, token)
        changed += 1
    return result, changed
