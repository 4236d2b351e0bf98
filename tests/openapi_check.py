"""Check response bodies against the OpenAPI descriptions in ``src/dsgit/openapi/*.min.json``.

``check_response(method, path, status, body, headers)`` finds the operation by method and path
template, picks the response schema for the status, resolves ``$ref``s, turns OpenAPI 3.0
``nullable`` into JSON Schema, and validates with jsonschema (``date-time`` formats checked as
RFC 3339). Error statuses an operation does not document are checked against the error models
of ``cloud/reference/errors.md`` (v2, v1 standard, v1 ordered, gateway).

Where the published files contradict what the live service answers (and their own examples),
:data:`ERRATA` replaces the schema, each with its reason; ``docs/emulator.md`` lists them too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import jsonschema

import dsgit
from dsgit.emulator.wire import Request as WireRequest

__all__ = ["ERRATA", "check", "check_response", "find_operation", "operations"]

SPEC_DIR = Path(dsgit.__file__).parent / "openapi"
SPEC_FILES = (
    "openapi-v2-subset.min.json",
    "datastores-v1.min.json",
    "ordered-datastores-v1.min.json",
    "experiments-v1.min.json",
)
# The emulator's own routes (test helpers such as a Creator Hub edit) are not Roblox's.
EMULATOR_PREFIX = "/_emulator/"

_ANY: dict[str, Any] = {}
_V1_VERSION = {"$ref": "#/components/schemas/EntryVersion"}

# (operationId, status) -> schema used instead of the published one, with why.
ERRATA: dict[tuple[str, int], tuple[dict[str, Any], str]] = {
    ("Entries_GetEntryAsync", 200): (_ANY, "the entry's value may be any JSON, not only an object"),
    ("Entries_GetEntryVersionAsync", 200): (_ANY, "the value may be any JSON, not only an object"),
    ("Entries_IncrementEntryAsync", 200): (
        {"type": "integer"},
        "an increment answers the new (integer) value, never an object",
    ),
    ("Entries_SetEntryAsync", 412): (_ANY, "412 answers the current value with its headers"),
    ("Entries_ListKeysAsync", 200): (
        {
            "type": "object",
            "properties": {
                "keys": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["key"],
                        "properties": {"scope": {"type": "string"}, "key": {"type": "string"}},
                        "additionalProperties": False,
                    },
                },
                "nextPageCursor": {"type": ["string", "null"]},
            },
        },
        "keys are {scope, key} objects (as the spec's own example shows), not strings",
    ),
    ("Entries_ListEntryVersionsAsync", 200): (
        {
            "type": "object",
            "required": ["versions"],
            "properties": {
                "versions": {"type": "array", "items": _V1_VERSION},
                "nextPageCursor": {"type": ["string", "null"]},
            },
        },
        "the listing wraps EntryVersion items in {versions, nextPageCursor}",
    ),
}
# ASP.NET's ActionResult is a placeholder type, not a body shape: any JSON object.
_REF_ERRATA = {"#/components/schemas/ActionResult": {"type": "object"}}

_V2_CODES = [
    "INVALID_ARGUMENT",
    "PERMISSION_DENIED",
    "NOT_FOUND",
    "ABORTED",
    "RESOURCE_EXHAUSTED",
    "CANCELLED",
    "INTERNAL",
    "NOT_IMPLEMENTED",
    "UNAVAILABLE",
]
V2_ERROR = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"enum": _V2_CODES},
        "message": {"type": "string"},
        "details": {"type": "array"},
    },
    "additionalProperties": False,
}
V1_STANDARD_ERROR = {
    "type": "object",
    "required": ["error", "message", "errorDetails"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "errorDetails": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["errorDetailType", "datastoreErrorCode"],
                "properties": {
                    "errorDetailType": {"const": "DatastoreErrorInfo"},
                    "datastoreErrorCode": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": False,
}
V1_ORDERED_ERROR = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
    "additionalProperties": False,
}
GATEWAY_ERROR = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
                "additionalProperties": False,
            },
        }
    },
    "additionalProperties": False,
}

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date-time")
def _is_datetime(value: object) -> bool:
    return not isinstance(value, str) or _RFC3339.match(value) is not None


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    lenient: re.Pattern[str]  # names with unencoded "/"
    operation_id: str
    responses: Mapping[str, Any]
    document: Mapping[str, Any]
    specificity: int


def _resolve(document: Mapping[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


_SKIP = {
    "nullable",
    "example",
    "examples",
    "description",
    "readOnly",
    "writeOnly",
    "title",
    "deprecated",
    "xml",
    "externalDocs",
    "discriminator",
    "default",
    "format",
}


def to_json_schema(schema: Any, document: Mapping[str, Any], depth: int = 0) -> Any:
    """An OpenAPI 3.0 schema object as plain JSON Schema (refs inlined, nullable mapped)."""
    if depth > 40:
        raise RecursionError("schema nesting too deep (a recursive $ref?)")
    if not isinstance(schema, Mapping):
        return schema
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref in _REF_ERRATA:
            return _REF_ERRATA[ref]
        return to_json_schema(_resolve(document, ref), document, depth + 1)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key.startswith("x-") or key in _SKIP:
            if key == "format" and value == "date-time":
                out["format"] = "date-time"
            continue
        if key == "properties":
            out[key] = {name: to_json_schema(s, document, depth + 1) for name, s in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, Mapping):
            out[key] = to_json_schema(value, document, depth + 1)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [to_json_schema(s, document, depth + 1) for s in value]
        else:
            out[key] = value
    if schema.get("nullable") is True:
        return {"anyOf": [{"type": "null"}, out]}
    return out


@cache
def operations() -> tuple[Operation, ...]:
    found: list[Operation] = []
    for name in SPEC_FILES:
        document = json.loads((SPEC_DIR / name).read_text(encoding="utf-8"))
        prefix = urlparse(document["servers"][0]["url"]).path.rstrip("/")
        for template, item in document["paths"].items():
            full = prefix + template
            regex = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(full))
            loose = re.sub(r"\\\{\w+\\\}", ".+?", re.escape(full))
            literal = len(re.sub(r"\{\w+\}", "", full))
            for method, op in item.items():
                if method == "parameters":
                    continue
                found.append(
                    Operation(
                        method.upper(),
                        full,
                        re.compile(f"^{regex}$"),
                        re.compile(f"^{loose}$"),
                        op["operationId"],
                        op.get("responses", {}),
                        document,
                        literal,
                    )
                )
    return tuple(sorted(found, key=lambda op: -op.specificity))


def find_operation(method: str, path: str) -> Operation:
    """The operation serving ``method path`` (raw, percent-encoded path, no query)."""
    for strict in (True, False):
        for op in operations():
            pattern = op.pattern if strict else op.lenient
            if op.method == method.upper() and pattern.match(path):
                return op
    raise LookupError(f"no operation in the OpenAPI files for {method} {path}")


def _error_schemas(path: str, status: int) -> list[Any]:
    schemas: list[Any] = [GATEWAY_ERROR] if status in (401, 403, 429) else []
    if path.startswith("/datastores/"):
        schemas.append(V1_STANDARD_ERROR)
    elif path.startswith("/ordered-data-stores/"):
        schemas.append(V1_ORDERED_ERROR)
    elif path.startswith("/creator-configs-public-api/"):
        schemas.append(GATEWAY_ERROR)
    else:
        schemas.append(V2_ERROR)
    return schemas


def _validate(body: Any, schema: Any, document: Mapping[str, Any]) -> str | None:
    converted = to_json_schema(schema, document)
    validator = jsonschema.Draft7Validator(converted, format_checker=_FORMATS)
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    return f"{where}: {error.message}"


def check_response(
    method: str,
    path: str,
    status: int,
    body: bytes,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Raise ``AssertionError`` unless ``body`` fits the response schema for ``status``."""
    if path.startswith(EMULATOR_PREFIX):
        return
    # The emulator serves a path with a trailing slash as the path without it, except after
    # `entries/`, which names an empty key (emulator/wire.py): judge it by that operation.
    served = WireRequest(method, path).path
    try:
        op = find_operation(method, served)
    except LookupError:
        # Unknown paths may only answer errors, in the error model of the API they point into.
        assert status >= 400, f"{method} {path} -> {status}: no such operation"
        problems = [_validate(json.loads(body), s, {}) for s in _error_schemas(path, status)]
        assert any(p is None for p in problems), f"{method} {path} -> {status}: {problems}"
        return
    label = f"{method} {path} -> {status} ({op.operation_id})"
    if headers is not None and body:
        content_type = headers.get("content-type", "")
        assert content_type.startswith("application/json"), (
            f"{label}: content-type {content_type!r}"
        )
    documented = op.responses.get(str(status))
    candidates: list[Any]
    if (op.operation_id, status) in ERRATA:
        candidates = [ERRATA[op.operation_id, status][0]]
    elif documented is not None:
        content = documented.get("content") or {}
        schema = next(
            (c["schema"] for t, c in content.items() if "json" in t and "schema" in c), None
        )
        if schema is None and status < 400:
            # No content documented: nothing, or an empty object, may come back.
            assert body.strip() in (b"", b"{}"), f"{label}: expected no body, got {body[:200]!r}"
            return
        candidates = [schema] if schema is not None else []
        candidates += _error_schemas(path, status) if status >= 400 else []
    elif status >= 400:
        candidates = _error_schemas(path, status)
    else:
        raise AssertionError(f"{label}: status not documented")
    if status == 204:
        assert body == b"", f"{label}: a 204 must have no body"
        return
    try:
        parsed = json.loads(body)
    except ValueError as exc:
        raise AssertionError(f"{label}: body is not JSON: {exc}") from None
    problems = [_validate(parsed, schema, op.document) for schema in candidates]
    if all(problem is not None for problem in problems):
        raise AssertionError(
            f"{label}: {'; '.join(p for p in problems if p)}\nbody: {body[:500]!r}"
        )


def check(response: httpx.Response) -> None:
    """:func:`check_response` for an httpx response (reads it first)."""
    response.read()
    request = response.request
    path = request.url.raw_path.decode("ascii").split("?", 1)[0]
    check_response(request.method, path, response.status_code, response.content, response.headers)
