"""The erasure proof's hashes: a per-repository salt, the salted user id and addresses.

``audit/erasure.salt`` (32 random bytes, hex; made on first use and committed with the
ledger) makes the hashes of one repository useless in another; with it an auditor who is told
a user id recomputes its hash and finds the erasure records. (User ids are small numbers: this
is pseudonymisation, which the proof needs; it does not identify without the id.)
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

__all__ = ["SALT_FILE", "addresses_digest", "hashed_address", "hashed_user", "repository_salt"]

SALT_FILE = "audit/erasure.salt"


def repository_salt(root: Path, *, create: bool = True) -> str:
    """The repository's salt (made, atomically, when missing and ``create``)."""
    path = root / SALT_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        if not create:
            return ""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
        try:
            os.link(temporary, path)  # fails when another process made it first: use theirs
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
        text = path.read_text(encoding="ascii").strip()
    return text


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def hashed_user(salt: str, user: int) -> str:
    return _digest(f"dsgit-erasure-user:{salt}:{int(user)}")


def hashed_address(salt: str, address: str) -> str:
    return _digest(f"dsgit-erasure-address:{salt}:{address}")


def addresses_digest(salt: str, addresses: Iterable[str]) -> str:
    """sha256 of the canonical sorted list of the addresses' salted hashes."""
    hashes = sorted({hashed_address(salt, a) for a in addresses})
    return _digest(json.dumps(hashes, separators=(",", ":")))
