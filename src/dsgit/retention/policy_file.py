"""Reading ``policies/retention.yaml``: YAML, its file schema, then the rules' own checks.

:func:`retention_problems` serves ``dsgit validate`` (each problem at its line, codes
DS801–DS805); :func:`load_retention` serves ``dsgit retention plan`` (the problems as one
``ConfigError`` naming file, line and field). A repository without the file has no rules.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

from yaml.nodes import Node

from dsgit.errors import ConfigError, Location
from dsgit.model.entry import JSONValue, StoreKind
from dsgit.repo.file_schemas import FileKind, check_file
from dsgit.repo.problems import Problem, first_errors
from dsgit.repo.yamlload import locate, parse_yaml
from dsgit.retention.rules import PREDICATE_OPS, Action, Predicate, RetentionPolicy, RetentionRule

__all__ = ["RETENTION_FILE", "load_retention", "parse_duration", "retention_problems"]

RETENTION_FILE = "policies/retention.yaml"
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_SCHEMA_CODES = {"DS201": "DS801", "DS202": "DS802"}


def parse_duration(text: str) -> timedelta:
    """``730d`` -> 730 days (the schema has checked the form)."""
    return timedelta(**{_UNITS[text[-1]]: int(text[:-1])})


def _at(node: Node | None, file: str, path: list[str], code: str, message: str) -> Problem:
    place = locate(node, path)
    line, column = place if place is not None else (None, None)
    return Problem(file, line, column, code, f"{message} (`{'.'.join(path)}`)")


def _rule_problems(index: int, raw: dict[str, Any], node: Node | None, file: str) -> list[Problem]:
    base = ["rules", str(index)]
    found: list[Problem] = []

    def add(field: str | None, code: str, message: str) -> None:
        found.append(_at(node, file, base + ([field] if field else []), code, message))

    ordered = raw.get("kind") == StoreKind.ORDERED.value
    action = raw.get("action")
    conditions = [name for name in ("older_than", "where") if name in raw]
    if action == Action.DELETE.value and not conditions:
        add(
            "action",
            "DS804",
            "a delete rule needs a condition (older_than, or where): without one it would "
            "delete every entry it selects",
        )
    if "timestamp" in raw and "older_than" not in raw:
        add("timestamp", "DS804", "timestamp is only read by older_than: add older_than")
    if action == Action.DELETE_BELOW.value:
        if not ordered:
            add("action", "DS805", "delete_below is for ordered data stores (kind: ordered)")
        if "below" not in raw:
            add("action", "DS805", "delete_below needs `below`: entries below it are deleted")
    elif "below" in raw:
        add("below", "DS805", "below is only read by action: delete_below")
    if ordered:
        if raw.get("scope") in ("*", "-"):
            add("scope", "DS805", "ordered data stores are scanned one scope at a time")
        if "older_than" in raw and "timestamp" not in raw:
            add(
                "older_than",
                "DS805",
                "ordered data stores keep no revisions: older_than needs `timestamp` "
                '(`timestamp: ""` reads the value itself as the time)',
            )
    return found


def retention_problems(
    value: JSONValue, node: Node | None, file: str = RETENTION_FILE
) -> list[Problem]:
    """Schema problems (DS801 shape, DS802 unknown field), then the rules' checks: DS803
    duplicate rule name, DS804 a rule that would delete on no condition, DS805 an action or
    condition the store kind cannot have."""
    problems = [
        Problem(p.file, p.line, p.column, _SCHEMA_CODES.get(p.code, p.code), p.message)
        for p in check_file(FileKind.RETENTION, value, node, file)
    ]
    if problems or not isinstance(value, dict):
        return problems
    seen: dict[str, int] = {}
    rules = value.get("rules")
    assert isinstance(rules, list)
    for index, raw in enumerate(rules):
        assert isinstance(raw, dict)
        name = str(raw["name"])
        if name in seen:
            problems.append(
                _at(
                    node,
                    file,
                    ["rules", str(index), "name"],
                    "DS803",
                    f"rule name {name!r} is also rule {seen[name] + 1}'s",
                )
            )
        seen.setdefault(name, index)
        problems.extend(_rule_problems(index, raw, node, file))
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return problems


def _line(node: Node | None, index: int) -> int | None:
    place = locate(node, ["rules", str(index)])
    return place[0] if place is not None else None


def _rule(index: int, raw: dict[str, Any], node: Node | None) -> RetentionRule:
    where = []
    for item in raw.get("where", []):
        op = next(name for name in item if name != "pointer")
        assert op in PREDICATE_OPS
        where.append(Predicate(str(item["pointer"]), op, item[op]))
    older = raw.get("older_than")
    return RetentionRule(
        name=str(raw["name"]),
        store=str(raw["store"]),
        kind=StoreKind(raw.get("kind", StoreKind.STANDARD.value)),
        scope=str(raw.get("scope", "global")),
        keys=raw.get("keys"),
        prefix=raw.get("prefix"),
        older_than=parse_duration(older) if older is not None else None,
        older_than_text=older,
        timestamp=raw.get("timestamp"),
        where=tuple(where),
        action=Action(raw["action"]),
        below=raw.get("below"),
        max_deletes=raw.get("max_deletes"),
        line=_line(node, index),
    )


def load_retention(root: Path) -> RetentionPolicy:
    """The retention policy of the repository at ``root`` (``ConfigError`` when it is wrong)."""
    path = root / RETENTION_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return RetentionPolicy((), "", RETENTION_FILE)
    except OSError as exc:
        raise ConfigError(
            f"cannot read the retention policy: {exc.strerror}", Location(RETENTION_FILE)
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("the retention policy is not UTF-8", Location(RETENTION_FILE)) from None
    document, problems = parse_yaml(text, RETENTION_FILE)
    if document is not None and not problems:
        problems = retention_problems(document.value, document.node)
    error = first_errors(problems)
    if error is not None:
        raise error
    assert document is not None and isinstance(document.value, dict)
    rules = document.value["rules"]
    assert isinstance(rules, list)
    parsed = tuple(
        _rule(i, raw, document.node) for i, raw in enumerate(rules) if isinstance(raw, dict)
    )
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    return RetentionPolicy(parsed, digest, RETENTION_FILE)
