"""Per-environment values: RFC 7396 merge patches and the declaration each environment sees."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsgit.model.entry import Address, EntryData, JSONValue, StoreKind
from dsgit.model.overrides import (
    EnvironmentOverride,
    diff_patch,
    effective_data,
    effective_key_value,
    for_environment,
    merge_patch,
)
from dsgit.yamlio.equality import json_equal
from support import declaration_of

# RFC 7396, Appendix A: (original, patch, result)
RFC_EXAMPLES: list[tuple[JSONValue, JSONValue, JSONValue]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "result"), RFC_EXAMPLES)
def test_merge_patch_follows_rfc_7396(
    original: JSONValue, patch: JSONValue, result: JSONValue
) -> None:
    before = repr(original)
    assert json_equal(merge_patch(original, patch), result)
    assert repr(original) == before  # never modified


no_null = st.recursive(
    st.booleans() | st.integers(-3, 3) | st.text("ab", max_size=2),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text("xyz", max_size=2), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(base=no_null, target=no_null)
def test_diff_patch_turns_the_base_into_the_target(base: JSONValue, target: JSONValue) -> None:
    patch = diff_patch(base, target)
    assert json_equal(merge_patch(base, patch), target)
    if json_equal(base, target) and isinstance(base, dict):
        assert patch == {}


def test_diff_patch_keeps_only_what_differs() -> None:
    base = {"price": 250, "currency": "coins", "tags": ["a"], "meta": {"x": 1, "y": 2}}
    target = {"price": 1, "currency": "coins", "tags": ["a", "b"], "meta": {"x": 1}}
    assert diff_patch(base, target) == {"price": 1, "tags": ["a", "b"], "meta": {"y": None}}


def test_a_null_member_cannot_be_a_merge_patch() -> None:
    with pytest.raises(ValueError, match="null"):
        diff_patch({"a": 1}, {"a": None})


def test_effective_data_patches_the_value_and_replaces_metadata() -> None:
    data = EntryData({"a": 1, "b": 2}, {"tier": "common"}, (1,))
    assert effective_data(data, None) == data
    only_users = EnvironmentOverride(users=(7, 8))
    assert effective_data(data, only_users) == EntryData(
        {"a": 1, "b": 2}, {"tier": "common"}, (7, 8)
    )
    both = EnvironmentOverride(patch={"b": None}, has_patch=True, attributes={})
    assert effective_data(data, both) == EntryData({"a": 1}, {}, (1,))


def test_for_environment_resolves_entries_and_leaves_out_stores() -> None:
    sword = Address.standard("Shop", "sword")
    beta = Address.standard("Beta", "flag")
    declaration = declaration_of({sword: EntryData({"price": 250}), beta: EntryData(True)})
    shop = declaration.stores[(StoreKind.STANDARD, "Shop")]
    overrides = {"staging": EnvironmentOverride(patch={"price": 1}, has_patch=True)}
    patched = replace(shop.entries[("global", "sword")], environments=overrides)
    stores = dict(declaration.stores)
    stores[(StoreKind.STANDARD, "Shop")] = replace(shop, entries={("global", "sword"): patched})
    beta_store = stores[(StoreKind.STANDARD, "Beta")]
    stores[(StoreKind.STANDARD, "Beta")] = replace(beta_store, environments=("staging",))
    declaration = replace(declaration, stores=stores)

    staging = for_environment(declaration, "staging")
    production = for_environment(declaration, "production")
    assert staging.data(sword) == EntryData({"price": 1})
    assert production.data(sword) == EntryData({"price": 250})
    assert staging.data(beta) == EntryData(True) and production.data(beta) is None
    assert (StoreKind.STANDARD, "Beta") not in production.stores
    assert staging.environment == "staging" and staging.source == declaration.source
    assert for_environment(staging, "staging") is staging
    with pytest.raises(ValueError, match="already resolved"):
        for_environment(staging, "production")


def test_a_config_key_patch_sits_right_under_the_environment() -> None:
    environments: dict[str, JSONValue] = {"staging": True, "qa": {"b": None}}
    assert effective_key_value(False, environments, "staging") is True
    assert effective_key_value(False, environments, "production") is False
    assert effective_key_value({"a": 1, "b": 2}, environments, "qa") == {"a": 1}
