"""Increments: both the stored value and the amount must be integers."""

from __future__ import annotations

import math
import re
from typing import Any

from dsgit.emulator.api_error import invalid
from dsgit.emulator.limits import INT64_MAX, INT64_MIN

__all__ = ["as_integer", "from_text", "increment_value"]

_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_MAX_INT_TEXT = 4000


def from_text(value: Any) -> Any:
    """A number sent as a JSON string (``"5"``, as protobuf's JSON mapping allows for numeric
    fields) as that number; anything else unchanged."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if _INTEGER.match(text):
        # Python refuses int() of very long digit strings; past int64 the value is rejected anyway.
        return int(text) if len(text) <= _MAX_INT_TEXT else float(text)
    try:
        number = float(text)
    except ValueError:
        return value
    return number if math.isfinite(number) else value


def as_integer(value: Any, what: str, detail: str | None = None) -> int:
    """An integral JSON number (``5``, ``5.0`` or ``"5"``) as an int; 400 for anything else."""
    value = from_text(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(f"{what} must be an integer", detail)
    if isinstance(value, float):
        if not value.is_integer():
            raise invalid(f"{what} must be an integer, got {value}", detail)
        value = int(value)
    return int(value)


def increment_value(existing: Any, amount: Any) -> int:
    """``existing + amount`` (``existing`` None: a new entry), clamped to int64."""
    step = as_integer(amount, "amount", "IncrementValueTooLarge")
    if not INT64_MIN <= step <= INT64_MAX:
        raise invalid("amount exceeds the int64 range", "IncrementValueTooLarge")
    base = (
        0
        if existing is None
        else as_integer(existing, "the existing value", "ExistingValueNotNumeric")
    )
    return max(INT64_MIN, min(INT64_MAX, base + step))
