"""The YAML dsgit writes reads back as exactly the JSON value, by every reader in use."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from dsgit.errors import ConfigError
from dsgit.repo.yamlload import parse_yaml
from dsgit.yamlio.document import dump_document, from_plain, load_document, to_plain
from dsgit.yamlio.equality import json_equal
from dsgit.yamlio.merge import sync_mapping

TRICKY_STRINGS = [
    "yes",
    "no",
    "on",
    "off",
    "Yes",
    "NO",
    "y",
    "n",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "",
    "0123",
    "0o17",
    "0x1F",
    "1e3",
    "1E3",
    "1.5",
    ".5",
    "-1",
    "+1",
    "1_000",
    "1:20",
    "0b101",
    "2024-01-01",
    "2024-01-01T10:00:00Z",
    ".inf",
    "-.inf",
    ".nan",
    "NaN",
    "<<",
    "=",
    "-",
    "?",
    " leading",
    "trailing ",
    "a: b",
    "a #b",
    "#c",
    "'q'",
    '"d"',
    "line\nbreak",
    "tab\there",
    "é✓🙂",
    "\u2028",
    "\x00nul",
    "- item",
    "[x]",
    "{y}",
    "*alias",
    "&anchor",
    "!tag",
    "%dir",
    "@at",
    "`tick`",
    "|",
    ">",
    "ENC[AES256_GCM,data:,iv:,tag:,type:str,kid:0]",
]


def _readers(text: str) -> list[object]:
    document, problems = parse_yaml(text, "t.yaml")
    assert problems == [] and document is not None
    return [yaml.safe_load(text), to_plain(load_document(text, "t.yaml")), document.value]


def test_tricky_strings_stay_strings() -> None:
    value = {"list": TRICKY_STRINGS, **{text: text for text in TRICKY_STRINGS}}
    text = dump_document(from_plain(value))
    for read in _readers(text):
        assert json_equal(read, value)


def test_loaded_floats_are_written_back_exactly() -> None:
    text = "a: 3.139719499917357e-158\nb: 1.50\nc: 1e3\n"
    document = load_document(text, "t.yaml")
    document["d"] = 1
    out = dump_document(document)
    assert "b: 1.50\n" in out
    assert json_equal(yaml.safe_load(out)["a"], 3.139719499917357e-158)
    assert to_plain(load_document(out, "t.yaml")) == {
        "a": 3.139719499917357e-158,
        "b": 1.5,
        "c": 1000.0,
        "d": 1,
    }


def test_numbers_keep_their_type() -> None:
    value = {
        "ints": [0, -1, 2**64, -(2**80), 10**30],
        "floats": [0.0, -0.0, 1.0, 1e300, 1e-5, 5e-324, 1.5e16, 0.1, 123456789.125, -2.5e-300],
        "bools": [True, False],
        "null": None,
        "empty": {"list": [], "object": {}},
    }
    text = dump_document(from_plain(value))
    assert "1.0e+300" in text and "'null': null" in text and "list: []" in text
    for read in _readers(text):
        assert json_equal(read, value)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
    | st.sampled_from(TRICKY_STRINGS),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(max_size=6) | st.sampled_from(TRICKY_STRINGS), children, max_size=4
        )
    ),
    max_leaves=15,
)


@settings(max_examples=80, deadline=None)
@given(json_values)
def test_any_json_value_round_trips(value: object) -> None:
    text = dump_document(from_plain({"value": value}))  # type: ignore[dict-item]
    for read in _readers(text):
        assert json_equal(read, {"value": value})


@settings(max_examples=60, deadline=None)
@given(json_values, json_values)
def test_sync_turns_one_value_into_another(old: object, new: object) -> None:
    document = load_document(dump_document(from_plain({"value": old})), "t.yaml")  # type: ignore[dict-item]
    changed = sync_mapping(document, {"value": new})  # type: ignore[dict-item]
    assert changed == (not json_equal(old, new))
    text = dump_document(document)
    for read in _readers(text):
        assert json_equal(read, {"value": new})


def test_sync_keeps_comments_order_and_quoting() -> None:
    text = (
        "# header comment\n"
        "value:\n"
        "  # about b\n"
        "  b: 'quoted'  # keep me\n"
        "  a: 1  # and me\n"
        "  list: [1, 2, 3]\n"
        "  gone: x\n"
        "other: kept\n"
    )
    document = load_document(text, "t.yaml")
    # "new" follows "b" in the new value, so it is inserted right after "b"
    sync_mapping(document["value"], {"a": 2, "b": "quoted", "new": True, "list": [1, 2, 3]})
    out = dump_document(document)
    assert out == (
        "# header comment\n"
        "value:\n"
        "  # about b\n"
        "  b: 'quoted'  # keep me\n"
        "  new: true\n"
        "  a: 2  # and me\n"
        "  list: [1, 2, 3]\n"
        "other: kept\n"
    )


def test_replacing_a_styled_string_stays_faithful() -> None:
    sources = ["v: |\n  hello\n  world\n", "v: >-\n  a b\n", "v: 'q'\n", 'v: "q"\n', "v: q\n"]
    news = [
        "trailing  ",
        "a\nb  \n",
        " lead\n",
        "x\x85y",
        "x\u2028y",
        "x\ry",
        "a\x00b",
        "",
        "\n\n",
        "#x",
        "a\n  b\nc",
        "long " * 30,
        " a\n b",
        "yes",
        "\ufeffbom",
        "é\n",
    ]
    for source in sources:
        for new in news:
            document = load_document(source, "t.yaml")
            sync_mapping(document, {"v": new})
            for read in _readers(dump_document(document)):
                assert read == {"v": new}, (source, new)


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]
    lines.append("value: *a11")
    with pytest.raises(ConfigError, match="alias"):
        load_document("\n".join(lines) + "\n", "bomb.yaml")
    # a scalar anchor is harmless
    assert to_plain(load_document("a: &x 1\nb: *x\n", "t.yaml")) == {"a": 1, "b": 1}
