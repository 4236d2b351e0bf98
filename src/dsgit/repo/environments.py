"""Reading ``environments:`` from entry files and ``_store.yaml`` (DESIGN.md §1).

The file schemas check the shapes; this module turns them into
:class:`~dsgit.model.overrides.EnvironmentOverride` values and reports what only dsgit can
know: environment names that ``dsgit.yaml`` does not declare (DS620) and overrides for an
environment the store does not exist in (DS621). The effective values are checked by the
loader with the same checks as the declared value (:func:`environment_problems`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from yaml.nodes import Node

from dsgit.model.entry import JSONValue
from dsgit.model.overrides import EnvironmentOverride
from dsgit.model.pointers import parse_pointer
from dsgit.repo.file_reader import position
from dsgit.repo.limits import attribute_problems
from dsgit.repo.problems import Problem, Severity
from dsgit.repo.yamlload import key_node, node_position

__all__ = [
    "OVERRIDES_FIELD",
    "declared_environments",
    "entry_overrides",
    "environment_problems",
    "store_environments",
    "unknown_environments",
]

OVERRIDES_FIELD = "environments"


def declared_environments(project: object) -> tuple[str, ...] | None:
    """The environment names of a parsed ``dsgit.yaml`` (None when it has none readable)."""
    if not isinstance(project, dict) or not isinstance(project.get("environments"), dict):
        return None
    return tuple(name for name in project["environments"] if isinstance(name, str))


def _unknown(name: str, known: tuple[str, ...], where: str) -> str:
    listed = ", ".join(known) if known else "none"
    return (
        f"environment {name!r} in {where} is not an environment of dsgit.yaml (declared: {listed})"
    )


def store_environments(
    raw: object, node: Node | None, file: str, known: tuple[str, ...] | None
) -> tuple[tuple[str, ...] | None, list[Problem]]:
    """The allow-list of a ``_store.yaml`` (None: every environment) and its problems."""
    if not isinstance(raw, dict) or not isinstance(raw.get(OVERRIDES_FIELD), list):
        return None, []
    names = tuple(name for name in raw[OVERRIDES_FIELD] if isinstance(name, str) and name)
    problems = []
    for index, name in enumerate(raw[OVERRIDES_FIELD]):
        if known is not None and isinstance(name, str) and name and name not in known:
            line, column = position(node, [OVERRIDES_FIELD, index])
            message = _unknown(name, known, "the store's `environments`")
            problems.append(Problem(file, line, column, "DS620", message))
    return names, problems


def unknown_environments(
    section: Mapping[str, object],
    node: Node | None,
    file: str,
    path: list[str | int],
    known: tuple[str, ...] | None,
    where: str,
) -> list[Problem]:
    """DS620 for each name of an ``environments:`` mapping at ``path`` that ``dsgit.yaml`` does
    not declare (entry files here; config keys, DESIGN.md §13, use it the same way)."""
    problems: list[Problem] = []
    if known is None:
        return problems
    for name in section:
        if name not in known:
            found = key_node(node, [str(part) for part in (*path, name)])
            line, column = node_position(found) if found is not None else (None, None)
            message = _unknown(name, known, where)
            problems.append(Problem(file, line, column, "DS620", message))
    return problems


def _users(raw: object) -> tuple[int, ...] | None:
    if not isinstance(raw, list):
        return None
    return tuple(u for u in raw if isinstance(u, int) and not isinstance(u, bool) and u > 0)


def entry_overrides(
    raw: Mapping[str, Any],
    node: Node | None,
    file: str,
    known: tuple[str, ...] | None,
    allowed: tuple[str, ...] | None,
) -> tuple[dict[str, EnvironmentOverride], list[Problem]]:
    """The overrides of one entry file, by environment, and what is wrong with them.

    An unknown environment is left out (DS620); one the store does not exist in is kept but
    warned about (DS621: it never takes effect).
    """
    found: dict[str, EnvironmentOverride] = {}
    problems: list[Problem] = []
    section = raw.get(OVERRIDES_FIELD)
    if not isinstance(section, dict):
        return found, problems
    label = "the entry's `environments`"
    unknown = unknown_environments(section, node, file, [OVERRIDES_FIELD], known, label)
    problems.extend(unknown)
    for name, body in section.items():
        found_key = key_node(node, [OVERRIDES_FIELD, name])
        line, column = node_position(found_key) if found_key is not None else (None, None)
        if known is not None and name not in known:
            continue
        if allowed is not None and name not in allowed:
            problems.append(
                Problem(
                    file,
                    line,
                    column,
                    "DS621",
                    f"environment {name!r}: the store exists only in "
                    f"{', '.join(allowed)} (its _store.yaml `environments`), so "
                    "this override never takes effect",
                    Severity.WARNING,
                )
            )
        if not isinstance(body, dict):
            continue  # the file schema reports it
        attributes = body.get("attributes")
        if isinstance(attributes, dict):
            for path, message in attribute_problems(attributes):
                where = position(node, [OVERRIDES_FIELD, name, "attributes", *path])
                problems.append(Problem(file, *where, "DS403", f"environment {name!r}: {message}"))
        value = body.get("value")
        found[name] = EnvironmentOverride(
            patch=value,
            has_patch="value" in body and value is not None,
            attributes=attributes if isinstance(attributes, dict) else None,
            users=_users(body.get("users")),
            line=line,
        )
    return found, problems


# Checks one effective value; ``base`` is where its problems point in the file. Gives each
# problem with the JSON pointer into the value it is about.
ValueCheck = Callable[[JSONValue, tuple[str, ...]], Iterable[tuple[Problem, str]]]


def _patched(
    patch: JSONValue, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], bool]]:
    """The paths a merge patch sets (False) or removes (True), an object patch recursively."""
    if not isinstance(patch, dict):
        yield path, patch is None
        return
    if not patch and path:  # {} below the top replaces a non-object
        yield path, False
    for name, item in patch.items():
        yield from _patched(item, (*path, name))


def _related(pointer: str, paths: list[tuple[tuple[str, ...], bool]]) -> bool:
    """Whether a problem at ``pointer`` is about what the patch changed: at or below a path
    it sets, or above one it removes (a field now missing)."""
    parts = parse_pointer(pointer)
    return any(
        parts[: len(path)] == path or (removed and path[: len(parts)] == parts)
        for path, removed in paths
    )


def environment_problems(
    overrides: Mapping[str, EnvironmentOverride],
    effective: Callable[[EnvironmentOverride], JSONValue],
    check: ValueCheck,
    declared: Iterable[Problem],
) -> list[Problem]:
    """The problems of each overridden environment's effective value that the declared value
    does not already have, each naming its environment (the declared value is what every
    environment without an override sees, and is checked as such). A problem the declared
    value has too counts as the environment's own when it is about what the patch changed."""
    already = {(p.code, p.message) for p in declared}
    problems: list[Problem] = []
    for name in sorted(overrides):
        override = overrides[name]
        if not override.has_patch:
            continue
        base = (OVERRIDES_FIELD, name, "value")
        paths = list(_patched(override.patch))
        for problem, pointer in check(effective(override), base):
            if (problem.code, problem.message) in already and not _related(pointer, paths):
                continue
            problems.append(
                Problem(
                    problem.file,
                    problem.line,
                    problem.column,
                    problem.code,
                    f"in environment {name!r}: {problem.message}",
                    problem.severity,
                )
            )
    return problems
