"""Per-environment values (DESIGN.md §1): one declaration, effective values per environment.

An entry file (or a config key) may hold ``environments:`` mapping an environment name to an
:class:`EnvironmentOverride`: a JSON Merge Patch (RFC 7396) of the value, and optionally whole
``attributes`` / ``users``. A store may exist only in some environments
(``StoreDeclaration.environments``). :func:`for_environment` turns the declaration read from
the repository into the one an environment sees; planning, apply, undo and drift work on that.

Pure functions, no I/O: the same machinery serves entry files and config keys
(:func:`merge_patch` / :func:`effective_value`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from dsgit.model.declaration import Declaration, DeclaredEntry, StoreDeclaration
from dsgit.model.entry import EntryData, JSONValue
from dsgit.yamlio.equality import json_equal

__all__ = [
    "EnvironmentOverride",
    "diff_patch",
    "effective_data",
    "effective_key_value",
    "effective_value",
    "for_environment",
    "merge_patch",
    "store_exists_in",
]


def merge_patch(target: JSONValue, patch: JSONValue) -> JSONValue:
    """RFC 7396: ``patch`` applied to ``target`` (neither is modified).

    An object patch merges member by member (``null`` removes a member); any other patch
    replaces the target whole (arrays are never merged).
    """
    if not isinstance(patch, dict):
        return patch
    result: dict[str, JSONValue] = dict(target) if isinstance(target, dict) else {}
    for name, item in patch.items():
        if item is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), item)
    return result


def diff_patch(base: JSONValue, target: JSONValue) -> JSONValue:
    """The smallest merge patch turning ``base`` into ``target``.

    Raises ``ValueError`` when no merge patch can (a ``null`` member inside an object
    of ``target``: a merge patch reads ``null`` as "remove").
    """
    patch = _diff(base, target)
    if not json_equal(merge_patch(base, patch), target):
        raise ValueError("a null inside an object cannot be written as a JSON Merge Patch")
    return patch


def _diff(base: JSONValue, target: JSONValue) -> JSONValue:
    if not (isinstance(base, dict) and isinstance(target, dict)):
        return target
    patch: dict[str, JSONValue] = {name: None for name in base if name not in target}
    for name, item in target.items():
        if name not in base:
            patch[name] = item
        elif not json_equal(base[name], item):
            patch[name] = _diff(base[name], item)
    return patch


@dataclass(frozen=True)
class EnvironmentOverride:
    """What one environment changes in an entry: a merge patch of its value (``has_patch``
    False: the value as declared), and whole ``attributes`` / ``users`` (None: as declared).
    ``line`` is where the environment's mapping starts in the entry file."""

    patch: JSONValue = None
    has_patch: bool = False
    attributes: Mapping[str, JSONValue] | None = None
    users: tuple[int, ...] | None = None
    line: int | None = None


def effective_value(value: JSONValue, override: EnvironmentOverride | None) -> JSONValue:
    """The value one environment sees."""
    if override is None or not override.has_patch:
        return value
    return merge_patch(value, override.patch)


def effective_key_value(
    value: JSONValue, environments: Mapping[str, JSONValue], environment: str
) -> JSONValue:
    """The value a config key (DESIGN.md §13) has in ``environment``: its ``environments:``
    maps an environment name straight to a merge patch of the value (``staging: true``)."""
    if environment not in environments:
        return value
    return merge_patch(value, environments[environment])


def effective_data(data: EntryData, override: EnvironmentOverride | None) -> EntryData:
    """The entry data one environment sees (value patched, metadata replaced when given)."""
    if override is None:
        return data
    return EntryData(
        effective_value(data.value, override),
        data.attributes if override.attributes is None else override.attributes,
        data.users if override.users is None else override.users,
    )


def store_exists_in(store: StoreDeclaration, environment: str) -> bool:
    """Whether the store's ``environments:`` allow-list (if any) names ``environment``."""
    return store.environments is None or environment in store.environments


def _resolved(entry: DeclaredEntry, environment: str) -> DeclaredEntry:
    if not entry.environments:
        return entry
    data = effective_data(entry.data, entry.environments.get(environment))
    return replace(entry, data=data, environments={})


def for_environment(declaration: Declaration, environment: str) -> Declaration:
    """The declaration ``environment`` sees: stores it does not have left out, every entry's
    data effective for it. Idempotent for the same environment; asking a declaration already
    resolved for another environment is a programming error (``ValueError``)."""
    if declaration.environment == environment:
        return declaration
    if declaration.environment is not None:
        raise ValueError(
            f"the declaration is already resolved for environment "
            f"{declaration.environment!r}, not {environment!r}"
        )
    stores = {
        place: replace(
            store,
            entries={
                where: _resolved(entry, environment) for where, entry in store.entries.items()
            },
            environments=None,
        )
        for place, store in declaration.stores.items()
        if store_exists_in(store, environment)
    }
    return replace(declaration, stores=stores, environment=environment)
