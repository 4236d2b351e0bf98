"""A migration document (YAML already parsed to JSON values, its shape checked against
``migration.schema.json``) to a :class:`Migration`, with the checks a schema cannot make.

Pure. Each problem is a :class:`MigrationIssue`: the path of the field, a validation code
(DS822 selection, DS823 step, DS824 match schema) and a message, so the adapter
(:mod:`dsgit.migrate.files`) names the file, line and field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonpatch
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from dsgit.migrate.model import (
    Convert,
    Default,
    JsonType,
    Migration,
    Move,
    Patch,
    Rename,
    Selection,
    Step,
)
from dsgit.model.entry import DEFAULT_SCOPE
from dsgit.model.pointers import WILDCARD, parse_pointer

__all__ = ["ID_PATTERN", "MigrationIssue", "migration_from_document"]

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class MigrationIssue:
    """One problem of a migration file at ``path`` (keys and list indexes from the top)."""

    path: tuple[str | int, ...]
    code: str
    message: str


def _selection(raw: Mapping[str, Any], issues: list[MigrationIssue]) -> Selection:
    pattern = raw.get("key_pattern")
    if isinstance(pattern, str):
        try:
            re.compile(pattern)
        except re.error as exc:
            issues.append(
                MigrationIssue(
                    ("select", "key_pattern"), "DS822", f"invalid regular expression: {exc}"
                )
            )
    match = raw.get("match")
    if isinstance(match, dict):
        try:
            Draft202012Validator.check_schema(match)
        except SchemaError as exc:
            where = ("select", "match", *(str(part) for part in exc.absolute_path))
            issues.append(MigrationIssue(where, "DS824", f"invalid JSON Schema: {exc.message}"))
    return Selection(
        store=str(raw["store"]),
        scope=str(raw.get("scope", DEFAULT_SCOPE)),
        keys=raw.get("keys"),
        prefix=raw.get("prefix"),
        key_pattern=pattern,
        match=match,
    )


def _no_wildcard(pointer: str, where: tuple[str | int, ...], issues: list[MigrationIssue]) -> None:
    if WILDCARD in parse_pointer(pointer):
        issues.append(MigrationIssue(where, "DS823", f"{pointer}: move takes concrete pointers"))


def _named_last(pointer: str, where: tuple[str | int, ...], issues: list[MigrationIssue]) -> None:
    if parse_pointer(pointer)[-1] == WILDCARD:
        issues.append(
            MigrationIssue(where, "DS823", f"{pointer}: the last segment must name a member")
        )


def _step(kind: str, raw: Any, where: tuple[str | int, ...], issues: list[MigrationIssue]) -> Step:
    match kind:
        case "rename":
            _named_last(raw["path"], (*where, "path"), issues)
            return Rename(raw["path"], raw["to"])
        case "move":
            _no_wildcard(raw["from"], (*where, "from"), issues)
            _no_wildcard(raw["to"], (*where, "to"), issues)
            if parse_pointer(raw["to"])[: len(parse_pointer(raw["from"]))] == parse_pointer(
                raw["from"]
            ):
                issues.append(
                    MigrationIssue((*where, "to"), "DS823", "a value cannot move into itself")
                )
            return Move(raw["from"], raw["to"])
        case "default":
            _named_last(raw["path"], (*where, "path"), issues)
            return Default(raw["path"], raw["value"])
        case "convert":
            return Convert(raw["path"], JsonType(raw["to"]))
        case _:
            operations = tuple(dict(operation) for operation in raw)
            try:
                jsonpatch.JsonPatch(list(operations))
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                issues.append(MigrationIssue(where, "DS823", f"invalid JSON Patch: {exc}"))
            return Patch(operations)


def migration_from_document(
    migration_id: str, file: str, document: Mapping[str, Any]
) -> tuple[Migration, list[MigrationIssue]]:
    """The migration of a document valid against its file schema, and what is still wrong."""
    issues: list[MigrationIssue] = []
    selection = _selection(document["select"], issues)
    steps: list[Step] = []
    for index, raw in enumerate(document["transform"]):
        ((kind, body),) = raw.items()
        steps.append(_step(kind, body, ("transform", index, kind), issues))
    migration = Migration(
        id=migration_id,
        file=file,
        selection=selection,
        steps=tuple(steps),
        description=str(document.get("description", "")),
        sample_diffs=int(document.get("sample_diffs", 5)),
    )
    return migration, issues
