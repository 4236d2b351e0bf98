"""Type conversions of :class:`~dsgit.migrate.model.Convert`, as a Luau game would read them.

Each conversion is total on values already of the wanted type (they come back unchanged, so a
migration converting them runs again as a no-op) and raises :class:`ConversionError` when the
value has no faithful form in the new type: ``"12.5"`` is no integer, ``"yes"`` no boolean.

- to ``string``: numbers as Luau's ``tostring`` writes them (``2.0`` -> ``"2"``), booleans as
  ``"true"`` / ``"false"``;
- to ``number`` / ``integer``: numeric text (surrounding spaces allowed, as ``tonumber``),
  booleans as 1 / 0; a fraction never becomes an integer;
- to ``boolean``: ``"true"`` / ``"false"`` in any case, and the numbers 1 / 0;
- to ``object``: an array becomes the Luau table it was (members ``"1"``, ``"2"`` ...), so an
  empty ``[]`` becomes ``{}`` (an empty Luau table comes back as either);
- to ``array``: an object whose members are exactly ``"1"`` .. ``"n"`` becomes the array of
  them in order (``{}`` becomes ``[]``).
"""

from __future__ import annotations

import re

from dsgit.migrate.model import JsonType
from dsgit.model.entry import JSONValue

__all__ = ["ConversionError", "convert_value"]

_NUMBER = re.compile(r"^-?(?:\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?$")


class ConversionError(ValueError):
    """The value cannot be converted faithfully; the message says why (without the value when
    it is long)."""


def _shown(value: JSONValue) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"a {type(value).__name__}"


def _number(value: JSONValue, to: JsonType) -> int | float:
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if to is JsonType.INTEGER:
            if not value.is_integer():
                raise ConversionError(f"{value!r} has a fraction: not an integer")
            return int(value)
        return value
    if isinstance(value, str):
        text = value.strip()
        if not _NUMBER.match(text):
            raise ConversionError(f"{_shown(value)} is not a number")
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        number = float(text)
        if to is JsonType.INTEGER:
            if not number.is_integer():
                raise ConversionError(f"{_shown(value)} has a fraction: not an integer")
            return int(number)
        return number
    raise ConversionError(f"{_json_kind(value)} cannot become a number")


def _string(value: JSONValue) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    raise ConversionError(f"{_json_kind(value)} cannot become a string")


def _boolean(value: JSONValue) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int | float) and value in (0, 1):
        return value == 1
    raise ConversionError(f"{_shown(value)} is not a boolean (true/false, 1/0)")


def _object(value: JSONValue) -> dict[str, JSONValue]:
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {str(index + 1): item for index, item in enumerate(value)}
    raise ConversionError(f"{_json_kind(value)} cannot become an object")


def _array(value: JSONValue) -> list[JSONValue]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        wanted = [str(index + 1) for index in range(len(value))]
        if sorted(value, key=lambda name: (len(name), name)) != wanted:
            raise ConversionError(
                "an object becomes an array only when its members are exactly 1..n"
            )
        return [value[name] for name in wanted]
    raise ConversionError(f"{_json_kind(value)} cannot become an array")


def _json_kind(value: JSONValue) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    return f"{_shown(value)}"


def convert_value(value: JSONValue, to: JsonType) -> JSONValue:
    """``value`` as type ``to`` (see the module docstring); ``ConversionError`` if it cannot."""
    match to:
        case JsonType.STRING:
            return _string(value)
        case JsonType.NUMBER | JsonType.INTEGER:
            return _number(value, to)
        case JsonType.BOOLEAN:
            return _boolean(value)
        case JsonType.OBJECT:
            return _object(value)
        case JsonType.ARRAY:
            return _array(value)
