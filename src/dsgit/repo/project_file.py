"""Checks of ``dsgit.yaml`` beyond its file schema, shared by ``validate`` and ``dsgit.config``."""

from __future__ import annotations

from yaml.nodes import Node

from dsgit.model.entry import JSONValue
from dsgit.repo.file_schemas import FileKind, check_file
from dsgit.repo.problems import Problem
from dsgit.repo.yamlload import locate

__all__ = ["PROJECT_FILE", "check_project"]

PROJECT_FILE = "dsgit.yaml"


def check_project(value: JSONValue, node: Node | None, file: str = PROJECT_FILE) -> list[Problem]:
    """Every problem of a parsed ``dsgit.yaml``: its schema, then the default environment."""
    problems = check_file(FileKind.PROJECT, value, node, file)
    if not isinstance(value, dict):
        return problems
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
