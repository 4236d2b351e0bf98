"""Small pieces of planning: equality, diff, masking, targets, the diagnostic catalogue."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dsgit.model.entry import Address, EntryData
from dsgit.plan.codes import CATALOG, DiagnosticCode, code_named
from dsgit.plan.jsondiff import diff_data, diff_values
from dsgit.plan.masking import PointerPatterns
from dsgit.plan.model import MASK
from dsgit.plan.targets import AddressFilter
from dsgit.plan.values import same_value, values_equal

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-3, 3) | st.text(max_size=3),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=8,
)


def test_equality_is_luau_aware() -> None:
    assert values_equal({"n": 1}, {"n": 1.0})
    assert values_equal({"inv": []}, {"inv": {}})
    assert not values_equal({"b": True}, {"b": 1})
    assert not values_equal([1, 2], [2, 1])
    assert not values_equal({"a": 0}, {"a": False})


@settings(max_examples=200, deadline=None)
@given(JSON, JSON)
def test_fast_path_agrees_and_diff_is_empty_iff_equal(left: object, right: object) -> None:
    assert values_equal(left, right) == same_value(left, right)  # type: ignore[arg-type]
    lines, _ = diff_values(left, right)  # type: ignore[arg-type]
    assert (lines == []) == values_equal(left, right)  # type: ignore[arg-type]


def test_diff_pointers_escape_and_order() -> None:
    old = {"a/b": 1, "t~": [1, 2, 3], "gone": 1}
    new = {"a/b": 2, "t~": [1], "new": {"x": 1}}
    lines, types = diff_values(old, new)
    assert [(line.pointer, line.op) for line in lines] == [
        ("/a~1b", "replace"),
        ("/gone", "remove"),
        ("/new", "add"),
        ("/t~0/2", "remove"),
        ("/t~0/1", "remove"),
    ]
    assert types == []


def test_masking_covers_descendants_and_containers() -> None:
    patterns = PointerPatterns(["/accounts/*/token"])
    assert patterns.mask({"accounts": [{"token": "s", "id": 1}]}) == {
        "accounts": [{"token": MASK, "id": 1}]
    }
    old = {"accounts": [{"token": "old-secret"}]}
    new = {"accounts": []}
    lines, _ = diff_values(old, new, patterns)
    assert lines[0].old == {"token": MASK}
    lines, _ = diff_data(EntryData(old), None, patterns)
    assert "old-secret" not in repr(lines)


def test_placeholders_keep_ciphertext() -> None:
    sensitive = PointerPatterns(["/a", "/b"])
    value = sensitive.placehold({"a": "x", "b": "ENC[...]", "c": 1}, PointerPatterns(["/b"]))
    assert isinstance(value, dict)
    assert set(value["a"]) == {"$sensitive"}  # type: ignore[arg-type]
    assert value["b"] == "ENC[...]" and value["c"] == 1


def test_targets() -> None:
    address = Address.standard("DATA/1", "k")
    assert str(address) == "DATA%2F1/global/k"
    assert AddressFilter().selects(address)
    assert AddressFilter(targets=("DATA%2F1/*",)).selects(address)
    assert not AddressFilter(targets=("DATA%2F1/*",), excludes=("*/k",)).selects(address)
    assert not AddressFilter(targets=("Other/*",)).may_select_store(address.kind, "DATA/1")
    assert AddressFilter(targets=("*k",)).may_select_store(address.kind, "DATA/1")


def test_every_code_is_documented() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "planning.md"
    table = dict(re.findall(r"^\| (DSP\d{3}) \| (\w+) \|", docs.read_text(), re.MULTILINE))
    assert {code: entry.severity.value for code, entry in CATALOG.items()} == table


def test_every_code_member_has_one_catalogue_entry_and_names_parse() -> None:
    assert set(CATALOG) == set(DiagnosticCode)
    assert all(entry.code is code for code, entry in CATALOG.items())
    assert code_named("DSP002") is DiagnosticCode.PRUNE_DELETE
    assert code_named("DSP999") is None
