"""The declaration: what the repository says live data stores should hold (DESIGN.md §1).

Built by ``dsgit.repo`` (from the working tree or a git commit), consumed by planning. Pure
values, no I/O. Positions (``file``, ``line``) are repository-relative so diagnostics can point
at the line a reviewer must change.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from dsgit.model.entry import Address, EntryData, JSONValue, StoreKind

if TYPE_CHECKING:
    from dsgit.model.overrides import EnvironmentOverride

__all__ = [
    "Declaration",
    "DeclaredEntry",
    "KeyOverride",
    "Ownership",
    "SourceInfo",
    "StoreDeclaration",
    "StorePolicy",
    "Suppression",
]


class Ownership(StrEnum):
    """Who wins when git and game servers disagree (DESIGN.md §1)."""

    OWNED = "owned"  # git wins
    SEED = "seed"  # created when missing, never overwritten
    OBSERVED = "observed"  # never written, validated and reported only


@dataclass(frozen=True)
class Suppression:
    """A reviewed decision to let a blocking diagnostic through; the plan shows the reason.

    ``count`` is required for mass-delete suppressions: the number of deletions it allows.
    """

    code: str
    reason: str
    count: int | None = None
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class KeyOverride:
    """Settings for keys matching ``pattern`` (a glob, or a regex when written ``re:...``)."""

    pattern: str
    settings: Mapping[str, object]

    def matches(self, key: str) -> bool:
        if self.pattern.startswith("re:"):
            return re.fullmatch(self.pattern[3:], key) is not None
        return fnmatch.fnmatchcase(key, self.pattern)


@dataclass(frozen=True)
class StorePolicy:
    """The effective settings of a store (from ``_store.yaml``) or of one key after overrides."""

    ownership: Ownership = Ownership.OWNED
    prune: bool = False
    schema: str | None = None  # repository-relative path of the value schema, with any #fragment
    key_pattern: str | None = None  # regex every key must fully match
    scopes: tuple[str, ...] | None = None  # scopes dsgit manages; None: the scopes with files
    sensitive: tuple[str, ...] = ()  # JSON pointers masked in every output
    encrypted: tuple[str, ...] = ()  # JSON pointers that must be stored ENC[...]
    counters: tuple[str, ...] = ()  # key globs whose integer values are planned as increments
    mass_delete_threshold: float = 0.10  # share of a store's live keys
    mass_delete_min: int = 100  # absolute count that also triggers the mass-delete block
    suppress: tuple[Suppression, ...] = ()
    overrides: tuple[KeyOverride, ...] = ()

    def for_key(self, key: str) -> StorePolicy:
        """The policy for one key: later matching overrides win, field by field; their
        ``suppress`` lists add to the store's (a key-level suppression never hides one)."""
        policy = self
        for override in self.overrides:
            if override.matches(key):
                settings = dict(override.settings)
                extra = settings.pop("suppress", ())
                policy = replace(policy, **settings)  # type: ignore[arg-type]
                if extra:
                    policy = replace(policy, suppress=(*policy.suppress, *extra))  # type: ignore[misc]
        return policy

    def is_counter(self, key: str) -> bool:
        return any(fnmatch.fnmatchcase(key, pattern) for pattern in self.counters)


@dataclass(frozen=True)
class DeclaredEntry:
    """One entry file (standard store) or one line of an ordered scope file."""

    address: Address
    data: EntryData
    file: str
    line: int = 1
    moved_from: Address | None = None
    suppress: tuple[Suppression, ...] = ()
    # per-environment overrides (dsgit.model.overrides); empty once resolved for one
    environments: Mapping[str, EnvironmentOverride] = field(default_factory=dict)


@dataclass(frozen=True)
class StoreDeclaration:
    """One declared store: its policy and entries keyed by ``(scope, key)``.

    ``environments`` lists the environments the store exists in (None: every one).
    """

    kind: StoreKind
    name: str
    policy: StorePolicy
    entries: Mapping[tuple[str, str], DeclaredEntry]
    file: str | None = None  # the _store.yaml, when there is one
    environments: tuple[str, ...] | None = None

    def managed_scopes(self) -> tuple[str, ...]:
        if self.policy.scopes is not None:
            return self.policy.scopes
        return tuple(sorted({scope for scope, _ in self.entries}))


@dataclass(frozen=True)
class SourceInfo:
    """Where a declaration came from: the commit (None outside git), dirty flag, content digest."""

    commit: str | None
    dirty: bool
    digest: str


@dataclass(frozen=True)
class Declaration:
    """The whole repository's declared data: stores by ``(kind, name)`` and loaded schemas.

    As read, it holds every environment's overrides (``environment`` None);
    :func:`dsgit.model.overrides.for_environment` gives the one environment sees.
    """

    stores: Mapping[tuple[StoreKind, str], StoreDeclaration]
    schemas: Mapping[str, JSONValue] = field(default_factory=dict)
    source: SourceInfo = field(default_factory=lambda: SourceInfo(None, True, ""))
    # approval policy files by repository path -> sha256:<hex> of their bytes, or "absent"
    policies: Mapping[str, str] = field(default_factory=dict)
    environment: str | None = None  # the environment it was resolved for

    def entry(self, address: Address) -> DeclaredEntry | None:
        store = self.stores.get((address.kind, address.store))
        if store is None:
            return None
        return store.entries.get((address.scope, address.key))

    def data(self, address: Address) -> EntryData | None:
        entry = self.entry(address)
        return entry.data if entry is not None else None
