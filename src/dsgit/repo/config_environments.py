"""Per-environment values of config keys (DESIGN.md §1, §13): ``environments:`` under a key of
``configs/<repository>.yaml`` maps an environment name straight to a JSON Merge Patch of the
key's value (``staging: true``). Each environment's effective value must still be of the key's
type and within Roblox's size limit; names must be environments of ``dsgit.yaml`` (DS620).
A json key's ``schema`` is checked against the effective values by the loader
(:func:`environment_values`).
"""

from __future__ import annotations

from yaml.nodes import Node

from dsgit.model.configs import MAX_VALUE_CHARS, ConfigKey, ConfigsDeclaration, type_of, value_size
from dsgit.model.entry import JSONValue
from dsgit.model.overrides import effective_key_value
from dsgit.repo.environments import OVERRIDES_FIELD, unknown_environments
from dsgit.repo.file_reader import position
from dsgit.repo.problems import Problem

__all__ = ["config_environment_problems", "environment_values"]


def environment_values(
    entry: ConfigKey, known: tuple[str, ...] | None
) -> list[tuple[list[str], JSONValue]]:
    """Each declared environment's effective value of a key, with its path in the file."""
    return [
        ([OVERRIDES_FIELD, name], effective_key_value(entry.value, entry.environments, name))
        for name in entry.environments
        if known is None or name in known
    ]


def config_environment_problems(
    declaration: ConfigsDeclaration, node: Node | None, known: tuple[str, ...] | None
) -> list[Problem]:
    """DS620 for unknown environment names; DS704 / DS706 for an environment whose merge
    patch gives the key a value of another type, or one too large."""
    file = declaration.file
    problems: list[Problem] = []
    for key, entry in declaration.entries.items():
        if not entry.environments:
            continue
        base = ["entries", key, OVERRIDES_FIELD]
        label = f"`{'.'.join(base)}`"
        problems += unknown_environments(entry.environments, node, file, list(base), known, label)
        for path, effective in environment_values(entry, known):
            name = path[-1]
            line, column = position(node, ["entries", key, *path])
            where = f"in environment {name!r}: `{'.'.join(['entries', key, *path])}`"
            found = type_of(effective)
            if found is not entry.type:
                shown = "null" if found is None else found.value
                message = (
                    f"{where}: the merge patch makes the value {shown}, but the key is "
                    f"{entry.type.value}"
                )
                problems.append(Problem(file, line, column, "DS704", message))
            elif found.value in ("string", "json") and value_size(effective) > MAX_VALUE_CHARS:
                message = (
                    f"{where}: the value is {value_size(effective):,} characters "
                    f"(at most {MAX_VALUE_CHARS:,})"
                )
                problems.append(Problem(file, line, column, "DS706", message))
    return problems
