"""``_store.yaml``: the settings of one store, turned into a :class:`StorePolicy`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from yaml.nodes import Node

from dsgit.model.declaration import KeyOverride, Ownership, StorePolicy, Suppression
from dsgit.model.entry import JSONValue, StoreKind
from dsgit.model.layout import STORE_FILE
from dsgit.repo.file_schemas import FileKind, check_file
from dsgit.repo.problems import Problem
from dsgit.repo.value_schemas import ValueSchemas
from dsgit.repo.yamlload import locate

__all__ = ["STORE_FILE", "parse_store_settings", "parse_suppressions"]


_OVERRIDABLE = ("ownership", "prune", "schema", "sensitive", "encrypted")


def _at(node: Node | None, *path: str | int) -> tuple[int | None, int | None]:
    position = locate(node, [str(part) for part in path])
    return position if position is not None else (None, None)


def parse_suppressions(
    raw: object, node: Node | None, file: str, *path: str | int
) -> tuple[Suppression, ...]:
    """The well-formed items of a ``suppress`` list (the file schema reports the others)."""
    if not isinstance(raw, list):
        return ()
    found: list[Suppression] = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            continue
        code, reason, count = item.get("code"), item.get("reason"), item.get("count")
        if not isinstance(code, str) or not isinstance(reason, str) or not reason.strip():
            continue
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            count = None
        line, _ = _at(node, *path, index)
        found.append(Suppression(code, reason.strip(), count, file, line))
    return tuple(found)


def _strings(raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(item for item in raw if isinstance(item, str))


def _settings(raw: Mapping[str, Any]) -> dict[str, object]:
    """The typed StorePolicy fields present in ``raw`` (ill-typed ones are left out)."""
    out: dict[str, object] = {}
    ownership = raw.get("ownership")
    if isinstance(ownership, str) and ownership in {item.value for item in Ownership}:
        out["ownership"] = Ownership(ownership)
    if isinstance(raw.get("prune"), bool):
        out["prune"] = raw["prune"]
    if isinstance(raw.get("schema"), str) and raw["schema"].startswith("schemas/"):
        out["schema"] = raw["schema"]
    elif "schema" in raw and raw["schema"] is None:
        out["schema"] = None  # an override turning the store's schema off
    for name in ("sensitive", "encrypted"):
        if name in raw:
            out[name] = _strings(raw[name])
    return out


def parse_store_settings(
    kind: StoreKind,
    value: JSONValue,
    node: Node | None,
    file: str,
    schemas: ValueSchemas,
) -> tuple[StorePolicy, list[Problem]]:
    """The policy ``file`` declares, and every problem found in it."""
    file_kind = FileKind.STORE if kind is StoreKind.STANDARD else FileKind.ORDERED_STORE
    raw: JSONValue = {} if value is None else value
    problems = check_file(file_kind, raw, node, file)
    if not isinstance(raw, dict):
        return StorePolicy(), problems

    def problem(code: str, message: str, *path: str | int) -> None:
        line, column = _at(node, *path)
        problems.append(Problem(file, line, column, code, message))

    fields: dict[str, Any] = _settings(raw)
    if kind is StoreKind.ORDERED:  # ordered values are integers: no schema, nothing secret
        for name in ("schema", "sensitive", "encrypted"):
            fields.pop(name, None)
    key_pattern = raw.get("key_pattern")
    if isinstance(key_pattern, str) and key_pattern:
        try:
            re.compile(key_pattern)
        except re.error as exc:
            problem(
                "DS205", f"`key_pattern` is not a valid regular expression: {exc}", "key_pattern"
            )
        else:
            fields["key_pattern"] = key_pattern
    scopes = raw.get("scopes")
    if isinstance(scopes, list):
        fields["scopes"] = _strings(scopes)
    fields["counters"] = _strings(raw.get("counters"))
    mass_delete = raw.get("mass_delete")
    if isinstance(mass_delete, dict):
        threshold, minimum = mass_delete.get("threshold"), mass_delete.get("min")
        if isinstance(threshold, int | float) and not isinstance(threshold, bool):
            fields["mass_delete_threshold"] = float(threshold)
        if isinstance(minimum, int) and not isinstance(minimum, bool):
            fields["mass_delete_min"] = minimum
    fields["suppress"] = parse_suppressions(raw.get("suppress"), node, file, "suppress")

    base = StorePolicy(**fields)
    overrides: list[KeyOverride] = []
    raw_overrides = raw.get("overrides")
    for index, item in enumerate(raw_overrides if isinstance(raw_overrides, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("keys"), str):
            continue
        pattern = str(item["keys"])
        if pattern.startswith("re:"):
            try:
                re.compile(pattern[3:])
            except re.error as exc:
                problem(
                    "DS205", f"override pattern is not a valid regex: {exc}", "overrides", index
                )
                continue
        settings = {k: v for k, v in _settings(item).items() if k in _OVERRIDABLE}
        suppressions = parse_suppressions(
            item.get("suppress"), node, file, "overrides", index, "suppress"
        )
        if suppressions:
            settings["suppress"] = suppressions
        overrides.append(KeyOverride(pattern, settings))
        effective_prune = settings.get("prune", base.prune)
        effective_owner = settings.get("ownership", base.ownership)
        if effective_prune and effective_owner is not Ownership.OWNED:
            problem(
                "DS203",
                f"override `{pattern}`: prune applies to owned keys only "
                f"(ownership here is {effective_owner})",
                "overrides",
                index,
            )
        reference = settings.get("schema")
        if (
            isinstance(reference, str)
            and schemas.validator(reference) is None
            and not schemas.is_broken(reference)  # its file already has DS207
        ):
            problem(
                "DS206",
                f"schema {reference!r} not found under schemas/",
                "overrides",
                index,
                "schema",
            )
    policy = StorePolicy(**fields, overrides=tuple(overrides))
    if policy.prune and policy.ownership is not Ownership.OWNED:
        problem(
            "DS203",
            f"prune applies to owned stores only (ownership is {policy.ownership})",
            "prune",
        )
    if (
        policy.schema is not None
        and schemas.validator(policy.schema) is None
        and not schemas.is_broken(policy.schema)  # its file already has DS207
    ):
        problem("DS206", f"schema {policy.schema!r} not found under schemas/", "schema")
    return policy, problems
