"""Store policies for import, read from the repository's ``_store.yaml`` files."""

from __future__ import annotations

from pathlib import Path

from dsgit.config import CONFIG_FILE
from dsgit.crypto.keys import Keyring
from dsgit.importer.run import PolicySource
from dsgit.model.declaration import Declaration, StorePolicy
from dsgit.model.entry import StoreKind
from dsgit.model.layout import STORE_FILE
from dsgit.repo import read_worktree

__all__ = ["policies_of", "repository_policies"]


def policies_of(declaration: Declaration) -> PolicySource:
    """The policy of each declared store; the default policy for a store with no files."""

    def policy(kind: StoreKind, store: str) -> StorePolicy:
        found = declaration.stores.get((kind, store))
        return found.policy if found is not None else StorePolicy()

    return policy


def repository_policies(root: Path, keyring: Keyring | None = None) -> PolicySource:
    """The policies of the working tree under ``root``.

    A broken ``_store.yaml`` (or ``dsgit.yaml``) stops the import: reading it as "no settings"
    could drop its ``encrypted`` pointers and write secrets in plaintext. Problems in entry files
    do not matter here: import rewrites those from live data.
    """
    reading = read_worktree(root, keyring=keyring)
    for problem in reading.errors:
        if problem.file.endswith(STORE_FILE) or problem.file == CONFIG_FILE:
            raise problem.to_error()
    return policies_of(reading.declaration)
