"""Store policies for import, read from the repository's ``_store.yaml`` files."""

from __future__ import annotations

from pathlib import Path

from dsgit.config import CONFIG_FILE
from dsgit.crypto.keys import Keyring
from dsgit.importer.environments import EnvironmentPlacement
from dsgit.importer.run import PolicySource
from dsgit.model.declaration import Declaration, StorePolicy
from dsgit.model.entry import StoreKind
from dsgit.model.layout import STORE_FILE
from dsgit.repo import read_worktree

__all__ = ["placement_of", "policies_of", "read_store_settings", "repository_policies"]


def policies_of(declaration: Declaration) -> PolicySource:
    """The policy of each declared store; the default policy for a store with no files."""

    def policy(kind: StoreKind, store: str) -> StorePolicy:
        found = declaration.stores.get((kind, store))
        return found.policy if found is not None else StorePolicy()

    return policy


def placement_of(
    declaration: Declaration, environment: str, environments: tuple[str, ...]
) -> EnvironmentPlacement:
    """Where an import into ``environment`` puts what differs (per-environment overrides)."""
    stores = {place: store.environments for place, store in declaration.stores.items()}
    return EnvironmentPlacement(environment, environments, stores)


def repository_policies(root: Path, keyring: Keyring | None = None) -> PolicySource:
    """The policies of the working tree under ``root`` (see :func:`read_store_settings`)."""
    return policies_of(read_store_settings(root, keyring))


def read_store_settings(root: Path, keyring: Keyring | None = None) -> Declaration:
    """The declaration of the working tree under ``root``, for its stores' settings.

    A broken ``_store.yaml`` (or ``dsgit.yaml``) stops the import: reading it as "no settings"
    could drop its ``encrypted`` pointers and write secrets in plaintext. Problems in entry files
    do not matter here: import rewrites those from live data.
    """
    reading = read_worktree(root, keyring=keyring)
    for problem in reading.errors:
        if problem.file.endswith(STORE_FILE) or problem.file == CONFIG_FILE:
            raise problem.to_error()
    return reading.declaration
