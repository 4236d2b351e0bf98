"""Identifiers: valid Luau, deterministic, never colliding (also by letter case for files)."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from dsgit.codegen import generate_luau
from dsgit.codegen.identifiers import LUAU_KEYWORDS, NameAllocator, is_identifier, sanitize

from .fixtures import CATALOG_ITEM, EDGES, PROFILE, declaration


def test_sanitize_examples() -> None:
    assert sanitize("DATA/12345") == "DATA_12345"
    assert sanitize("12345") == "_12345"
    assert sanitize("end") == "end_"
    assert sanitize("héllo wörld") == "h_llo_w_rld"
    assert sanitize("") == "_"


def test_stores_named_like_builtin_types_get_other_module_names() -> None:
    out = generate_luau(declaration({"schemas/c.json": CATALOG_ITEM}, {"number": "schemas/c.json"}))
    assert "DsgitTypes/number_2.luau" in out.files  # `export type number` would redefine it


def test_file_names_differ_by_more_than_case_and_avoid_reserved_names() -> None:
    names = NameAllocator(fold_case=True, reserved=frozenset({"init", "Name"}))
    taken = [names.take(n) for n in ["Bans", "bans", "BANS", "init", "INIT", "name", "a/b", "a_b"]]
    assert taken == ["Bans", "bans_2", "BANS_3", "init_2", "INIT_3", "name_2", "a_b", "a_b_2"]


@given(st.lists(st.text(max_size=12), max_size=30))
def test_allocated_names_are_unique_valid_identifiers(wanted: list[str]) -> None:
    names = NameAllocator(fold_case=True, reserved=frozenset({"init"}))
    taken = [names.take(name) for name in wanted]
    assert all(is_identifier(name) and name not in LUAU_KEYWORDS for name in taken)
    assert len({name.casefold() for name in taken}) == len(taken)
    assert "init" not in {name.casefold() for name in taken}


@given(st.randoms(use_true_random=False))
def test_output_does_not_depend_on_the_order_stores_and_schemas_were_read(
    shuffle: random.Random,
) -> None:
    schemas = {"schemas/p.json": PROFILE, "schemas/c.json": CATALOG_ITEM, "schemas/e.json": EDGES}
    stores: dict[str, str | None] = {
        "PlayerStore": "schemas/p.json",
        "DATA/1": "schemas/c.json",
        "DATA_1": "schemas/e.json",
        "data_1": None,
        "end": "schemas/e.json",
    }
    expected = generate_luau(declaration(schemas, stores)).files
    schema_items, store_items = list(schemas.items()), list(stores.items())
    shuffle.shuffle(schema_items)
    shuffle.shuffle(store_items)
    again = generate_luau(declaration(dict(schema_items), dict(store_items))).files
    assert list(again.items()) == list(expected.items())
    assert all(text.endswith("\n") and "\r" not in text for text in again.values())
