"""The erasure proof's hashes: a per-repository salt, the salted user id and addresses.

The salt makes the hashes of one repository useless in another; with it an auditor who is told
a user id recomputes its hash and finds the erasure records. It is either

- ``audit/erasure.salt`` (32 random bytes, hex; made on first use and committed with the
  ledger). User ids are small numbers, so whoever holds the repository can test every id
  against the records: pseudonymisation, which the proof needs, not anonymity; or
- the secret ``DSGIT_ERASURE_SALT`` (at least 32 characters, e.g. ``openssl rand -hex 32``),
  kept like the ledger signing key: then nothing committed lets anyone test a guess, and
  ``dsgit audit log --user``, ``erase`` and ``apply`` need the secret. The two are never mixed:
  with the secret set, a salt file in the checkout is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from dsgit.errors import ConfigError, Location
from dsgit.ledger.layout import ARCHIVE_FILE, CHAINS_DIR, LEGACY_FILE, SUFFIX

__all__ = [
    "SALT_ENV",
    "SALT_FILE",
    "addresses_digest",
    "hashed_address",
    "hashed_user",
    "repository_salt",
]

SALT_FILE = "audit/erasure.salt"
SALT_ENV = "DSGIT_ERASURE_SALT"
MIN_SECRET = 32


def repository_salt(
    root: Path, *, create: bool = True, environ: Mapping[str, str] | None = None
) -> str:
    """The repository's salt: the secret ``DSGIT_ERASURE_SALT`` when set, else the committed
    file (made, atomically, when missing and ``create``; "" when missing and not ``create``).
    Missing while the ledger holds erasure records is a :class:`ConfigError` either way."""
    path = root / SALT_FILE
    secret = (os.environ if environ is None else environ).get(SALT_ENV, "").strip()
    if secret:
        return _secret_salt(path, secret)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        if _erasures_recorded(root):
            # Made with a salt this checkout does not have (the secret, or a file not
            # committed): a new salt would make hashes no auditor can match with the old ones,
            # and without one `erase --verify`, `audit log --user`, revert and restore could
            # not tell which entries an erasure wrote (restore would bring them back).
            raise ConfigError(
                f"the ledger holds erasure records but neither {SALT_FILE} nor ${SALT_ENV} is "
                f"here: set ${SALT_ENV} to the secret they were made with, or restore the file",
                Location(SALT_FILE),
            ) from None
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


def _erasures_recorded(root: Path) -> bool:
    """Whether any ledger file of the repository holds an ``erasure`` record."""
    folder = root / CHAINS_DIR
    files = [root / LEGACY_FILE, root / ARCHIVE_FILE]
    if folder.is_dir():
        files += sorted(folder.rglob("*" + SUFFIX))
    for file in files:
        try:
            if b'"type":"erasure"' in file.read_bytes():
                return True
        except OSError:  # missing (the legacy files) or unreadable: the ledger reports it
            continue
    return False


def _secret_salt(path: Path, secret: str) -> str:
    if len(secret) < MIN_SECRET:
        raise ConfigError(
            "too short to keep user ids from being guessed: use at least "
            f"{MIN_SECRET} random characters (e.g. `openssl rand -hex 32`)",
            Location(f"${SALT_ENV}"),
        )
    if path.exists() or path.is_symlink():  # never quote either: the secret stays out of output
        raise ConfigError(
            f"{SALT_FILE} is in the checkout while ${SALT_ENV} is set: one repository has one "
            "salt (its erasure records were made with one of them). Keep the file and unset "
            f"${SALT_ENV}, or, before the first erasure, delete the file",
            Location(SALT_FILE),
        )
    return secret


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
