from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsgit.model.encoding import decode_segment, encode_segment, is_canonical_segment
from dsgit.model.entry import Address, StoreKind


@given(st.text(min_size=0, max_size=50))
def test_round_trip(name: str) -> None:
    encoded = encode_segment(name)
    assert decode_segment(encoded) == name
    assert set(encoded) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-%")
    assert not encoded.startswith(".")


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("DATA/12345", "DATA%2F12345"),
        (".hidden", "%2Ehidden"),
        ("a.b", "a.b"),
        ("100%", "100%25"),
        ("é", "%C3%A9"),
        ("Player_1", "Player_1"),
        ("with space", "with%20space"),
    ],
)
def test_examples(name: str, encoded: str) -> None:
    assert encode_segment(name) == encoded


@pytest.mark.parametrize("segment", ["%2e", "%ZZ", "a%2", "%C3", "a%41", "a/b"])
def test_non_canonical_rejected(segment: str) -> None:
    assert not is_canonical_segment(segment)


@given(
    st.text(max_size=20),
    st.text(max_size=20),
    st.text(max_size=20),
    st.sampled_from([StoreKind.STANDARD, StoreKind.ORDERED]),
)
def test_address_round_trip(store: str, scope: str, key: str, kind: StoreKind) -> None:
    address = Address(kind, store, scope, key)
    assert Address.parse(str(address)) == address
