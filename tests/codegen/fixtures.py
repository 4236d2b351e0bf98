"""Declarations for the codegen tests, built in memory (the generator is pure)."""

from __future__ import annotations

from collections.abc import Mapping

from dsgit.model.declaration import Declaration, StoreDeclaration, StorePolicy
from dsgit.model.entry import JSONValue, StoreKind


def declaration(
    schemas: Mapping[str, JSONValue],
    stores: Mapping[str, str | None],
    *,
    ordered: tuple[str, ...] = (),
    policies: Mapping[str, StorePolicy] | None = None,
) -> Declaration:
    """Standard stores by name -> schema reference (None: no schema), ordered store names."""
    found: dict[tuple[StoreKind, str], StoreDeclaration] = {}
    for name, schema in stores.items():
        policy = (policies or {}).get(name, StorePolicy(schema=schema))
        found[(StoreKind.STANDARD, name)] = StoreDeclaration(StoreKind.STANDARD, name, policy, {})
    for name in ordered:
        found[(StoreKind.ORDERED, name)] = StoreDeclaration(
            StoreKind.ORDERED, name, StorePolicy(), {}
        )
    return Declaration(found, dict(schemas))


def one_store(schema: JSONValue, name: str = "Store") -> Declaration:
    return declaration({"schemas/s.json": schema}, {name: "schemas/s.json"})


# A ProfileStore profile as MadStudio's ProfileStore saves it (real-world shapes: an empty Luau
# table saved as [] or {}, GlobalUpdates as a [index, updates] pair, ActiveSession optional).
PROFILE: JSONValue = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "ProfileStore profile",
    "type": "object",
    "required": ["Data", "MetaData"],
    "$defs": {
        "emptyTable": {
            "description": "An empty Luau table: [] or {}",
            "oneOf": [
                {"type": "array", "maxItems": 0},
                {"type": "object", "maxProperties": 0},
            ],
        },
        "session": {
            "type": "object",
            "required": ["PlaceId", "JobId"],
            "properties": {
                "PlaceId": {"type": "integer"},
                "JobId": {"type": "string"},
                "unique_session_id": {"type": "string"},
            },
        },
    },
    "properties": {
        "Data": {
            "type": "object",
            "required": ["Coins"],
            "properties": {
                "Coins": {"type": "integer", "minimum": 0},
                "Inventory": {
                    "anyOf": [
                        {"type": "array", "items": {"type": "string"}},
                        {"$ref": "#/$defs/emptyTable"},
                    ]
                },
                "Pets": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        },
        "MetaData": {
            "type": "object",
            "required": ["ProfileCreateTime", "SessionLoadCount"],
            "properties": {
                "ProfileCreateTime": {"type": "number"},
                "SessionLoadCount": {"type": "integer"},
                "ActiveSession": {"$ref": "#/$defs/session"},
                "ForceLoadSession": {"$ref": "#/$defs/session"},
                "MetaTags": {"$ref": "#/$defs/emptyTable"},
                "LastUpdate": {"type": "number"},
            },
        },
        "RobloxMetaData": {"type": "object"},
        "UserIds": {"type": "array", "items": {"type": "integer"}},
        "GlobalUpdates": {
            "type": "array",
            "prefixItems": [{"type": "integer"}, {"type": "array"}],
            "items": False,
        },
    },
}

# DataStore2 "OrderedBackups": a standard store DATA/<user id> per player (the combined blob)
# and an ordered store of the same name.
DATASTORE2_BLOB: JSONValue = {
    "type": "object",
    "required": ["coins"],
    "properties": {
        "coins": {"type": "integer"},
        "inventory": {"type": ["array", "null"], "items": {"type": "string"}},
    },
}

# A shop catalog: enums, a const, a map keyed by item ids, nullable fields, descriptions.
CATALOG_ITEM: JSONValue = {
    "type": "object",
    "required": ["id", "price", "currency", "kind"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "description": "Item id, e.g. sword_01"},
        "price": {"type": "integer", "minimum": 0},
        "currency": {"enum": ["coins", "gems", "robux"]},
        "kind": {"const": "item"},
        "sale": {"type": ["number", "null"], "description": "Sale price\nor null"},
        "stats": {"type": "object", "patternProperties": {"^[a-z]+$": {"type": "number"}}},
        "bundle": {"type": "object", "additionalProperties": {"$ref": "#/$defs/bundleEntry"}},
        "released": {"type": "string", "format": "date-time", "deprecated": True},
    },
    "$defs": {
        "bundleEntry": {
            "type": "object",
            "required": ["count"],
            "properties": {"count": {"type": "integer"}},
        }
    },
}


# Every awkward corner in one schema: field names that are reserved words or not identifiers,
# quotes and non-ASCII in literals, a long enum, objects inside unions and arrays, allOf,
# recursion, boolean schemas, keywords Luau cannot say, $defs whose names collide once
# sanitised, and $defs named like the module's own or Luau's builtin types.
EDGES: JSONValue = {
    "type": "object",
    "required": ["end", "kind"],
    "properties": {
        "end": {"type": "integer"},
        "function": {"type": "string"},
        "type": {"type": "string"},
        "with-dash": {"type": "boolean"},
        "héllo wörld": {"type": "string"},
        "kind": {"enum": ['say "hi"', "back\\slash", "línea\nnueva", None, 3, True]},
        "long": {
            "enum": [f"a_rather_long_enum_member_number_{n}" for n in range(8)],
        },
        "shape": {
            "oneOf": [
                {"type": "object", "required": ["r"], "properties": {"r": {"type": "number"}}},
                {
                    "type": "object",
                    "required": ["w", "h"],
                    "properties": {"w": {"type": "number"}, "h": {"type": "number"}},
                },
            ]
        },
        "points": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
            },
        },
        "both": {"allOf": [{"$ref": "#/$defs/user-id"}, {"$ref": "#/$defs/user_id"}]},
        "tree": {"$ref": "#/$defs/node"},
        "anything": True,
        "nothing": False,
        "on": {"const": True},
        "either": {"type": ["string", "integer"]},
        "negated": {"not": {"type": "string"}},
        "dynamic": {"$dynamicRef": "#meta"},
        "described": {"description": "only a description"},
        "sneaky": {
            "description": "ends the comment?\rreturn nil\u2028--[[ or opens a block",
            "$ref": "other.json#/x\nreturn 1",
        },
    },
    "$defs": {
        "user-id": {"type": "integer"},
        "user_id": {"type": "integer", "minimum": 1},
        "node": {
            "type": "object",
            "required": ["children"],
            "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
        },
        "Value": {"type": "string"},
        "string": {"type": "string"},
    },
}
