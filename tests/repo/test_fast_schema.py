"""The fast precheck agrees with jsonschema: it never calls an invalid value valid."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from dsgit.repo.value_schemas import ValueSchemas

COMMON = {
    "$defs": {
        "userId": {"type": "integer", "minimum": 1},
        "empty": {
            "oneOf": [{"type": "array", "maxItems": 0}, {"type": "object", "maxProperties": 0}]
        },
    }
}
SCHEMAS: dict[str, Any] = {
    "schemas/common.json": COMMON,
    "schemas/profile.json": {
        "type": "object",
        "required": ["Data"],
        "properties": {
            "Data": {
                "type": "object",
                "required": ["Coins"],
                "properties": {
                    "Coins": {"type": "integer", "minimum": 0, "maximum": 1000},
                    "Items": {
                        "anyOf": [
                            {"type": "array", "items": {"type": "string"}},
                            {"$ref": "common.json#/$defs/empty"},
                        ]
                    },
                    "Name": {"type": "string", "minLength": 1, "maxLength": 5, "pattern": "^[a-z]"},
                },
                "additionalProperties": {"type": ["boolean", "null"]},
            },
            "UserIds": {
                "type": "array",
                "items": {"$ref": "common.json#/$defs/userId"},
                "uniqueItems": True,
                "maxItems": 3,
            },
            "Kind": {"enum": [1, "one", True, None]},
            "Const": {"const": 1.0},
            "When": {"type": "string", "format": "date-time"},
            "Pair": {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "array"}],
                "items": False,
            },
            "Either": {
                "if": {"type": "integer"},
                "then": {"exclusiveMinimum": 0},
                "else": {"type": "string"},
            },
            "Not": {"not": {"type": "null"}},
            "Names": {
                "type": "object",
                "propertyNames": {"maxLength": 2},
                "patternProperties": {"^x": {"type": "integer"}},
                "minProperties": 1,
            },
            "Deps": {"type": "object", "dependentRequired": {"a": ["b"]}},
        },
    },
}

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-5, max_value=1005)
    | st.sampled_from([0.0, 1.0, -1.5, 2.5, 1000.0])
    | st.sampled_from(
        ["", "a", "ab", "abcdef", "Zed", "one", "x", "2024-01-01T00:00:00Z", "2024-13-01T00:00:00Z"]
    )
)
KEYS = st.sampled_from(
    [
        "Data",
        "Coins",
        "Items",
        "Name",
        "UserIds",
        "Kind",
        "Const",
        "When",
        "Pair",
        "Either",
        "Not",
        "Names",
        "Deps",
        "a",
        "b",
        "xy",
        "xyz",
        "flag",
    ]
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=15,
)


SHARED = ValueSchemas.from_documents(SCHEMAS)


@pytest.fixture(scope="module")
def schemas() -> ValueSchemas:
    return ValueSchemas.from_documents(SCHEMAS)


def test_predicate_exists_for_supported_keywords(schemas: ValueSchemas) -> None:
    assert schemas.predicate("schemas/profile.json") is not None


def test_unsupported_keyword_gives_no_predicate() -> None:
    documents = {"schemas/a.json": {"type": "object", "unevaluatedProperties": False}}
    schemas = ValueSchemas.from_documents(documents)
    assert schemas.validator("schemas/a.json") is not None
    assert schemas.predicate("schemas/a.json") is None


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {"Data": st.dictionaries(KEYS, VALUES, max_size=4)},
        optional={
            k: VALUES
            for k in ["UserIds", "Kind", "Const", "When", "Pair", "Either", "Not", "Names", "Deps"]
        },
    )
)
def test_predicate_agrees_with_jsonschema(value: dict[str, Any]) -> None:
    validator = SHARED.validator("schemas/profile.json")
    predicate = SHARED.predicate("schemas/profile.json")
    assert validator is not None and predicate is not None
    assert predicate(value) == validator.is_valid(value)


@settings(max_examples=200, deadline=None)
@given(VALUES)
def test_predicate_agrees_on_any_value(value: Any) -> None:
    validator = SHARED.validator("schemas/profile.json")
    predicate = SHARED.predicate("schemas/profile.json")
    assert validator is not None and predicate is not None
    assert predicate(value) == validator.is_valid(value)


@pytest.mark.parametrize(
    ("schema", "instance", "valid"),
    [
        ({"type": "integer"}, True, False),
        ({"type": "integer"}, 1.0, True),
        ({"type": "number"}, False, False),
        ({"enum": [1]}, True, False),
        ({"const": False}, 0, False),
        ({"uniqueItems": True}, [1, True], True),
        ({"uniqueItems": True}, [1, 1.0], False),
    ],
)
def test_edge_cases_match_jsonschema(schema: dict[str, Any], instance: Any, valid: bool) -> None:
    schemas = ValueSchemas.from_documents({"schemas/s.json": schema})
    predicate = schemas.predicate("schemas/s.json")
    assert predicate is not None
    assert Draft202012Validator(schema).is_valid(instance) is valid
    assert predicate(instance) is valid
