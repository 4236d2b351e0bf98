"""Walking a JSON value leaf by leaf, with pointers generalised so that figures add up across
entries: array indices and id-like map keys (``"12345"``, UUIDs) become ``*``.

So ``/Data/Inventory/0/Count`` and ``/Data/Inventory/7/Count`` are both
``/Data/Inventory/*/Count``, and ``/members/45348281`` is ``/members/*``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dsgit.model.entry import JSONValue

__all__ = ["ID_PATTERN", "WILDCARD", "escape", "is_id_like", "leaves", "nodes"]

WILDCARD = "*"
# Map keys that name ids, not fields (also the `propertyNames` pattern schema inference writes).
ID_PATTERN = (
    r"^(-?[0-9]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{16,}|[A-Za-z]+_[0-9]+)$"
)
_ID_LIKE = re.compile(ID_PATTERN)
_MAX_DEPTH = 64  # values are Luau tables; anything deeper is walked no further


def escape(segment: str) -> str:
    """One RFC 6901 pointer segment."""
    return segment.replace("~", "~0").replace("/", "~1")


def is_id_like(key: str) -> bool:
    """A map key that names an id rather than a field: digits, a UUID, long hex, ``Player_1``."""
    return _ID_LIKE.match(key) is not None


def nodes(value: JSONValue, pointer: str = "", depth: int = 0) -> Iterator[tuple[str, JSONValue]]:
    """Every node (the root too) with its generalised pointer, parents before children."""
    yield pointer, value
    if depth >= _MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            segment = WILDCARD if is_id_like(key) else escape(key)
            yield from nodes(child, f"{pointer}/{segment}", depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from nodes(child, f"{pointer}/{WILDCARD}", depth + 1)


def leaves(value: JSONValue) -> Iterator[tuple[str, JSONValue]]:
    """Every scalar (string, number, boolean, null) with its generalised pointer."""
    for pointer, node in nodes(value):
        if not isinstance(node, dict | list):
            yield pointer, node
