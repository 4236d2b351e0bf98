"""Readable messages for JSON Schema errors that never repeat the instance (the value may be a
secret); ``None`` when no such message exists for the keyword."""

from __future__ import annotations

import json
from typing import Any

from jsonschema.exceptions import ValidationError

__all__ = ["safe_message"]

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}
_RELATIONS = {
    "minimum": ">=",
    "exclusiveMinimum": ">",
    "maximum": "<=",
    "exclusiveMaximum": "<",
}


def safe_message(error: ValidationError, field: str) -> str | None:
    """A message about ``field`` (already formatted, e.g. "`value.Coins`") from the keyword."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    keyword = str(error.validator)
    expected: Any = error.validator_value
    instance: Any = error.instance
    if isinstance(schema.get("errorMessage"), str):
        return f"{field}: {schema['errorMessage']}"
    if keyword == "required":
        missing = [
            name
            for name in expected
            if name not in (instance if isinstance(instance, dict) else {})
        ]
        names = ", ".join(f"`{name}`" for name in missing) or "a field"
        noun = "fields" if len(missing) > 1 else "field"
        return f"{field} is missing required {noun} {names}"
    if keyword == "type":
        types = expected if isinstance(expected, list) else [expected]
        return f"{field} must be {' or '.join(_TYPE_NAMES.get(str(n), str(n)) for n in types)}"
    if keyword == "enum":
        return f"{field} must be one of: {', '.join(json.dumps(item) for item in expected)}"
    if keyword == "const":
        return f"{field} must be {json.dumps(expected)}"
    if keyword == "pattern":
        hint = schema.get("patternErrorMessage")
        return f"{field}: {hint}" if hint else f"{field} does not match the pattern {expected}"
    if keyword in _RELATIONS:
        return f"{field} must be {_RELATIONS[keyword]} {expected}"
    if keyword == "multipleOf":
        return f"{field} must be a multiple of {expected}"
    if keyword in ("minLength", "minItems", "minProperties"):
        if expected == 1:
            return f"{field} must not be empty"
        unit = {"minLength": "characters", "minItems": "items", "minProperties": "fields"}[keyword]
        return f"{field} must have at least {expected} {unit}"
    if keyword in ("maxLength", "maxItems", "maxProperties"):
        unit = {"maxLength": "characters", "maxItems": "items", "maxProperties": "fields"}[keyword]
        return f"{field} must have at most {expected} {unit}"
    if keyword == "uniqueItems":
        return f"{field} has repeated items"
    if keyword == "format":
        return f"{field} is not a valid {expected}"
    if keyword in ("oneOf", "anyOf"):
        return f"{field} matches none of the allowed shapes ({keyword})"
    if keyword == "not":
        return f"{field} matches a shape it must not have"
    if keyword in ("additionalProperties", "unevaluatedProperties") and isinstance(
        error.instance, dict
    ):
        known = schema.get("properties", {})
        extra = [name for name in error.instance if name not in known]
        return f"{field} has unexpected field(s) {', '.join(f'`{n}`' for n in extra[:5])}"
    return None
