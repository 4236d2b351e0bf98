"""Filters, page tokens and times parse what clients send."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsgit.emulator.api_error import ApiError
from dsgit.emulator.clock import format_millis, format_offset, format_time, parse_time
from dsgit.emulator.query import (
    decode_token,
    encode_token,
    flag,
    id_prefix,
    order_descending,
    page_size,
    revision_window,
    value_range,
)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20), st.booleans())
def test_id_prefix_round_trips_json_quoted_text(prefix: str, ascii_only: bool) -> None:
    quoted = json.dumps(prefix, ensure_ascii=ascii_only)
    assert id_prefix(f"id.startsWith({quoted})") == prefix


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**62 // 100))
def test_times_round_trip(ticks: int) -> None:
    assert parse_time(format_time(ticks)) == ticks
    assert parse_time(format_offset(ticks)) == ticks
    assert parse_time(format_millis(ticks)) == ticks - ticks % 10_000


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=5), st.integers(-(2**63), 2**63 - 1)), max_size=3))
def test_page_tokens_round_trip_and_bind_their_parameters(cursor: list[object]) -> None:
    shape = tuple(type(item) for item in cursor)
    token = encode_token(list(cursor), ("a", 1))
    assert decode_token(token, ("a", 1), shape) == cursor
    with pytest.raises(ApiError):
        decode_token(token, ("a", 2), shape)
    with pytest.raises(ApiError):  # a cursor of another shape is not this listing's
        decode_token(token, ("a", 1), (*shape, int))


def test_filters_and_flags() -> None:
    assert id_prefix("  id.startsWith('x')  ") == "x"
    assert id_prefix("") is None and id_prefix(None) is None
    for bad in ("id == 'x'", "name.startsWith('x')", "id.startsWith(x)"):
        with pytest.raises(ApiError):
            id_prefix(bad)
    assert revision_window(
        "revision_create_time >= 2024-01-01T00:00:00Z && revision_create_time <= "
        "2024-01-02T00:00:00.5+01:00"
    ) == (parse_time("2024-01-01T00:00:00Z"), parse_time("2024-01-01T23:00:00.5Z"))
    assert value_range("entry >= 10 && entry <= 30") == (10, 30)
    assert value_range("value <= -3") == (None, -3)
    assert order_descending("value desc") and not order_descending("value")
    assert not order_descending("") and order_descending("desc")
    assert flag({"x": "TRUE"}, "x") and not flag({"x": "False"}, "x") and not flag({}, "x")
    with pytest.raises(ApiError):
        flag({"x": "maybe"}, "x")
    assert page_size(None, 10, 100) == 10 and page_size("0", 10, 100) == 10
    assert page_size("500", 10, 100) == 100
    for bad in ("-1", "ten"):
        with pytest.raises(ApiError):
            page_size(bad, 10, 100)
