from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from dsgit.insight.infer import DRAFT, InferOptions, Shape, infer_schema

from .fixtures import catalog_item, datastore2_blob, player_store, profile


def inferred(values: list[object], **kw: object) -> dict[str, object]:
    shape = Shape()
    for value in values:
        shape.add(value)  # type: ignore[arg-type]
    return infer_schema(shape, title="T", description="d", options=InferOptions(**kw))  # type: ignore[arg-type]


def test_profiles_schema_validates_its_sample_and_rejects_another_shape() -> None:
    sample = [item.value for item in player_store(60)]
    schema = inferred(sample)
    assert schema["$schema"] == DRAFT
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    assert all(validator.is_valid(value) for value in sample)
    # a DataStore2 blob is not a profile
    assert not validator.is_valid(datastore2_blob(10, ["x"]))
    assert not validator.is_valid({**profile(5, 10), "Data": {"Coins": "lots"}})
    data = schema["properties"]["Data"]  # type: ignore[index]
    assert data["required"] == ["Coins", "Gems", "OwnedItems", "Pets", "Settings", "Stage"]
    assert data["properties"]["Coins"] == {"type": "integer", "minimum": 100, "maximum": 9_000_000}
    assert data["properties"]["OwnedItems"]["items"]["enum"] == [
        "gravity_coil",
        "rainbow_trail",
        "speed_coil",
        "vip_pass",
    ]
    # Pets: a map, or the empty Luau table serialized as []
    pets = data["properties"]["Pets"]
    assert pets["type"] == ["object", "array"] and pets["maxItems"] == 0
    assert not validator.is_valid({**sample[0], "Data": {**sample[0]["Data"], "Pets": ["x"]}})
    meta = schema["properties"]["MetaData"]  # type: ignore[index]
    assert "ActiveSession" not in meta["required"]  # only two profiles have one
    assert "ActiveSession" in meta["properties"]


def test_maps_keyed_by_ids_become_additional_properties() -> None:
    rosters = [
        {"members": {str(1000 + i): {"rank": "officer" if i % 3 else "member"}}} for i in range(30)
    ]
    schema = inferred(rosters)
    members = schema["properties"]["members"]  # type: ignore[index]
    assert "properties" not in members
    assert members["additionalProperties"]["properties"]["rank"]["enum"] == ["member", "officer"]
    assert "pattern" in members["propertyNames"]
    validator = Draft202012Validator(schema)
    assert validator.is_valid({"members": {"77": {"rank": "member"}}})
    assert not validator.is_valid({"members": {"77": {"rank": 3}}})


def test_required_by_frequency_and_small_enums() -> None:
    items = [catalog_item(i) for i in range(40)]
    for i in range(0, 40, 10):
        items[i]["badge"] = "new"
    schema = inferred(items, required_share=0.9)
    assert schema["required"] == ["category", "currency", "display_name", "on_sale", "price"]
    props = schema["properties"]  # type: ignore[index]
    assert props["currency"]["enum"] == ["coins", "gems"]
    assert "enum" not in props["display_name"]  # 40 distinct names: no enum
    assert props["price"] == {"type": "integer", "minimum": 100, "maximum": 375}
    assert props["on_sale"] == {"type": "boolean"}
    # the schema is plain JSON, ready for schemas/
    json.dumps(schema)


def test_sensitive_values_yield_no_constraint_and_emails_no_enum() -> None:
    values = [{"token": "(sensitive)", "mail": "a@example.com"} for _ in range(10)]
    schema = inferred(values)
    props = schema["properties"]  # type: ignore[index]
    assert props["token"] == {"description": "sensitive: not inspected"}
    assert props["mail"] == {"type": "string"}
    assert "a@example.com" not in json.dumps(schema)


def test_numbers_mixed_with_integers_and_nulls() -> None:
    schema = inferred([{"x": 1}, {"x": 2.5}, {"x": None}])
    assert schema["properties"]["x"]["type"] == ["number", "null"]  # type: ignore[index]
