"""The JSON Schemas of dsgit's own file kinds (``dsgit/schemas/*.schema.json``) and checks
against them that turn every schema error into a :class:`Problem` at the right line.

The same files serve editors (``# yaml-language-server: $schema=…``), so they carry
``errorMessage`` / ``patternErrorMessage`` hints that both editors and these checks show.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from yaml.nodes import Node

from dsgit.model.entry import JSONValue
from dsgit.repo.problems import Problem
from dsgit.repo.schema_messages import safe_message
from dsgit.repo.yamlload import key_node, locate, node_position

__all__ = ["SCHEMA_BASE_URI", "FileKind", "check_file", "file_schema", "schema_file_names"]

SCHEMA_BASE_URI = "https://dsgit.dev/schemas/"


class FileKind(StrEnum):
    """The kinds of files dsgit reads, named by their schema file."""

    PROJECT = "dsgit.schema.json"
    STORE = "store.schema.json"
    ORDERED_STORE = "ordered-store.schema.json"
    ENTRY = "entry.schema.json"
    ORDERED_SCOPE = "ordered-scope.schema.json"
    APPROVALS = "approvals.schema.json"
    CONFIGS = "configs.schema.json"
    MIGRATION = "migration.schema.json"
    RETENTION = "retention.schema.json"


def plainly_valid_entry(raw: dict[str, Any]) -> bool:
    """True when an entry file surely satisfies ``entry.schema.json`` (the common shape: value,
    attributes, users). False only means "run the schema", which then explains the problem."""
    if raw.get("value") is None or any(name not in _PLAIN_ENTRY_FIELDS for name in raw):
        return False
    attributes = raw.get("attributes", {})
    if not isinstance(attributes, dict) or any(len(name) > 50 for name in attributes):
        return False
    users = raw.get("users", [])
    return (
        isinstance(users, list)
        and len(users) <= 4
        and all(type(user) is int and user >= 1 for user in users)
    )


_PLAIN_ENTRY_FIELDS = frozenset({"value", "attributes", "users"})


def schema_file_names() -> tuple[str, ...]:
    """Every file-kind schema shipped with dsgit (what ``init`` copies for editors)."""
    return tuple(kind.value for kind in FileKind)


@cache
def file_schema(kind: FileKind) -> dict[str, Any]:
    text = resources.files("dsgit.schemas").joinpath(kind.value).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator(kind: FileKind) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resources(
        (SCHEMA_BASE_URI + other.value, Resource.from_contents(file_schema(other)))
        for other in FileKind
    )
    return Draft202012Validator(file_schema(kind), registry=registry)


# Which code a schema error gets, by the first field of its path (default DS201, DS202 for an
# unknown field): the codes follow what the user must fix, not which schema caught it.
_FIELD_CODES: dict[FileKind, dict[str, str]] = {
    FileKind.ENTRY: {
        "users": "DS404",
        "attributes": "DS403",
        "suppress": "DS208",
        "moved_from": "DS209",
    },
    FileKind.STORE: {"suppress": "DS208", "sensitive": "DS204", "encrypted": "DS204"},
    FileKind.ORDERED_STORE: {"suppress": "DS208"},
    FileKind.MIGRATION: {"select": "DS822", "transform": "DS823", "sample_diffs": "DS821"},
    FileKind.PROJECT: {"notifications": "DS861"},
}
# The code of a schema error outside those fields (default DS201, unknown field DS202).
_DEFAULT_CODES: dict[FileKind, tuple[str, str]] = {FileKind.MIGRATION: ("DS821", "DS826")}


def _configs_code(path: list[str], error: ValidationError) -> str:
    """Codes of ``configs/*.yaml`` schema errors (docs/validation-codes.md, DS7xx)."""
    if error.validator == "additionalProperties":
        return "DS702"
    if path == ["max_keys"]:
        return "DS713"
    if path == ["conditions"] and error.validator == "maxItems":
        return "DS708"
    if len(path) >= 1 and path[0] == "entries":
        if len(path) == 1 or "propertyNames" in error.relative_schema_path:
            return "DS705"
        if len(path) >= 3 and path[2] == "conditional" and error.validator == "maxProperties":
            return "DS709"
        if len(path) >= 3 and path[2] in ("value", "conditional"):
            return "DS706" if error.validator == "maxLength" else "DS704"
    return "DS701"


def _secret_in_file(path: list[str], error: ValidationError) -> bool:
    """A notification sink's URL or secret written into dsgit.yaml (DS863), not a typo."""
    if path[2:3] in (["url"], ["secret"]):
        return True
    return path[2:3] in (["url_env"], ["secret_env"]) and "://" in str(error.instance)


def _code(kind: FileKind, error: ValidationError) -> str:
    path = [str(part) for part in error.absolute_path]
    if kind is FileKind.CONFIGS:
        return _configs_code(path, error)
    if kind is FileKind.ORDERED_SCOPE and path:
        return "DS208" if "suppress" in path else "DS304"
    overrides = kind is FileKind.STORE and len(path) >= 3 and path[0] == "overrides"
    if overrides and path[2] in ("sensitive", "encrypted"):
        return "DS204"
    shape, unknown = _DEFAULT_CODES.get(kind, ("DS201", "DS202"))
    if kind is FileKind.MIGRATION and error.validator == "additionalProperties":
        return unknown  # an unknown field anywhere in a migration
    if kind is FileKind.PROJECT and path[:1] == ["notifications"] and _secret_in_file(path, error):
        return "DS863"
    if path and path[0] in _FIELD_CODES.get(kind, {}):
        return _FIELD_CODES[kind][path[0]]
    return unknown if error.validator == "additionalProperties" else shape


def _label(path: list[str]) -> str:
    return ".".join(path) if path else "the file"


_SHAPES = {
    FileKind.PROJECT: "dsgit.yaml is a mapping with version, default_environment and environments",
    FileKind.STORE: "_store.yaml is a mapping of store settings",
    FileKind.ORDERED_STORE: "_store.yaml is a mapping of store settings",
    FileKind.ENTRY: "an entry file is a mapping with `value` (and optional attributes, users)",
    FileKind.ORDERED_SCOPE: "an ordered scope file maps keys to integers",
    FileKind.APPROVALS: "policies/approvals.yaml is a mapping with version, approvers and rules",
    FileKind.CONFIGS: "a configs file is a mapping with repository and entries",
    FileKind.MIGRATION: "a migration is a mapping with version, select and transform",
    FileKind.RETENTION: "policies/retention.yaml is a mapping with version and rules",
}


def _describe(error: ValidationError, kind: FileKind) -> str:
    path = [str(part) for part in error.absolute_path]
    if not path and error.validator == "type":
        return _SHAPES[kind]
    field = f"`{_label(path)}`" if path else "the file"
    if error.validator == "maxLength" and "propertyNames" in error.relative_schema_path:
        return f"{field}: name {str(error.instance)[:60]!r} is longer than {error.validator_value}"
    message = safe_message(error, field)
    return message if message is not None else f"{field}: {error.message[:200]}"


def _errors(kind: FileKind, value: JSONValue) -> Iterator[ValidationError]:
    return _validator(kind).iter_errors(value)


def check_file(
    kind: FileKind,
    value: JSONValue,
    node: Node | None,
    file: str,
    *,
    describe: Callable[[ValidationError], str] | None = None,
) -> list[Problem]:
    """Problems of ``value`` (parsed from ``file``) against the schema of its kind, in order."""
    problems: list[Problem] = []
    for error in _errors(kind, value):
        path = [str(part) for part in error.absolute_path]
        code = _code(kind, error)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
            for extra in error.instance:
                if extra not in known:
                    found = key_node(node, [*path, extra])
                    line, column = node_position(found) if found is not None else (None, None)
                    where = f" in `{_label(path)}`" if path else ""
                    problems.append(
                        Problem(file, line, column, code, f"unknown field `{extra}`{where}")
                    )
            continue
        found = None
        if error.validator == "propertyNames" or (
            isinstance(error.instance, str) and "propertyNames" in error.relative_schema_path
        ):
            found = key_node(node, [*path, str(error.instance)])
        position = locate(node, path) if found is None else node_position(found)
        line, column = position if position is not None else (None, None)
        message = describe(error) if describe is not None else _describe(error, kind)
        problems.append(Problem(file, line, column, code, message))
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return problems
