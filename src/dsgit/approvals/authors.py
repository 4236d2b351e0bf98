"""Who made a plan: the actor running ``dsgit plan`` and the authors, committers and
co-authors of the commit it was made from. They may not approve it (DESIGN §5); the plan
records them (``context.authors``), so apply and the Action judge the same set."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = [
    "co_authors",
    "decode_authors",
    "encode_authors",
    "identities_of_commit",
    "local_identities",
    "noreply_login",
]

_CO_AUTHOR = re.compile(r"^\s*co-authored-by:\s*(.*?)\s*<([^>]+)>\s*$", re.IGNORECASE | re.M)
_NOREPLY = re.compile(r"^(?:\d+\+)?([A-Za-z0-9-]+)@users\.noreply\.github\.com$", re.IGNORECASE)


def noreply_login(email: str) -> str | None:
    """``12345+alice@users.noreply.github.com`` -> ``alice``."""
    match = _NOREPLY.match(email.strip())
    return match.group(1) if match else None


def co_authors(message: str) -> list[tuple[str, str]]:
    """``(name, email)`` of every ``Co-authored-by:`` trailer."""
    return [(m.group(1), m.group(2)) for m in _CO_AUTHOR.finditer(message)]


def _people(pairs: Iterable[tuple[str, str]]) -> set[str]:
    found: set[str] = set()
    for name, email in pairs:
        if name.strip():
            found.add(name.strip().lower())
        if email.strip():
            found.add(email.strip().lower())
            login = noreply_login(email)
            if login:
                found.add(login.lower())
    return found


def identities_of_commit(root: Path, commit: str | None) -> set[str]:
    """Author, committer and co-authors of ``commit`` in the repository at ``root``."""
    if commit is None:
        return set()
    try:
        import git

        repo = git.Repo(root, search_parent_directories=True)
        found = repo.commit(commit)
    except Exception:  # no git, no repository, unknown commit: nothing to add
        return set()
    message = found.message if isinstance(found.message, str) else found.message.decode()
    pairs = [
        (str(found.author.name or ""), str(found.author.email or "")),
        (str(found.committer.name or ""), str(found.committer.email or "")),
        *co_authors(message),
    ]
    return _people(pairs)


def local_identities(root: Path, environ: Mapping[str, str] | None = None) -> set[str]:
    """The person running a command: ``DSGIT_ACTOR``, ``GITHUB_ACTOR``, git's user.name and
    user.email, and the login name."""
    env = os.environ if environ is None else environ
    found = {env[name].strip().lower() for name in ("DSGIT_ACTOR", "GITHUB_ACTOR") if env.get(name)}
    try:
        import git

        reader = git.Repo(root, search_parent_directories=True).config_reader()
        for option in ("name", "email"):
            value = reader.get_value("user", option, default="")
            if isinstance(value, str) and value.strip():
                found.add(value.strip().lower())
    except Exception:  # outside git, or no identity configured
        pass
    with contextlib.suppress(KeyError, OSError):
        found.add(getpass.getuser().lower())
    return found


def encode_authors(identities: Iterable[str]) -> str:
    return json.dumps(sorted(set(identities)), separators=(",", ":"))


def decode_authors(text: str | None) -> frozenset[str]:
    if not text:
        return frozenset()
    try:
        value = json.loads(text)
    except ValueError:
        return frozenset()
    if not isinstance(value, list):
        return frozenset()
    return frozenset(str(item).lower() for item in value)
