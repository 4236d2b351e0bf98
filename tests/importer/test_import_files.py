"""Properties of the entry and ordered-scope file texts import writes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dsgit.crypto import Key, Keyring, decrypt_all, find_encrypted, generate_key
from dsgit.importer.files import ordered_scope_text, standard_entry_text
from dsgit.model.entry import Address
from dsgit.repo.yamlload import parse_yaml
from dsgit.yamlio.equality import json_equal

ADDRESS = Address.standard("S", "k")
RING = Keyring((Key(generate_key()),))

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
    | st.sampled_from(["yes", "0123", "1e3", "null", "2024-01-01", "~", ""]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
attributes = st.dictionaries(st.text(min_size=1, max_size=5), st.text(max_size=5), max_size=2)
users = st.lists(st.integers(min_value=1, max_value=2**53), max_size=3)


def _read(text: str) -> Any:
    document, problems = parse_yaml(text, "f.yaml")
    assert problems == [] and document is not None and isinstance(document.value, dict)
    return document.value


def _entry(
    text: str | None, value: object, attrs: dict, ids: list[int], **kw: object
) -> str | None:  # type: ignore[type-arg]
    return standard_entry_text(text, ADDRESS, value, attrs, ids, filename="f.yaml", **kw)


@settings(max_examples=60, deadline=None)
@given(json_values, attributes, users, json_values, attributes, users)
def test_reimport_reaches_the_new_live_entry_then_stays(
    value_a: object,
    attrs_a: dict,
    users_a: list[int],
    value_b: object,
    attrs_b: dict,
    users_b: list[int],  # type: ignore[type-arg]
) -> None:
    first = _entry(None, value_a, attrs_a, users_a)
    assert first is not None
    second = _entry(first, value_b, attrs_b, users_b)
    text = first if second is None else second
    assert (second is None) == (
        json_equal(value_a, value_b) and attrs_a == attrs_b and users_a == users_b
    )
    read = _read(text)
    assert json_equal(read["value"], value_b)
    assert read.get("attributes", {}) == attrs_b
    assert read.get("users", []) == users_b
    assert _entry(text, value_b, attrs_b, users_b) is None


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(st.text(max_size=4), json_values, max_size=4),
    st.dictionaries(st.text(max_size=4), json_values, max_size=4),
)
def test_encrypted_reimport(value_a: Any, value_b: Any) -> None:
    patterns = ["/*"]
    first = _entry(None, value_a, {}, [], encrypted=patterns, keyring=RING)
    assert first is not None
    sealed_a = _read(first)["value"]
    assert len(find_encrypted(sealed_a)) == len(value_a)
    second = _entry(first, value_b, {}, [], encrypted=patterns, keyring=RING)
    text = first if second is None else second
    assert (second is None) == json_equal(value_a, value_b)
    sealed_b = _read(text)["value"]
    assert json_equal(decrypt_all(sealed_b, RING, ADDRESS), value_b)
    for member, token in sealed_b.items():
        if member in value_a and json_equal(value_a[member], value_b[member]):
            assert token == sealed_a[member]


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.text(min_size=1, max_size=4), st.integers(-(2**63), 2**63 - 1), max_size=5),
    st.dictionaries(st.text(min_size=1, max_size=4), st.integers(-(2**63), 2**63 - 1), max_size=5),
)
def test_ordered_reimport_adopts_and_keeps(first: dict[str, int], second: dict[str, int]) -> None:
    text = ordered_scope_text(None, list(first.items()), filename="o.yaml")
    assert text is not None
    updated = ordered_scope_text(text, list(second.items()), filename="o.yaml")
    final = text if updated is None else updated
    document, problems = parse_yaml(final, "o.yaml")
    assert problems == [] and document is not None
    assert document.value == {**first, **second}
    assert ordered_scope_text(final, list(second.items()), filename="o.yaml") is None
