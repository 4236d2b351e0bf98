from __future__ import annotations

from jsonschema import Draft202012Validator

from dsgit.insight.conformance import violations
from dsgit.insight.walk import is_id_like, leaves


def test_leaves_generalise_indices_and_ids() -> None:
    value = {"Inventory": [{"n": 1}, {"n": 2}], "Pets": {"12345": 3}, "a/b": {"~": True}}
    assert list(leaves(value)) == [
        ("/Inventory/*/n", 1),
        ("/Inventory/*/n", 2),
        ("/Pets/*", 3),
        ("/a~1b/~0", True),
    ]
    assert is_id_like("Player_45348281") and is_id_like("-12")
    assert not is_id_like("Coins") and not is_id_like("speed_coil")


SCHEMA = {
    "type": "object",
    "required": ["Data"],
    "properties": {
        "Data": {
            "type": "object",
            "required": ["Coins"],
            "properties": {
                "Coins": {"type": "integer", "minimum": 0},
                "Stage": {"type": "integer"},
                "Rank": {"enum": ["bronze", "silver"]},
            },
        },
        "Items": {"type": "array", "items": {"type": "string"}},
    },
}


def test_violations_name_pointer_keyword_and_expectation_never_the_value() -> None:
    validator = Draft202012Validator(SCHEMA)
    secret = "hunter2-very-secret"
    value = {"Data": {"Coins": -5, "Stage": secret, "Rank": "gold"}, "Items": ["a", 3]}
    found = {(v.pointer, v.keyword, v.expected) for v in violations(validator, value)}
    assert found == {
        ("/Data/Coins", "minimum", "minimum 0"),
        ("/Data/Stage", "type", "type integer"),
        ("/Data/Rank", "enum", "one of bronze, silver"),
        ("/Items/*", "type", "type string"),
    }
    assert secret not in repr(found)
    missing = {(v.pointer, v.expected) for v in violations(validator, {"Data": {}})}
    assert missing == {("/Data/Coins", "present")}
    assert list(violations(validator, {"Data": {"Coins": 3}})) == []
