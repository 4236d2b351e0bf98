"""Roblox's limits on names, values and metadata (opencloud/README.md, "Limits")."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from dsgit.model.entry import JSONValue
from dsgit.model.limits import encoded_length

__all__ = [
    "MAX_ATTRIBUTES_CHARS",
    "MAX_ATTRIBUTE_KEY_CHARS",
    "MAX_ATTRIBUTE_VALUE_CHARS",
    "MAX_NAME_CHARS",
    "MAX_USERS",
    "attribute_problems",
    "bounded_length",
    "name_problem",
]

MAX_NAME_CHARS = 50
MAX_ATTRIBUTES_CHARS = 300
MAX_ATTRIBUTE_KEY_CHARS = 50
MAX_ATTRIBUTE_VALUE_CHARS = 250
MAX_USERS = 4


def bounded_length(value: JSONValue, limit: int) -> int:
    """``encoded_length(value)``, but stops counting past ``limit`` (for aliased values, whose
    encoding could be far larger than memory)."""
    total = 0
    pending: list[JSONValue] = [value]
    while pending and total <= limit:
        item = pending.pop()
        if isinstance(item, dict):
            total += 2 + max(len(item) - 1, 0) + len(item)  # braces, commas, colons
            for name, child in item.items():
                total += encoded_length(name)
                pending.append(child)
        elif isinstance(item, list):
            total += 2 + max(len(item) - 1, 0)
            pending.extend(item)
        else:
            total += encoded_length(item)
    return total


def name_problem(what: str, name: str) -> str | None:
    """Why a store name, scope or key breaks Roblox's limits, or None."""
    if not name:
        return f"{what} must not be empty"
    if len(name) > MAX_NAME_CHARS:
        return f"{what} {name[:20]!r}… is {len(name)} characters (at most {MAX_NAME_CHARS})"
    return None


def attribute_problems(attributes: Mapping[str, JSONValue]) -> Iterator[tuple[list[str], str]]:
    """``(path inside attributes, message)`` for each broken metadata limit."""
    for name, value in attributes.items():
        # names over 50 characters are caught by the entry file schema
        size = len(value) if isinstance(value, str) else encoded_length(value)
        if size > MAX_ATTRIBUTE_VALUE_CHARS:
            yield (
                [name],
                (f"attribute `{name}` is {size} characters (at most {MAX_ATTRIBUTE_VALUE_CHARS})"),
            )
    total = encoded_length(dict(attributes))
    if total > MAX_ATTRIBUTES_CHARS:
        yield [], f"attributes are {total} characters serialized (at most {MAX_ATTRIBUTES_CHARS})"
