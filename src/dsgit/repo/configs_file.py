"""``configs/<repository>.yaml`` -> :class:`~dsgit.model.configs.ConfigsDeclaration`, and its
validation problems (DS7xx, each at the file, line and field it is about).

Pure: it takes a file's parsed YAML (value and node tree) and returns values; reading files is
the loader's. The file's JSON Schema (``configs.schema.json``) checks the shape, types and the
limits a schema can say; this module checks the rest (value sizes, the key cap, conditions
that exist and are unique, the repository the file names, numbers Roblox can hold exactly).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from yaml.nodes import Node

from dsgit.erasure.policy import TEMPLATES_REPOSITORY
from dsgit.model.configs import (
    CONFIGS_DIR,
    MAX_VALUE_CHARS,
    Condition,
    ConfigKey,
    ConfigsDeclaration,
    ConfigType,
    Strategy,
    value_size,
)
from dsgit.model.configs import DEFAULT_MAX_KEYS as _DEFAULT_MAX_KEYS
from dsgit.model.entry import JSONValue
from dsgit.repo.file_schemas import FileKind, check_file
from dsgit.repo.problems import Problem, Severity
from dsgit.repo.yamlload import key_node, locate, node_position

__all__ = ["ERASURE_ONLY", "RESERVED_MARKER", "parse_configs_file", "repository_of"]

# DataStoresConfig holds Roblox's right-to-erasure templates: dsgit writes it only from
# policies/erasure.yaml (DESIGN.md §13).
ERASURE_ONLY = TEMPLATES_REPOSITORY
# Roblox spells a key's conditional value as `<key>.RBX.conditional.<rule>` on the wire.
RESERVED_MARKER = ".RBX."
_EXACT_INTEGER = 2**53
_WARNINGS = frozenset({"DS714"})


def repository_of(path: str) -> str | None:
    """The repository a ``configs/`` file declares by its name, or None for another file."""
    folder, _, name = path.rpartition("/")
    if folder != CONFIGS_DIR or not name.endswith(".yaml"):
        return None
    return name.removesuffix(".yaml")


class _Problems:
    def __init__(self, file: str, node: Node | None) -> None:
        self.file = file
        self.node = node
        self.found: list[Problem] = []

    def at(self, path: list[str], code: str, message: str, *, key: bool = False) -> None:
        """A problem at the value (or, with ``key``, the key) ``path`` leads to."""
        if key:
            found = key_node(self.node, path)
            position = node_position(found) if found is not None else None
        else:
            position = locate(self.node, path)
        line, column = position if position is not None else (None, None)
        severity = Severity.WARNING if code in _WARNINGS else Severity.ERROR
        self.found.append(Problem(self.file, line, column, code, message, severity))

    def key_line(self, path: list[str]) -> int | None:
        found = key_node(self.node, path)
        return node_position(found)[0] if found is not None else None

    def line(self, path: list[str]) -> int | None:
        position = locate(self.node, path)
        return position[0] if position is not None else None


def _field(path: list[str]) -> str:
    return "`" + ".".join(path) + "`"


def _check_value(problems: _Problems, path: list[str], kind: ConfigType, value: JSONValue) -> None:
    if kind is ConfigType.JSON and value_size(value) > MAX_VALUE_CHARS:
        problems.at(
            path,
            "DS706",
            f"{_field(path)}: the JSON value is {value_size(value):,} characters "
            f"(at most {MAX_VALUE_CHARS:,})",
        )
    if kind is ConfigType.NUMBER and isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            problems.at(path, "DS704", f"{_field(path)}: a number must be finite")
        elif isinstance(value, int) and abs(value) > _EXACT_INTEGER:
            problems.at(
                path,
                "DS714",
                f"{_field(path)}: integers beyond ±2^53 are not represented exactly "
                "(Roblox stores numbers as doubles)",
            )


def _conditions(raw: Any, problems: _Problems) -> tuple[Condition, ...]:
    conditions: list[Condition] = []
    seen: set[str] = set()
    for index, item in enumerate(raw or []):
        ident = str(item["id"])
        if ident in seen:
            problems.at(
                ["conditions", str(index), "id"],
                "DS711",
                f"`conditions[{index}].id`: condition {ident!r} is listed twice",
            )
        seen.add(ident)
        conditions.append(Condition(ident, item["rule"], problems.line(["conditions", str(index)])))
    return tuple(conditions)


def _entries(
    raw: Mapping[str, Any], conditions: tuple[Condition, ...], problems: _Problems
) -> dict[str, ConfigKey]:
    known = {condition.id for condition in conditions}
    entries: dict[str, ConfigKey] = {}
    for key, item in raw.items():
        base = ["entries", key]
        if RESERVED_MARKER in key:
            problems.at(
                base,
                "DS705",
                f"`entries`: key {key[:60]!r} holds {RESERVED_MARKER!r}, which Roblox reserves "
                "for conditional values",
                key=True,
            )
        kind = ConfigType(item["type"])
        _check_value(problems, [*base, "value"], kind, item["value"])
        conditional: dict[str, JSONValue] = dict(item.get("conditional") or {})
        for rule, value in conditional.items():
            where = [*base, "conditional", rule]
            if rule not in known:
                problems.at(
                    where,
                    "DS710",
                    f"{_field(where)}: no condition {rule!r} in `conditions`",
                    key=True,
                )
            _check_value(problems, where, kind, value)
        entries[key] = ConfigKey(
            key=key,
            type=kind,
            value=item["value"],
            description=item.get("description"),
            conditional=conditional,
            environments=dict(item.get("environments") or {}),
            schema=item.get("schema"),
            line=problems.key_line(base),
        )
    return entries


def parse_configs_file(
    path: str, value: JSONValue, node: Node | None
) -> tuple[ConfigsDeclaration | None, list[Problem]]:
    """The declaration in ``path`` (``configs/<repository>.yaml``) and its problems; the
    declaration is None when the file's shape is wrong (its schema problems say why)."""
    problems = _Problems(path, node)
    schema_problems = check_file(FileKind.CONFIGS, value, node, path)
    if schema_problems:
        return None, schema_problems
    assert isinstance(value, dict)  # the schema says so
    data: dict[str, Any] = value
    named = repository_of(path)
    repository = str(data["repository"])
    if named is not None and named != repository:
        problems.at(
            ["repository"],
            "DS703",
            f"`repository`: {repository!r} is not this file's repository {named!r} "
            f"(a file declares the repository it is named after: {CONFIGS_DIR}/{repository}.yaml)",
        )
    if repository == ERASURE_ONLY:
        problems.at(
            ["repository"],
            "DS717",
            f"`repository`: {ERASURE_ONLY} is written only from policies/erasure.yaml",
        )
    conditions = _conditions(data.get("conditions"), problems)
    entries = _entries(data["entries"], conditions, problems)
    max_keys = int(data.get("max_keys", _DEFAULT_MAX_KEYS))
    if len(entries) > max_keys:
        problems.at(
            ["entries"],
            "DS707",
            f"`entries`: {len(entries)} keys, over the repository's cap of {max_keys} "
            "(`max_keys`; Roblox documents 100 keys for the configs API and 1,000 active "
            "configs in Creator Hub)",
        )
    publish = data.get("publish") or {}
    declaration = ConfigsDeclaration(
        repository=repository,
        file=path,
        strategy=Strategy(publish.get("strategy", Strategy.IMMEDIATE.value)),
        conditions=conditions,
        entries=entries,
        max_keys=max_keys,
    )
    return declaration, problems.found
