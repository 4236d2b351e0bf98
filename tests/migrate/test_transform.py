"""The pure transform engine: one test per step kind on realistic save formats, plus what
becomes of values that do not match, steps that fail, and migrations that are not idempotent."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsgit.migrate.convert import ConversionError, convert_value
from dsgit.migrate.matching import matcher_for
from dsgit.migrate.model import JsonType
from dsgit.migrate.transform import Failed, Migrated, NotMatched, Unchanged, migrate_value
from dsgit.repo.value_schemas import ValueSchemas

from .fixtures import (
    DS2_NEW,
    DS2_OLD,
    PROFILE_MIGRATION,
    PROFILE_V1,
    PROFILE_V2,
)
from .support import migration_of, steps_yaml


def run(text: str, value: Any) -> Any:
    migration = migration_of(text)
    before = copy.deepcopy(value)
    outcome = migrate_value(migration, value, matcher_for(migration, ValueSchemas()))
    assert value == before  # the engine never modifies its input
    return outcome


def migrated(text: str, value: Any) -> Any:
    outcome = run(text, value)
    assert isinstance(outcome, Migrated), outcome
    return outcome.value


def test_the_whole_profile_migration_turns_v1_into_v2_and_is_idempotent() -> None:
    outcome = run(PROFILE_MIGRATION, PROFILE_V1)
    assert isinstance(outcome, Migrated)
    assert outcome.value == PROFILE_V2
    assert outcome.rerun_problem is None
    # the migrated value no longer matches (SaveVersion is set): a second run leaves it alone
    assert isinstance(run(PROFILE_MIGRATION, PROFILE_V2), NotMatched)


def test_rename_keeps_the_member_in_place_and_is_a_noop_once_done() -> None:
    text = steps_yaml("rename: {path: /Data/Gold, to: Coins}")
    new = migrated(text, PROFILE_V1)
    assert list(new["Data"]) == ["Coins", "Level", "Items", "Settings", "Pets"]
    assert new["Data"]["Coins"] == 120
    assert isinstance(run(text, new), Unchanged)


def test_rename_under_a_wildcard_renames_in_every_element() -> None:
    new = migrated(steps_yaml("rename: {path: /Data/Pets/*/Lvl, to: Level}"), PROFILE_V1)
    assert new["Data"]["Pets"] == [{"Name": "Rex", "Level": 3}, {"Name": "Mia", "Level": 1}]


def test_rename_refuses_to_overwrite_an_existing_member() -> None:
    value = copy.deepcopy(PROFILE_V1)
    value["Data"]["Coins"] = 5
    outcome = run(steps_yaml("rename: {path: /Data/Gold, to: Coins}"), value)
    assert isinstance(outcome, Failed)
    assert outcome.step == 1
    assert "/Data/Gold and /Data/Coins exist" in outcome.message


def test_move_creates_parents_and_leaves_moved_values_alone() -> None:
    text = steps_yaml("move: {from: /Data/Items, to: /Data/Inventory/Items}")
    new = migrated(text, PROFILE_V1)
    assert "Items" not in new["Data"]
    assert new["Data"]["Inventory"] == {"Items": ["Sword", "Shield"]}
    assert isinstance(run(text, new), Unchanged)


def test_move_into_an_empty_luau_table_saved_as_an_array() -> None:
    value = copy.deepcopy(PROFILE_V1)
    value["Data"]["Inventory"] = []  # an empty table written by Luau as []
    new = migrated(steps_yaml("move: {from: /Data/Items, to: /Data/Inventory/Items}"), value)
    assert new["Data"]["Inventory"] == {"Items": ["Sword", "Shield"]}


def test_move_refuses_to_overwrite() -> None:
    value = copy.deepcopy(PROFILE_V1)
    value["Data"]["Inventory"] = {"Items": []}
    outcome = run(steps_yaml("move: {from: /Data/Items, to: /Data/Inventory/Items}"), value)
    assert isinstance(outcome, Failed)
    assert "would overwrite" in outcome.message


def test_default_sets_only_absent_members() -> None:
    text = steps_yaml("default: {path: /Data/Inventory/Capacity, value: 20}")
    new = migrated(text, PROFILE_V1)
    assert new["Data"]["Inventory"] == {"Capacity": 20}
    kept = copy.deepcopy(PROFILE_V1)
    kept["Data"]["Inventory"] = {"Capacity": 50}
    assert isinstance(run(text, kept), Unchanged)


def test_default_under_a_wildcard_fills_every_element() -> None:
    new = migrated(steps_yaml("default: {path: /Data/Pets/*/Shiny, value: false}"), PROFILE_V1)
    assert [pet["Shiny"] for pet in new["Data"]["Pets"]] == [False, False]


def test_convert_datastore2_blob_types() -> None:
    text = steps_yaml(
        "convert: {path: /coins, to: integer}",
        "convert: {path: /inventory, to: array}",
        "default: {path: /version, value: 2}",
    )
    assert migrated(text, DS2_OLD) == DS2_NEW
    assert isinstance(run(text, DS2_NEW), Unchanged)


def test_convert_fails_on_a_value_with_no_faithful_form() -> None:
    outcome = run(steps_yaml("convert: {path: /coins, to: integer}"), {"coins": "12.5"})
    assert isinstance(outcome, Failed)
    assert outcome.message.startswith("/coins: ")


@pytest.mark.parametrize(
    ("value", "to", "expected"),
    [
        ("12", JsonType.INTEGER, 12),
        (" 12 ", JsonType.NUMBER, 12),
        ("1.5", JsonType.NUMBER, 1.5),
        (3.0, JsonType.INTEGER, 3),
        (True, JsonType.INTEGER, 1),
        (2.0, JsonType.STRING, "2"),
        (2.5, JsonType.STRING, "2.5"),
        (False, JsonType.STRING, "false"),
        ("TRUE", JsonType.BOOLEAN, True),
        (0, JsonType.BOOLEAN, False),
        ([], JsonType.OBJECT, {}),
        (["a", "b"], JsonType.OBJECT, {"1": "a", "2": "b"}),
        ({"2": "b", "1": "a"}, JsonType.ARRAY, ["a", "b"]),
        ({}, JsonType.ARRAY, []),
    ],
)
def test_conversions(value: Any, to: JsonType, expected: Any) -> None:
    result = convert_value(value, to)
    assert result == expected
    assert type(result) is type(expected)
    assert convert_value(result, to) == result  # converting again changes nothing


@pytest.mark.parametrize(
    ("value", "to"),
    [
        ("abc", JsonType.NUMBER),
        (1.5, JsonType.INTEGER),
        ("yes", JsonType.BOOLEAN),
        (2, JsonType.BOOLEAN),
        ({"a": 1}, JsonType.ARRAY),
        ({"1": 1, "3": 3}, JsonType.ARRAY),
        ({"a": 1}, JsonType.STRING),
        ("x", JsonType.OBJECT),
    ],
)
def test_conversions_that_fail(value: Any, to: JsonType) -> None:
    with pytest.raises(ConversionError):
        convert_value(value, to)


def test_convert_leaves_null_and_absent_values() -> None:
    text = steps_yaml("convert: {path: /MetaData/ForceLoadSession, to: object}")
    assert isinstance(run(text, PROFILE_V1), Unchanged)  # null (Luau nil) is left alone


def test_patch_operations() -> None:
    text = steps_yaml(
        "patch: [{op: test, path: /Data/Gold, value: 120},"
        " {op: copy, from: /Data/Gold, path: /Data/Coins},"
        " {op: remove, path: /Data/Gold},"
        " {op: replace, path: /MetaData/MetaTags, value: {Migrated: true}}]"
    )
    new = migrated(text, PROFILE_V1)
    assert new["Data"]["Coins"] == 120 and "Gold" not in new["Data"]
    assert new["MetaData"]["MetaTags"] == {"Migrated": True}


def test_a_failed_patch_test_means_the_value_does_not_match() -> None:
    text = steps_yaml("patch: [{op: test, path: /Data/Gold, value: 999}]")
    outcome = run(text, PROFILE_V1)
    assert isinstance(outcome, NotMatched)
    assert "test failed" in outcome.reason
    # a JSON Patch test compares types: true is not 1
    assert isinstance(
        run(steps_yaml("patch: [{op: test, path: /a, value: 1}]"), {"a": True}), NotMatched
    )


def test_a_patch_removing_what_is_not_there_fails_and_names_the_step() -> None:
    text = steps_yaml("default: {path: /x, value: 1}", "patch: [{op: remove, path: /Data/Nope}]")
    outcome = run(text, PROFILE_V1)
    assert isinstance(outcome, Failed)
    assert outcome.step == 2
    assert "JSON Patch" in outcome.message


def test_match_schema_selects_old_values_only() -> None:
    outcome = run(PROFILE_MIGRATION, DS2_OLD)
    assert isinstance(outcome, NotMatched)
    assert outcome.reason == "`/` is missing required field `Data`"


def test_a_migration_that_would_change_its_own_result_again_is_flagged() -> None:
    # without a match schema, `move` then `add` at the old place moves again next time
    text = steps_yaml(
        "move: {from: /Data/Gold, to: /Data/Old/Gold}",
        "patch: [{op: add, path: /Data/Gold, value: 0}]",
    )
    outcome = run(text, PROFILE_V1)
    assert isinstance(outcome, Migrated)
    assert outcome.rerun_problem is not None and "fail at step 1" in outcome.rerun_problem


def test_a_non_idempotent_patch_is_flagged() -> None:
    outcome = run(steps_yaml("patch: [{op: add, path: /Data/Items/-, value: Potion}]"), PROFILE_V1)
    assert isinstance(outcome, Migrated)
    assert outcome.rerun_problem == (
        "running the migration again would change the migrated value once more"
    )


def test_a_patch_guarded_by_a_test_is_idempotent() -> None:
    text = steps_yaml(
        "patch: [{op: test, path: /Data/Level, value: '7'},"
        " {op: replace, path: /Data/Level, value: 7}]"
    )
    outcome = run(text, PROFILE_V1)
    assert isinstance(outcome, Migrated) and outcome.rerun_problem is None


def test_whole_value_conversion() -> None:
    assert migrated(steps_yaml("convert: {path: '', to: integer}"), "41") == 41


V1_SCHEMA = {"type": "object", "required": ["Data"], "properties": {"Data": {"required": ["Gold"]}}}


@pytest.mark.parametrize(
    "match",
    [
        "match: schemas/PlayerV1.json",
        "match: {$ref: ../schemas/PlayerV1.json}",
    ],
)
def test_match_schema_from_schemas_folder(match: str) -> None:
    text = f"version: 1\nselect: {{store: PlayerStore, {match}}}\ntransform:\n"
    text += "  - rename: {path: /Data/Gold, to: Coins}\n"
    migration = migration_of(text)
    schemas = ValueSchemas.from_documents({"schemas/PlayerV1.json": V1_SCHEMA})
    matches = matcher_for(migration, schemas)
    assert matches is not None
    assert isinstance(migrate_value(migration, PROFILE_V1, matches), Migrated)
    outcome = migrate_value(migration, PROFILE_V2, matches)
    assert outcome == NotMatched("`/Data` is missing required field `Gold`")


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["7", "x", " 3 ", "true"])
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["Gold", "Coins", "Items", "Level", "Data"]), inner, max_size=4
        ),
    ),
    max_leaves=12,
)
DECLARATIVE = steps_yaml(
    "rename: {path: /Data/Gold, to: Coins}",
    "move: {from: /Data/Items, to: /Data/Inventory/Items}",
    "default: {path: /Data/Inventory/Capacity, value: 20}",
    "convert: {path: /Data/Level, to: string}",
    "rename: {path: /Data/*/Gold, to: Coins}",
)


@settings(max_examples=300, deadline=None)
@given(data=_values)
def test_declarative_steps_are_idempotent(data: Any) -> None:
    migration = migration_of(DECLARATIVE)
    outcome = migrate_value(migration, {"Data": data}, None)
    if isinstance(outcome, Migrated):
        assert outcome.rerun_problem is None
        assert isinstance(migrate_value(migration, outcome.value, None), Unchanged)


def test_rename_inside_an_empty_luau_table_saved_as_an_array_is_a_noop() -> None:
    text = steps_yaml("rename: {path: /Data/Settings/Theme, to: Skin}")
    assert isinstance(run(text, PROFILE_V1), Unchanged)  # Settings is []
    value = copy.deepcopy(PROFILE_V1)
    value["Data"]["Settings"] = ["dark"]
    outcome = run(text, value)
    assert isinstance(outcome, Failed) and "is an array" in outcome.message
