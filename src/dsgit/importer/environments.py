"""Importing one environment into entry files that serve several (DESIGN.md §1).

Import into environment E changes only what E sees: after it, E's effective value (and
metadata) equals live, and every other environment's stays what it was.

- While another environment still sees the declared ``value`` as it is (no patch of its
  own), the declared value stays and E's difference becomes a JSON Merge Patch under
  ``environments: E: value:`` (removed again when E matches the declared value).
- When no other environment sees it unchanged (one environment only, or all the others
  patch it), the declared value becomes E's live value and the others' patches are rewritten
  against it, so their effective values stay the same.

``attributes`` and ``users`` are whole overrides and follow the same rule field by field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap

from dsgit.errors import ConfigError, Location
from dsgit.model.entry import JSONValue, StoreKind
from dsgit.model.overrides import diff_patch, merge_patch
from dsgit.yamlio.document import from_plain, to_plain
from dsgit.yamlio.equality import json_equal
from dsgit.yamlio.merge import set_member

__all__ = [
    "EnvironmentPlacement",
    "ValuePlacement",
    "declared_ordered",
    "effective_in",
    "place_in_environment",
    "place_value",
]

_SECTION = "environments"


@dataclass(frozen=True)
class EnvironmentPlacement:
    """The environment imported, every environment of ``dsgit.yaml``, and the stores'
    ``environments`` allow-lists (absent: the store exists everywhere)."""

    environment: str
    environments: tuple[str, ...]
    stores: Mapping[tuple[StoreKind, str], tuple[str, ...] | None] = field(default_factory=dict)

    def others(self, kind: StoreKind, store: str) -> tuple[str, ...]:
        """The other environments the store exists in."""
        allowed = self.stores.get((kind, store))
        return tuple(
            name
            for name in self.environments
            if name != self.environment and (allowed is None or name in allowed)
        )


def declared_ordered(document: object) -> dict[str, int]:
    """The integers an ordered scope file declares, by key (short and long form)."""
    if not isinstance(document, CommentedMap):
        return {}
    found: dict[str, int] = {}
    for key, node in document.items():
        number = node.get("value") if isinstance(node, CommentedMap) else node
        if isinstance(number, int) and not isinstance(number, bool):
            found[str(key)] = number
    return found


def _overrides(document: CommentedMap) -> dict[str, dict[str, Any]]:
    section = to_plain(document.get(_SECTION))
    if not isinstance(section, dict):
        return {}
    return {name: dict(body) for name, body in section.items() if isinstance(body, dict)}


def _section(document: CommentedMap, name: str) -> CommentedMap:
    if not isinstance(document.get(_SECTION), CommentedMap):
        document[_SECTION] = CommentedMap()
    section: CommentedMap = document[_SECTION]
    if not isinstance(section.get(name), CommentedMap):
        section[name] = CommentedMap()
    body: CommentedMap = section[name]
    return body


def _set(document: CommentedMap, name: str, member: str, value: JSONValue) -> bool:
    body = _section(document, name)
    if member in body:
        return set_member(body, member, value)
    body[member] = from_plain(value)
    return True


def _drop(document: CommentedMap, name: str, member: str) -> bool:
    section = document.get(_SECTION)
    if not isinstance(section, CommentedMap) or not isinstance(section.get(name), CommentedMap):
        return False
    body = section[name]
    if member not in body:
        return False
    del body[member]
    if not body:
        del section[name]
    if not section:
        del document[_SECTION]
    return True


def effective_in(document: CommentedMap, environment: str) -> JSONValue:
    """The value ``environment`` sees in an entry file (the declared one, patched)."""
    declared: JSONValue = to_plain(document.get("value"))
    body = _overrides(document).get(environment, {})
    return merge_patch(declared, body["value"]) if "value" in body else declared


def _repatch(name: str, new_base: JSONValue, effective: JSONValue, where: Location) -> JSONValue:
    try:
        return diff_patch(new_base, effective)
    except ValueError:
        raise ConfigError(
            f"environment {name!r}'s value cannot be rewritten as a JSON Merge Patch of the "
            "new declared value (a null inside an object)",
            where,
        ) from None


@dataclass(frozen=True)
class ValuePlacement:
    """Where an import puts one environment's live value: ``rebased`` (the declared value
    becomes ``declared``) or not, and the merge patch of each environment that needs one
    (an environment left out sees the declared value as it is)."""

    rebased: bool
    declared: JSONValue
    patches: dict[str, JSONValue]


def place_value(
    declared: JSONValue,
    patches: Mapping[str, JSONValue],
    environment: str,
    others: tuple[str, ...],
    wanted: JSONValue,
    where: Callable[[str], Location],
) -> ValuePlacement:
    """Make ``environment`` see ``wanted`` without changing what ``others`` see (pure).

    ``patches`` are the current merge patches by environment; ``where(name)`` locates
    environment ``name``'s patch for an error. Shared by entry files and config keys.
    """
    kept = {name: patches[name] for name in others if name in patches}
    on_base = [name for name in others if name not in patches]
    if on_base:  # the declared value stays: E gets its own patch, or none
        if json_equal(declared, wanted):
            return ValuePlacement(False, declared, kept)
        try:
            patch = diff_patch(declared, wanted)
        except ValueError:
            raise ConfigError(
                "the live value differs from the declared one by a null inside an "
                "object, which a JSON Merge Patch cannot express (environment "
                f"{environment!r}; {', '.join(on_base)} see the declared value)",
                where(environment),
            ) from None
        return ValuePlacement(False, declared, {**kept, environment: patch})
    # nobody else sees the declared value as it is: it becomes E's live one
    rewritten: dict[str, JSONValue] = {}
    for name in others:
        effective = merge_patch(declared, patches[name])
        if not json_equal(effective, wanted):
            rewritten[name] = _repatch(name, wanted, effective, where(name))
    return ValuePlacement(True, wanted, rewritten)


def place_in_environment(
    document: CommentedMap,
    environment: str,
    others: tuple[str, ...],
    live: Mapping[str, JSONValue],
    filename: str,
) -> tuple[bool, dict[str, JSONValue]]:
    """Make ``environment``'s effective ``value`` / ``attributes`` / ``users`` equal ``live``
    (the value already sealed) without changing what ``others`` see.

    Edits the overrides in ``document``; returns whether they changed and the declared members
    the caller must set to their live values (the ones no other environment sees as they are).
    """
    overrides = _overrides(document)
    changed = False
    base: dict[str, JSONValue] = {}
    empty: dict[str, JSONValue] = {"value": None, "attributes": {}, "users": []}
    for member in ("value", "attributes", "users"):
        declared: JSONValue = to_plain(document[member]) if member in document else empty[member]
        wanted = live[member]
        if member == "value":
            placed = place_value(
                declared,
                {name: body["value"] for name, body in overrides.items() if "value" in body},
                environment,
                others,
                wanted,
                lambda name: Location(filename, field=f"{_SECTION}.{name}.value"),
            )
            for name in (environment, *others):
                if name in placed.patches:
                    changed |= _set(document, name, "value", placed.patches[name])
                else:
                    changed |= _drop(document, name, "value")
            if placed.rebased:
                base["value"] = wanted
            continue
        on_base = [name for name in others if member not in overrides.get(name, {})]
        if on_base:  # the declared member stays: E gets its own override, or none
            if json_equal(declared, wanted):
                changed |= _drop(document, environment, member)
            else:
                changed |= _set(document, environment, member, wanted)
            continue
        # nobody else sees the declared member as it is: it becomes E's live one
        base[member] = wanted
        changed |= _drop(document, environment, member)
    return changed, base
