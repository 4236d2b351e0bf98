"""Schema conformance of live values, per JSON pointer, without ever quoting a value.

jsonschema's messages quote the instance (``'abc' is not of type 'integer'``), which may be a
sensitive value; a :class:`Violation` keeps only the generalised pointer, the keyword and what
the schema expected.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from dsgit.insight.walk import WILDCARD, escape, is_id_like
from dsgit.model.entry import JSONValue

__all__ = ["Violation", "violations"]


@dataclass(frozen=True)
class Violation:
    """Where a value breaks its schema: pointer, keyword, and the schema's side of it."""

    pointer: str
    keyword: str
    expected: str


def _pointer(path: Any) -> str:
    parts = []
    for part in path:
        if isinstance(part, int):
            parts.append(WILDCARD)
        else:
            parts.append(WILDCARD if is_id_like(part) else escape(part))
    return "".join(f"/{part}" for part in parts)


def _expected(error: ValidationError) -> tuple[str, str]:
    """(pointer suffix, what was expected) from the schema side of an error only."""
    keyword = str(error.validator)
    wanted = error.validator_value
    if keyword == "required" and isinstance(error.instance, dict) and isinstance(wanted, list):
        missing = [name for name in wanted if name not in error.instance]
        if len(missing) == 1:
            return f"/{escape(str(missing[0]))}", "present"
        return "", "present: " + ", ".join(str(name) for name in missing)
    if keyword == "type":
        return "", f"type {' or '.join(wanted) if isinstance(wanted, list) else wanted}"
    if keyword == "enum" and isinstance(wanted, list) and len(wanted) <= 8:
        return "", "one of " + ", ".join(_short(item) for item in wanted)
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return "", f"{keyword} {wanted}"
    if keyword in ("minLength", "maxLength", "minItems", "maxItems", "pattern", "format"):
        return "", f"{keyword} {_short(wanted)}"
    if keyword == "additionalProperties" and wanted is False:
        return "", "no other properties"
    return "", keyword


def _short(item: object) -> str:
    text = str(item)
    return text if len(text) <= 40 else text[:39] + "…"


def violations(validator: Validator, value: JSONValue) -> Iterator[Violation]:
    """Each distinct violation of ``value`` (deepest error of each ``anyOf``/``oneOf`` branch
    is not chased: the branch keyword itself is reported at its pointer)."""
    seen: set[Violation] = set()
    for error in validator.iter_errors(value):
        suffix, expected = _expected(error)
        found = Violation(_pointer(error.absolute_path) + suffix, str(error.validator), expected)
        if found not in seen:
            seen.add(found)
            yield found
