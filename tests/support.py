"""Helpers that tests in several areas share: running the CLI, and building or seeding data.

Kept free of fixtures: a test folder's ``conftest.py`` or helper module builds on these.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from dsgit.cli.main import main
from dsgit.model.declaration import (
    Declaration,
    DeclaredEntry,
    SourceInfo,
    StoreDeclaration,
    StorePolicy,
)
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.remote.api import OpenCloudApi
from dsgit.repo.digest import declaration_digest

LOCAL_CONFIG = """\
version: 1
default_environment: local
environments:
  local:
    universe_id: 1
    emulator: .dsgit/emulator.db
"""
"""A ``dsgit.yaml`` with one environment, ``local``, on the repository's embedded emulator."""

Live = Mapping[Address, EntryData | int]
"""Entries by address: ``EntryData`` for standard stores, ``int`` for ordered ones."""


def invoke_cli(args: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``dsgit ARGS`` through ``main`` (the real error boundary): exit code, stdout, stderr.

    The exit code is the process's: ``None`` is 0 and a non-integer code (a message) is 1.
    """
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    if code is None:
        return 0, out, err
    return (code if isinstance(code, int) else 1), out, err


def write_files(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``files`` (path relative to ``root`` -> UTF-8 text) under ``root``; returns root."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def declaration_of(
    entries: Live,
    policies: Mapping[tuple[StoreKind, str], StorePolicy] | None = None,
    commit: str | None = None,
) -> Declaration:
    """A declaration holding ``entries``, with a store for each of ``policies``; its digest is
    computed as the repository loader does, and it is dirty unless made at ``commit``."""
    grouped: dict[tuple[StoreKind, str], dict[tuple[str, str], DeclaredEntry]] = {}
    for address, data in entries.items():
        value = EntryData(data) if isinstance(data, int) else data
        grouped.setdefault((address.kind, address.store), {})[(address.scope, address.key)] = (
            DeclaredEntry(address, value, file=f"{address.store}/{address.key}.yaml")
        )
    for key in policies or {}:
        grouped.setdefault(key, {})
    stores = {
        key: StoreDeclaration(key[0], key[1], (policies or {}).get(key, StorePolicy()), found)
        for key, found in grouped.items()
    }
    digest = declaration_digest(stores, {})
    return Declaration(stores, {}, SourceInfo(commit, commit is None, digest))


def seed_live(api: OpenCloudApi, entries: Live) -> None:
    """Create each entry live (as a game server would have written it)."""
    for address, data in entries.items():
        if address.kind is StoreKind.ORDERED:
            assert isinstance(data, int)
            api.create_ordered(address.store, address.key, data, address.scope)
        else:
            assert isinstance(data, EntryData)
            api.create_entry(address.store, address.key, data, address.scope)


def read_live(api: OpenCloudApi, address: Address) -> EntryData | int | None:
    """The live data at ``address`` (the value for an ordered entry), or None when absent."""
    if address.kind is StoreKind.ORDERED:
        found = api.get_ordered(address.store, address.key, address.scope)
        return found.value if found is not None else None
    live = api.get_entry(address.store, address.key, address.scope)
    return live.data if live is not None and live.state != "DELETED" else None


_GIT_ENV = {
    "GIT_AUTHOR_NAME": "dsgit-tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "dsgit-tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,  # a user's signing or hook settings must not interfere
}


def run_git(root: Path, *args: str) -> str:
    """``git ARGS`` in ``root`` with a fixed identity and no user configuration; its stdout."""
    done = subprocess.run(
        ["git", *args],
        cwd=root,
        env={**os.environ, **_GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def drop_ledger(root: Path, api: OpenCloudApi, environment: str = "local") -> None:
    """What a kill before an apply's ledger records leaves: neither the environment's ledger
    files nor the chain head in its universe (``audit/ledger/<env>/``, the ``_dsgit`` head)."""
    import shutil

    from dsgit.ledger.head import HEAD_SCOPE, head_key
    from dsgit.ledger.layout import chain_dir
    from dsgit.model.entry import RESERVED_STORE

    shutil.rmtree(chain_dir(root, environment), ignore_errors=True)
    if api.get_entry(RESERVED_STORE, head_key(environment), HEAD_SCOPE) is not None:
        api.delete_entry(RESERVED_STORE, head_key(environment), HEAD_SCOPE)
