"""Checks of ``dsgit.yaml`` beyond its file schema, shared by ``validate`` and ``dsgit.config``."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from yaml.nodes import Node

from dsgit.model.entry import JSONValue
from dsgit.model.layout import PROJECT_FILE
from dsgit.notify.sinks import sink_names
from dsgit.repo.file_schemas import FileKind, check_file
from dsgit.repo.problems import Problem, Severity
from dsgit.repo.yamlload import locate

__all__ = ["EMULATOR_DIR", "PROJECT_FILE", "check_project", "emulator_path_problem"]

EMULATOR_DIR = ".dsgit"  # local only (gitignored): where the embedded emulator's file belongs


def check_project(value: JSONValue, node: Node | None, file: str = PROJECT_FILE) -> list[Problem]:
    """Every problem of a parsed ``dsgit.yaml``: its schema, then the default environment."""
    problems = check_file(FileKind.PROJECT, value, node, file)
    if not isinstance(value, dict):
        return problems
    problems.extend(_emulator_paths(value.get("environments"), node, file))
    problems.extend(_keyless_remotes(value.get("environments"), node, file))
    problems.extend(_notification_problems(value, node, file))
    environments = value.get("environments")
    default = value.get("default_environment")
    if not isinstance(environments, dict) or not environments or not isinstance(default, str):
        return problems
    if default not in environments:
        position = locate(node, ["default_environment"])
        line, column = position if position is not None else (None, None)
        known = ", ".join(sorted(environments))
        message = f"`default_environment` {default!r} is not one of the environments ({known})"
        problems.append(Problem(file, line, column, "DS203", message))
    return problems


def emulator_path_problem(path: str) -> str | None:
    """Why an ``emulator:`` path is refused without ``emulator_anywhere: true``, or None.

    The path must name a file under ``.dsgit/``: a repository is shared, and a path leaving
    it (absolute, ``../``, ``~``) would make everyone's plan and apply write that place.
    """
    text = path.replace("\\", "/")
    if text.startswith(("/", "~")) or posixpath.isabs(text) or (len(text) > 1 and text[1] == ":"):
        return f"emulator path {path!r} is absolute: it would be written outside the repository"
    normal = posixpath.normpath(text)
    if normal == ".." or normal.startswith("../"):
        return f"emulator path {path!r} leaves the repository"
    if not normal.startswith(f"{EMULATOR_DIR}/"):
        return f"emulator path {path!r} is not under {EMULATOR_DIR}/ (which git ignores)"
    return None


def _keyless_remotes(environments: object, node: Node | None, file: str) -> list[Problem]:
    """A warning for an environment reached over HTTP without ``api_key_env``: Open Cloud and a
    served emulator refuse every request without a key, so each command using it stops."""
    if not isinstance(environments, dict):
        return []
    problems = []
    for name, body in environments.items():
        if not isinstance(body, dict) or "emulator" in body or "api_key_env" in body:
            continue
        position = locate(node, ["environments", str(name)])
        line, column = position if position is not None else (None, None)
        target = body.get("url") if isinstance(body.get("url"), str) else "Open Cloud"
        message = (
            f"environment {name!r} talks to {target} but sets no `api_key_env` (the variable "
            "holding its API key): every request needs a key, so commands using it will stop"
        )
        problems.append(Problem(file, line, column, "DS203", message, Severity.WARNING))
    return problems


def _emulator_paths(environments: object, node: Node | None, file: str) -> list[Problem]:
    if not isinstance(environments, dict):
        return []
    problems = []
    for name, body in environments.items():
        if not isinstance(body, dict) or not isinstance(body.get("emulator"), str):
            continue
        if body.get("emulator_anywhere") is True:
            continue
        why = emulator_path_problem(body["emulator"])
        if why is None:
            continue
        position = locate(node, ["environments", str(name), "emulator"])
        line, column = position if position is not None else (None, None)
        message = (
            f"{why}; put it under {EMULATOR_DIR}/, or set `emulator_anywhere: true` in "
            f"environment {name!r} to allow it"
        )
        problems.append(Problem(file, line, column, "DS106", message))
    return problems


def _notification_problems(
    value: Mapping[str, JSONValue], node: Node | None, file: str
) -> list[Problem]:
    """Duplicate sink names (DS861) and environments not in ``environments`` (DS862)."""
    raw_items = value.get("notifications")
    if not isinstance(raw_items, list):
        return []
    placed = [(str(i), item) for i, item in enumerate(raw_items) if isinstance(item, Mapping)]
    defined = value.get("environments")
    known = set(defined) if isinstance(defined, dict) else set()
    problems: list[Problem] = []

    def problem(code: str, message: str, *tokens: str) -> None:
        position = locate(node, ["notifications", *tokens])
        line, column = position if position is not None else (None, None)
        problems.append(Problem(file, line, column, code, message))

    first: dict[str, str] = {}
    names = sink_names([item for _, item in placed])
    for name, (slot, item) in zip(names, placed, strict=True):
        if name in first:
            problem(
                "DS861",
                f"`notifications.{slot}`: sink name {name!r} is taken by "
                f"`notifications.{first[name]}`; give each sink its own `name`",
                slot,
            )
        first.setdefault(name, slot)
        environments = item.get("environments")
        if not isinstance(environments, list) or not known:
            continue
        for index, env in enumerate(environments):
            if isinstance(env, str) and env not in known:
                problem(
                    "DS862",
                    f"`notifications.{slot}.environments`: {env!r} is not an environment of "
                    f"this file ({', '.join(sorted(known))})",
                    slot,
                    "environments",
                    str(index),
                )
    return problems
