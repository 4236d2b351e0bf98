"""Encrypted values in entry files (DESIGN.md §1; user guide: docs/encryption.md).

A value under one of a store's ``encrypted`` JSON pointers is stored as
``ENC[AES256_GCM,data:…,iv:…,tag:…,type:…,kid:…]``: AES-256-GCM with the entry address, the
pointer and the type as associated data, so each value is authenticated on its own and cannot
be moved to another entry or pointer. Keys come from the environment or a key file
(:func:`load_keyring`), never from the repository.

Errors (all :class:`~dsgit.errors.ConfigError`, never holding plaintext or keys)::

    EncryptionError
    ├── MalformedToken     a value shaped like ENC[...] that does not parse
    ├── DecryptionFailed   wrong key, edited token, or token moved to another entry/pointer
    ├── KeyNotAvailable    no key to encrypt with / no key with the token's key id
    └── KeyFileError       missing, malformed or git-tracked key file
"""

from __future__ import annotations

from dsgit.crypto.cipher import decrypt_value, encrypt_value
from dsgit.crypto.errors import (
    DecryptionFailed,
    EncryptionError,
    KeyFileError,
    KeyNotAvailable,
    MalformedToken,
)
from dsgit.crypto.keys import Key, Keyring, encode_key, generate_key, key_id, parse_key
from dsgit.crypto.keysource import (
    DEFAULT_KEY_FILE,
    ENV_KEY,
    ENV_KEY_FILE,
    ENV_KEYS,
    load_keyring,
    read_key_file,
    write_key_file,
)
from dsgit.crypto.token import is_encrypted
from dsgit.crypto.walk import (
    decrypt_all,
    decrypt_paths,
    encrypt_paths,
    find_encrypted,
    plaintext_paths,
    reencrypt_all,
)
from dsgit.model.pointers import expand, parse_pointer

__all__ = [
    "DEFAULT_KEY_FILE",
    "ENV_KEY",
    "ENV_KEYS",
    "ENV_KEY_FILE",
    "DecryptionFailed",
    "EncryptionError",
    "Key",
    "KeyFileError",
    "KeyNotAvailable",
    "Keyring",
    "MalformedToken",
    "decrypt_all",
    "decrypt_paths",
    "decrypt_value",
    "encode_key",
    "encrypt_paths",
    "encrypt_value",
    "expand",
    "find_encrypted",
    "generate_key",
    "is_encrypted",
    "key_id",
    "load_keyring",
    "parse_key",
    "parse_pointer",
    "plaintext_paths",
    "read_key_file",
    "reencrypt_all",
    "write_key_file",
]
