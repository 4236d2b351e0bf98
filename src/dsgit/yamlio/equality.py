"""Type-exact equality of JSON values: Python says ``1 == 1.0 == True``; JSON does not."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["json_equal"]


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, Sequence):
        return "array"
    return type(value).__name__


def json_equal(left: object, right: object) -> bool:
    """True when both are the same JSON value, types included (object member order ignored)."""
    kind = _kind(left)
    if kind != _kind(right):
        return False
    if kind == "object":
        assert isinstance(left, Mapping) and isinstance(right, Mapping)
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if kind == "array":
        assert isinstance(left, Sequence) and isinstance(right, Sequence)
        return len(left) == len(right) and all(
            json_equal(a, b) for a, b in zip(left, right, strict=True)
        )
    return left == right
