"""A migration (``migrations/<id>.yaml``) as frozen values: which live entries it selects and
the ordered steps that turn an old save format into the new one (docs/lifecycle.md).

Steps form a closed union handled with ``match`` in :mod:`dsgit.migrate.transform`:

- :class:`Rename`: a member renamed in place (``/Data/Gold`` becomes ``/Data/Coins``);
- :class:`Move`: a value moved to another pointer, parents created as needed;
- :class:`Default`: a value set where a member is absent;
- :class:`Convert`: a value converted to another JSON type (``"12"`` -> ``12``);
- :class:`Patch`: RFC 6902 JSON Patch operations, applied as the RFC says.

The declarative steps are idempotent by construction (renaming a member that is gone, or
converting a value already of the wanted type, changes nothing); a JSON Patch may not be, which
is why the planner checks every migrated value once more (:mod:`dsgit.migrate.planner`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import TypeAlias

from dsgit.model.entry import DEFAULT_SCOPE, JSONValue

__all__ = [
    "Convert",
    "Default",
    "JsonType",
    "Migration",
    "Move",
    "Patch",
    "Rename",
    "Selection",
    "Step",
]


class JsonType(StrEnum):
    """What :class:`Convert` converts to."""

    STRING = "string"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    OBJECT = "object"
    ARRAY = "array"


@dataclass(frozen=True)
class Selection:
    """Which live entries a migration reads: a store (a name, or a glob such as ``DATA/*``
    over the listed store names), a scope, and keys by glob, prefix or regular expression.

    ``match`` is the JSON Schema the old value must satisfy: inline (a mapping or boolean) or
    a reference into ``schemas/`` as a store's ``schema:`` setting is; None matches every value.
    """

    store: str
    scope: str = DEFAULT_SCOPE
    keys: str | None = None
    prefix: str | None = None
    key_pattern: str | None = None
    match: JSONValue | str | None = None

    @property
    def store_is_glob(self) -> bool:
        return any(char in self.store for char in "*?[")

    def selects_store(self, name: str) -> bool:
        return fnmatchcase(name, self.store) if self.store_is_glob else name == self.store

    @property
    def list_prefix(self) -> str:
        """The key prefix a listing can ask for (Open Cloud lists by prefix only)."""
        if self.prefix is not None:
            return self.prefix
        if self.keys is not None:
            head = re.split(r"[*?\[]", self.keys, maxsplit=1)[0]
            return head
        return ""

    def selects_key(self, key: str) -> bool:
        if self.prefix is not None and not key.startswith(self.prefix):
            return False
        if self.keys is not None and not fnmatchcase(key, self.keys):
            return False
        return self.key_pattern is None or re.fullmatch(self.key_pattern, key) is not None


@dataclass(frozen=True)
class Rename:
    """Rename the member at ``path`` (its last segment) to ``to`` in the same object.

    ``path`` may hold ``*`` segments before the last one (``/Data/Pets/*/Lvl``): every object
    they reach is renamed in.
    """

    path: str
    to: str


@dataclass(frozen=True)
class Move:
    """Move the value at ``source`` to ``target`` (both concrete pointers)."""

    source: str
    target: str


@dataclass(frozen=True)
class Default:
    """Set ``value`` at ``path`` where that member is absent (``*`` segments allowed before
    the last one; a concrete path creates the objects leading to it)."""

    path: str
    value: JSONValue


@dataclass(frozen=True)
class Convert:
    """Convert the value at every pointer ``path`` matches to the JSON type ``to``."""

    path: str
    to: JsonType


@dataclass(frozen=True)
class Patch:
    """RFC 6902 operations, applied in order; a failed ``test`` means "does not match"."""

    operations: tuple[Mapping[str, JSONValue], ...]


Step: TypeAlias = Rename | Move | Default | Convert | Patch


@dataclass(frozen=True)
class Migration:
    """One ``migrations/<id>.yaml``: its id (the file name), selection and steps."""

    id: str
    file: str
    selection: Selection
    steps: tuple[Step, ...]
    description: str = ""
    sample_diffs: int = 5
    lines: Mapping[int, int] = field(default_factory=dict)  # step index -> line in the file
