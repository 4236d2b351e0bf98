"""``policies/erasure.yaml`` as values: Roblox's templates and dsgit's own rules (pure).

A template or rule is expanded for one user with :meth:`for_user`: the case-sensitive
``{UserId}`` token is replaced by the id, nothing else (Roblox's rule: ``{userid}`` is text).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase

from dsgit.model.entry import DEFAULT_SCOPE, JSONValue, StoreKind

__all__ = [
    "TEMPLATES_KEY",
    "TEMPLATES_REPOSITORY",
    "TOKEN",
    "ErasureAction",
    "ErasurePolicy",
    "ErasureRule",
    "KeyTemplate",
    "StoreTemplate",
    "Template",
    "describe_template",
    "expand",
    "templates_change",
]

TOKEN = "{UserId}"
# Roblox reads the templates from this one key of this configs repository (a JSON list).
TEMPLATES_REPOSITORY = "DataStoresConfig"
TEMPLATES_KEY = "user_data_templates"


def expand(pattern: str, user: int) -> str:
    return pattern.replace(TOKEN, str(user))


class ErasureAction(StrEnum):
    DELETE = "delete"  # the entry goes
    REMOVE = "remove"  # the user goes from the entry (value at the pointers, users metadata)


@dataclass(frozen=True)
class KeyTemplate:
    """One key of one store per user (``Player_{UserId}`` in ``PlayerData``)."""

    kind: StoreKind
    store: str
    key: str
    scope: str = DEFAULT_SCOPE
    line: int | None = None

    def describe(self) -> str:
        return f"key template {self.store}/{self.scope}/{self.key}"


@dataclass(frozen=True)
class StoreTemplate:
    """A whole standard store per user (DataStore2's ``DATA/{UserId}``)."""

    store: str
    line: int | None = None

    def describe(self) -> str:
        return f"data store template {self.store}"


Template = KeyTemplate | StoreTemplate


@dataclass(frozen=True)
class ErasureRule:
    """What templates cannot express: which entries, and how the user is found in them."""

    name: str
    store: str
    action: ErasureAction
    kind: StoreKind = StoreKind.STANDARD
    scope: str = DEFAULT_SCOPE
    keys: str | None = None
    users_metadata: bool = False
    pointers: tuple[str, ...] = ()
    line: int | None = None

    @property
    def by_name(self) -> bool:
        """The user is in the store or key name: every selected entry is theirs."""
        return not self.users_metadata and not self.pointers

    def store_for(self, user: int) -> str:
        return expand(self.store, user)

    def keys_for(self, user: int) -> str | None:
        return expand(self.keys, user) if self.keys is not None else None

    def selects_key(self, key: str, user: int) -> bool:
        pattern = self.keys_for(user)
        return pattern is None or fnmatchcase(key, pattern)


@dataclass(frozen=True)
class ErasurePolicy:
    """The file's content; ``digest`` is sha256 of its bytes ("" when there is no file)."""

    templates: tuple[Template, ...]
    rules: tuple[ErasureRule, ...]
    auto_apply: bool | tuple[str, ...]
    digest: str
    source: str

    def auto_applies(self, environment: str) -> bool:
        if isinstance(self.auto_apply, bool):
            return self.auto_apply
        return environment in self.auto_apply

    @property
    def empty(self) -> bool:
        return not self.templates and not self.rules


# --- the templates as Roblox holds them (a JSON list) ------------------------------------------


def describe_template(raw: JSONValue) -> str:
    """One template of Roblox's shape, readably: ``key template STANDARD
    PlayerData/global/Player_{UserId}``, ``data store template STANDARD DATA/{UserId}``."""
    if isinstance(raw, dict) and isinstance(raw.get("key_template"), dict):
        body = raw["key_template"]
        assert isinstance(body, dict)
        scope = body.get("scope_pattern") or DEFAULT_SCOPE
        return (
            f"key template {body.get('data_store_type')} "
            f"{body.get('data_store_name')}/{scope}/{body.get('key_pattern')}"
        )
    if isinstance(raw, dict) and isinstance(raw.get("data_store_template"), dict):
        body = raw["data_store_template"]
        assert isinstance(body, dict)
        return f"data store template {body.get('data_store_type')} {body.get('data_store_pattern')}"
    return f"template {raw!r}"[:120]


def templates_change(before: JSONValue, after: JSONValue) -> str | None:
    """What changes from the templates ``before`` to ``after`` (JSON lists), readably: the
    templates added and removed (a changed one is both), or that only their order changes;
    None when they are the same."""
    old = before if isinstance(before, list) else []
    new = after if isinstance(after, list) else []
    if old == new:
        return None
    added = [describe_template(t) for t in new if t not in old]
    removed = [describe_template(t) for t in old if t not in new]
    parts = []
    if added:
        parts.append("adds " + "; ".join(added))
    if removed:
        parts.append("removes " + "; ".join(removed))
    if not parts:
        parts.append("reorders the templates")
    return f"{', '.join(parts)} ({len(old)} template(s) now, {len(new)} after)"
