"""JSON Schema constructs to Luau types: one test per construct, on realistic fixtures."""

from __future__ import annotations

from dsgit.codegen import generate_luau
from dsgit.model.declaration import KeyOverride, StorePolicy
from dsgit.model.entry import JSONValue

from .fixtures import (
    CATALOG_ITEM,
    DATASTORE2_BLOB,
    EDGES,
    PROFILE,
    declaration,
    one_store,
)


def module(schema: JSONValue, name: str = "Store") -> str:
    out = generate_luau(one_store(schema, name))
    ident = [path for path in out.files if not path.endswith("/init.luau")]
    assert len(ident) == 1
    return out.files[ident[0]]


def value_type(schema: JSONValue) -> str:
    """The text of ``export type Value = ...`` up to the next blank line."""
    text = module(schema)
    start = text.index("export type Value =")
    return text[start : text.index("\n\n", start)]


def test_required_fields_are_plain_and_optional_ones_have_a_question_mark() -> None:
    text = value_type(CATALOG_ITEM)
    assert "\tid: string,\n" in text
    assert "\tprice: number,\n" in text  # integer -> number
    assert "\treleased: string?,\n" in text


def test_enums_and_consts_are_string_literal_unions() -> None:
    text = value_type(CATALOG_ITEM)
    assert '\tcurrency: "coins" | "gems" | "robux",\n' in text
    assert '\tkind: "item",\n' in text


def test_nullable_type_lists_become_optional() -> None:
    assert "\tsale: number?,\n" in value_type(CATALOG_ITEM)
    assert "\tinventory: { string }?,\n" in value_type(DATASTORE2_BLOB)


def test_maps_from_additional_and_pattern_properties() -> None:
    text = value_type(CATALOG_ITEM)
    assert "\tstats: { [string]: number }?,\n" in text  # patternProperties
    assert "\tbundle: { [string]: BundleEntry }?,\n" in text  # additionalProperties $ref
    assert "\tPets: { [string]: number }?,\n" in value_type(PROFILE)


def test_an_object_without_properties_is_a_map_of_any() -> None:
    assert "\tRobloxMetaData: { [string]: any }?,\n" in value_type(PROFILE)


def test_arrays_nested_objects_and_refs() -> None:
    text = module(PROFILE)
    assert "\tUserIds: { number }?,\n" in text
    assert "\tData: {\n\t\tCoins: number,\n" in text  # nested object, one tab deeper
    assert "\t\tActiveSession: Session?,\n" in text  # local $ref -> named type
    assert "export type Session = {\n\tPlaceId: number,\n\tJobId: string,\n" in text


def test_one_of_and_any_of_are_unions_and_an_always_empty_table_is_empty() -> None:
    text = module(PROFILE)
    assert "\t\tInventory: ({ string } | EmptyTable)?,\n" in text
    # [] (maxItems 0) or {} (maxProperties 0): both the empty table type
    assert "--- An empty Luau table: [] or {}\nexport type EmptyTable = {}\n" in text


def test_prefix_items_are_an_array_of_their_item_types_with_a_note() -> None:
    text = value_type(PROFILE)
    assert "\t-- prefixItems (a tuple): an array of any of its item types\n" in text
    assert "\tGlobalUpdates: { number | { any } }?,\n" in text


def test_descriptions_formats_and_deprecation_are_comments() -> None:
    text = value_type(CATALOG_ITEM)
    assert "\t-- Item id, e.g. sword_01\n\tid: string,\n" in text
    assert "\t-- Sale price\n\t-- or null\n\tsale: number?,\n" in text
    assert "\t-- format: date-time\n\t-- Deprecated.\n\treleased: string?,\n" in text


def test_field_names_that_are_not_identifiers_are_quoted_keys() -> None:
    text = value_type(EDGES)
    assert '\t["end"]: number,\n' in text
    assert '\t["function"]: string?,\n' in text
    assert "\ttype: string?,\n" in text  # a contextual keyword is a fine field name
    assert '\t["with-dash"]: boolean?,\n' in text
    assert '\t["héllo wörld"]: string?,\n' in text


def test_literals_are_escaped_and_mixed_enums_keep_what_luau_can_say() -> None:
    text = value_type(EDGES)
    # null -> optional, 3 -> number, true -> the true singleton; quoting as StyLua does
    assert '\tkind: (\'say "hi"\' | "back\\\\slash" | "línea\\nnueva" | number | true)?,\n' in (
        text
    )
    assert "\ton: true?,\n" in text


def test_long_unions_break_before_each_bar() -> None:
    text = value_type(EDGES)
    assert '\tlong: (\n\t\t"a_rather_long_enum_member_number_0"\n\t\t| "a_rather' in text


def test_all_of_is_an_intersection_and_defs_names_never_collide() -> None:
    text = module(EDGES)
    assert "\tboth: (UserId & UserId_2)?,\n" in text  # user-id and user_id
    assert "export type UserId = number\n" in text and "export type UserId_2 = number\n" in text
    assert "export type Value_2 = string\n" in text  # a $defs entry named Value
    assert "export type String = string\n" in text  # one named string


def test_recursive_refs_are_recursive_named_types() -> None:
    assert "export type Node = {\n\tchildren: { Node },\n}\n" in module(EDGES)


def test_boolean_schemas_and_unknown_keywords() -> None:
    text = value_type(EDGES)
    assert "\tanything: any,\n" in text
    assert "\tnothing: nil,\n" in text  # false: the key is never there
    assert "\t-- not: not checked by the Luau type\n\tnegated: any,\n" in text
    assert "\t-- $dynamicRef: not checked by the Luau type\n\tdynamic: any,\n" in text
    assert "\t-- only a description\n\tdescribed: any,\n" in text
    assert "\teither: (string | number)?,\n" in text


def test_an_unresolvable_ref_is_any_with_a_note() -> None:
    text = value_type({"type": "object", "properties": {"x": {"$ref": "other.json#/nope"}}})
    assert "\t-- any: $ref other.json#/nope does not resolve under schemas/\n\tx: any,\n" in text


def test_cross_file_refs_are_named_and_the_header_names_every_schema_file() -> None:
    common = {"$defs": {"coins": {"type": "integer", "minimum": 0}}}
    item = {
        "type": "object",
        "required": ["price"],
        "properties": {"price": {"$ref": "common.schema.json#/$defs/coins"}},
    }
    schemas = {"schemas/common.schema.json": common, "schemas/item.json": item}
    text = generate_luau(declaration(schemas, {"Shop": "schemas/item.json"})).files[
        "DsgitTypes/Shop.luau"
    ]
    assert text.startswith(
        '--!strict\n-- Generated by dsgit from schemas/item.json (data store "Shop"): '
        "do not edit.\n-- Also reads schemas/common.schema.json.\n"
    )
    assert "\tprice: Coins,\n" in text and "export type Coins = number\n" in text


def test_a_schema_reference_with_a_fragment_is_the_root() -> None:
    schemas = {"schemas/all.json": {"$defs": {"ban": {"enum": ["a", "b"]}}}}
    out = generate_luau(declaration(schemas, {"Bans": "schemas/all.json#/$defs/ban"}))
    text = out.files["DsgitTypes/Bans.luau"]
    assert "from schemas/all.json#/$defs/ban (" in text
    assert '\nexport type Value = "a" | "b"\n' in text  # the $defs entry is the root itself


def test_key_overrides_with_a_schema_get_their_own_type() -> None:
    flag = {"type": "object", "properties": {"enabled": {"type": "boolean"}}}
    epoch = {"type": "integer"}
    policy = StorePolicy(
        schema="schemas/flag.json",
        overrides=(
            KeyOverride("kill_switch_epoch", {"schema": None}),
            KeyOverride("re:^limit_[0-9]+$", {"schema": "schemas/epoch.json"}),
        ),
    )
    schemas = {"schemas/flag.json": flag, "schemas/epoch.json": epoch}
    stores = {"FeatureFlags": "schemas/flag.json"}
    out = generate_luau(declaration(schemas, stores, policies={"FeatureFlags": policy}))
    text = out.files["DsgitTypes/FeatureFlags.luau"]
    assert '--- Values of keys matching "kill_switch_epoch": no schema.\n' in text
    assert "export type KillSwitchEpochValue = any\n" in text
    assert "export type Limit09Value = Epoch\n" in text


def test_encrypted_pointers_are_the_ciphertext_string() -> None:
    schema = {
        "type": "object",
        "properties": {"api_key": {"type": "object"}, "nested": {"properties": {"t": {}}}},
    }
    policy = StorePolicy(schema="schemas/s.json", encrypted=("/api_key", "/nested/t"))
    out = generate_luau(
        declaration({"schemas/s.json": schema}, {"I": "schemas/s.json"}, policies={"I": policy})
    )
    text = out.files["DsgitTypes/I.luau"]
    note = "-- stored encrypted (ENC[...]): game servers read the ciphertext\n"
    assert f"\t{note}\tapi_key: string?,\n" in text
    assert f"\t\t{note}\t\tt: string?,\n" in text


def test_stores_without_schema_and_ordered_stores_are_name_constants_only() -> None:
    out = generate_luau(
        declaration({}, {"Plain": None, "DATA/12345": None}, ordered=("DATA/12345", "Wins"))
    )
    assert list(out.files) == ["DsgitTypes/init.luau"]
    index = out.files["DsgitTypes/init.luau"]
    assert '\t\tDATA_12345 = "DATA/12345",\n\t\tPlain = "Plain",\n\t},' in index
    assert '\tOrderedDataStores = {\n\t\tDATA_12345 = "DATA/12345",\n\t\tWins = "Wins",\n' in index
    assert out.without_schema == ("DATA/12345", "Plain") and out.ordered == ("DATA/12345", "Wins")


def test_a_percent_encoded_root_fragment_and_a_ref_to_it_are_one_type() -> None:
    document = {
        "$defs": {
            "a b": {"type": "object", "properties": {"self": {"$ref": "#/$defs/a%20b"}}},
        }
    }
    out = generate_luau(
        declaration({"schemas/s.json": document}, {"S": "schemas/s.json#/$defs/a%20b"})
    )
    text = out.files["DsgitTypes/S.luau"]
    assert "\tself: Value?,\n" in text and "export type AB" not in text


def test_line_breaks_in_schema_text_never_end_a_comment() -> None:
    text = module(EDGES)
    code = [line.strip() for line in text.splitlines() if not line.strip().startswith("--")]
    assert "return nil" not in code and "return 1" not in code
    assert "\t-- ends the comment?\n\t-- return nil\n\t-- --[[ or opens a block\n" in text


def test_lone_surrogates_from_json_still_give_utf8_text() -> None:
    schema = {"description": "bad \ud800 text", "enum": ["x\udc00"]}
    text = module(schema)
    text.encode("utf-8")  # would raise on a lone surrogate
    assert '"x\\u{DC00}"' in text and "bad ? text" in text
