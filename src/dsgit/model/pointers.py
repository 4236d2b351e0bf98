"""JSON pointers (RFC 6901) with one extension: a segment that is exactly ``*`` matches every
item of an array and every member of an object. (A member literally named ``*`` is therefore
only reachable through the wildcard.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from dsgit.model.entry import JSONValue

__all__ = [
    "WILDCARD",
    "expand",
    "format_pointer",
    "parse_pointer",
    "replace_at",
    "resolve",
    "set_at",
]

WILDCARD = "*"


def parse_pointer(pointer: str) -> tuple[str, ...]:
    """Split a pointer into unescaped segments; ``""`` is the whole value."""
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer {pointer!r} must be empty or start with '/'")
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/"))


def format_pointer(segments: tuple[str, ...] | list[str]) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in segments)


def _children(value: JSONValue) -> Iterator[tuple[str, JSONValue]]:
    if isinstance(value, dict):
        yield from value.items()
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield str(index), item


def _child(value: JSONValue, segment: str) -> tuple[bool, JSONValue]:
    if isinstance(value, dict):
        return (True, value[segment]) if segment in value else (False, None)
    if isinstance(value, list) and segment.isdigit() and (segment == "0" or segment[0] != "0"):
        index = int(segment)
        return (True, value[index]) if index < len(value) else (False, None)
    return False, None


def expand(value: JSONValue, pattern: str) -> list[str]:
    """The concrete pointers in ``value`` that ``pattern`` matches (absent paths match nothing)."""
    found: list[str] = []

    def visit(node: JSONValue, rest: tuple[str, ...], path: list[str]) -> None:
        if not rest:
            found.append(format_pointer(path))
            return
        head, tail = rest[0], rest[1:]
        if head == WILDCARD:
            for name, child in _children(node):
                visit(child, tail, [*path, name])
            return
        present, child = _child(node, head)
        if present:
            visit(child, tail, [*path, head])

    visit(value, parse_pointer(pattern), [])
    return found


def resolve(value: JSONValue, pointer: str) -> tuple[bool, JSONValue]:
    """``(True, node)`` for a concrete pointer that exists in ``value``, else ``(False, None)``."""
    node = value
    for segment in parse_pointer(pointer):
        present, node = _child(node, segment)
        if not present:
            return False, None
    return True, node


def replace_at(
    value: JSONValue, pointer: str, change: Callable[[JSONValue], JSONValue]
) -> JSONValue:
    """A copy of ``value`` with the node at the (existing, concrete) ``pointer`` replaced by
    ``change(node)``; containers along the path are copied, ``value`` is not modified."""

    def rebuild(node: JSONValue, rest: tuple[str, ...]) -> JSONValue:
        if not rest:
            return change(node)
        head, tail = rest[0], rest[1:]
        if isinstance(node, dict):
            copy = dict(node)
            copy[head] = rebuild(node[head], tail)
            return copy
        if isinstance(node, list):
            items = list(node)
            items[int(head)] = rebuild(node[int(head)], tail)
            return items
        raise KeyError(head)

    return rebuild(value, parse_pointer(pointer))


def set_at(value: JSONValue, pointer: str, new: JSONValue) -> JSONValue:
    """A copy of ``value`` with the node at the (existing, concrete) ``pointer`` set to ``new``."""
    return replace_at(value, pointer, lambda _old: new)
