"""JSON value facts planning relies on: Luau-aware equality and type names.

Values come back from game servers as Luau tables serialised to JSON, so equality here is what
a game would consider equal: numbers compare by value (``1`` and ``1.0`` are one Luau number),
booleans are not numbers, and an empty table may come back as ``[]`` or ``{}``
(real-world-data.md), so those two are equal. Anything else is compared exactly.
"""

from __future__ import annotations

import json

from dsgit.model.entry import EntryData, JSONValue

__all__ = [
    "data_equal",
    "json_type",
    "same_value",
    "values_equal",
]


def json_type(value: object) -> str:
    """The JSON type name: null, boolean, number, string, array or object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _empty_table(value: object) -> bool:
    return (isinstance(value, list | dict)) and not value


def _text(value: JSONValue) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def values_equal(left: JSONValue, right: JSONValue) -> bool:
    """Equality as a game sees it (see the module docstring)."""
    # Fast path: the same JSON text is the same value (most compared entries are unchanged).
    if isinstance(left, dict | list) and left and _text(left) == _text(right):
        return True
    return same_value(left, right)


def same_value(left: JSONValue, right: JSONValue) -> bool:
    """:func:`values_equal` without the fast path (for walks that compare every level)."""
    if _empty_table(left) and _empty_table(right):
        return True
    kind = json_type(left)
    if kind != json_type(right):
        return False
    if isinstance(left, dict):
        assert isinstance(right, dict)
        return left.keys() == right.keys() and all(
            same_value(item, right[name]) for name, item in left.items()
        )
    if isinstance(left, list):
        assert isinstance(right, list)
        return len(left) == len(right) and all(
            same_value(a, b) for a, b in zip(left, right, strict=True)
        )
    return left == right


def data_equal(left: EntryData, right: EntryData) -> bool:
    """Value, attributes and users all equal (users as a set: Roblox keeps no order)."""
    return (
        values_equal(left.value, right.value)
        and values_equal(dict(left.attributes), dict(right.attributes))
        and sorted(left.users) == sorted(right.users)
    )
