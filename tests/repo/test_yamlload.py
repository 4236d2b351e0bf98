"""The safe YAML reader: YAML 1.2 scalars, positions, and refusing what is not JSON."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from dsgit.repo.yamlload import ALIAS_EXPANSION_LIMIT, locate, parse_yaml


def json_values(text: st.SearchStrategy[str]) -> st.SearchStrategy[object]:
    return st.recursive(
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**63), max_value=2**63 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)
        | text,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4)
        ),
        max_leaves=12,
    )


# YAML forbids raw non-printable characters even inside quotes, and YAML 1.1 (libyaml) breaks
# lines at U+2028/U+2029; JSON leaves both unescaped (dsgit's own writer escapes them)
PRINTABLE = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Zl", "Zp")), max_size=10)
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=10)


def codes(text: str) -> list[str]:
    return [problem.code for problem in parse_yaml(text, "f.yaml")[1]]


def test_scalars_follow_yaml_1_2_core_schema() -> None:
    text = (
        "a: yes\nb: 010\nc: 1:20\nd: 1e3\ne: ~\nf:\ng: 0x1F\nh: 2024-01-01\n"
        "i: -5\nj: True\nk: '1'\n"
    )
    document, problems = parse_yaml(text, "f.yaml")
    assert problems == []
    assert document is not None
    assert document.value == {
        "a": "yes",
        "b": 10,
        "c": "1:20",
        "d": 1000.0,
        "e": None,
        "f": None,
        "g": 31,
        "h": "2024-01-01",
        "i": -5,
        "j": True,
        "k": "1",
    }


def test_duplicate_key_names_both_lines() -> None:
    document, problems = parse_yaml("a: 1\nb:\n  c: 1\n  c: 2\n", "f.yaml")
    assert document is not None
    [problem] = problems
    assert (problem.code, problem.line, problem.column) == ("DS102", 4, 3)
    assert "first at line 3" in problem.message


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a: &a [" + ", ".join(["lol"] * 10) + "]"]
    for index in range(1, 10):
        prev, name = chr(96 + index), chr(97 + index)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    document, problems = parse_yaml("\n".join(lines), "f.yaml")
    assert document is None
    assert [p.code for p in problems] == ["DS103"]
    assert str(ALIAS_EXPANSION_LIMIT) in problems[0].message


def test_small_aliases_are_allowed() -> None:
    document, problems = parse_yaml("x: &a {k: [1, 2]}\ny: *a\n", "f.yaml")
    assert problems == []
    assert document is not None and document.aliased
    assert document.value == {"x": {"k": [1, 2]}, "y": {"k": [1, 2]}}


def test_values_that_are_not_json() -> None:
    assert codes("a: .nan\n") == ["DS104"]
    assert codes("a: .inf\n") == ["DS104"]
    assert codes("a: 1e999\n") == ["DS104"]
    assert codes("a: !!binary aGk=\n") == ["DS104"]
    assert codes("a: !custom x\n") == ["DS104"]
    assert codes("1: x\n") == ["DS104"]
    assert codes("? [a]\n: b\n") == ["DS104"]
    assert codes("<<: {a: 1}\n") == ["DS104"]
    assert codes("a: " + "[" * 250 + "]" * 250 + "\n") == ["DS104"]


def test_integers_too_large_for_json_are_refused_not_crashed_on() -> None:
    # 5000 decimal digits is over Python's int() conversion limit (4300): once an internal error
    assert codes("a: " + "9" * 5000 + "\n") == ["DS104"]
    assert codes("a: 0x" + "f" * 300 + "\n") == ["DS104"]
    assert codes("a: -" + "1" * 400 + "\n") == ["DS104"]
    document, problems = parse_yaml("a: 18446744073709551616\nb: 0o17\nc: -0x10\n", "f.yaml")
    assert problems == [] and document is not None
    assert document.value == {"a": 2**64, "b": 15, "c": "-0x10"}  # YAML 1.2 core: no sign on hex


def test_explicit_scalar_tags_must_spell_their_type() -> None:
    # `!!int abc` once raised ValueError; `!!bool yes` silently read as false
    assert codes("a: !!int abc\n") == ["DS104"]
    assert codes("a: !!int 1_000\n") == ["DS104"]
    assert codes("a: !!float x\n") == ["DS104"]
    assert codes("a: !!bool yes\n") == ["DS104"]
    assert codes("a: !!null x\n") == ["DS104"]
    document, problems = parse_yaml("a: !!int 0x1F\nb: !!str 5\nc: !!float 1\n", "f.yaml")
    assert problems == [] and document is not None
    assert document.value == {"a": 31, "b": "5", "c": 1.0}


def test_syntax_errors_have_positions() -> None:
    document, [problem] = parse_yaml("a: [1, 2\n", "f.yaml")
    assert document is None
    assert problem.code == "DS101" and problem.line == 2
    document, [problem] = parse_yaml("a: 1\nb: \x01\n", "f.yaml")
    assert (problem.code, problem.line, problem.column) == ("DS101", 2, 4)
    _, [problem] = parse_yaml("a: 1\n---\nb: 2\n", "f.yaml")
    assert problem.code == "DS101" and problem.line == 2


def test_empty_file_is_null() -> None:
    document, problems = parse_yaml("# nothing\n", "f.yaml")
    assert problems == [] and document is not None and document.value is None


@settings(max_examples=150, deadline=None)
@given(json_values(PRINTABLE))
def test_json_text_reads_back_equal(value: object) -> None:
    text = json.dumps({"value": value}, ensure_ascii=False)
    document, problems = parse_yaml(text, "f.json")
    assert problems == []
    assert document is not None
    assert document.value == {"value": value}


@settings(max_examples=150, deadline=None)
@given(json_values(ANY_TEXT))
def test_files_written_by_dsgit_read_back_equal(value: object) -> None:
    from dsgit.yamlio.document import dump_document, from_plain

    text = dump_document(from_plain({"value": value}))
    document, problems = parse_yaml(text, "f.yaml")
    assert problems == []
    assert document is not None
    assert json.dumps(document.value, sort_keys=True) == json.dumps(
        {"value": value}, sort_keys=True
    )


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), st.integers(), min_size=1))
def test_every_key_is_located_on_its_own_line(mapping: dict[str, int]) -> None:
    text = "".join(f"{key}: {number}\n" for key, number in mapping.items())
    document, _ = parse_yaml(text, "f.yaml")
    assert document is not None
    for index, key in enumerate(mapping):
        assert locate(document.node, [key]) == (index + 1, len(key) + 3)


def test_tab_indentation_is_explained() -> None:
    _, [problem] = parse_yaml("value:\n\t- 1\n", "f.yaml")
    assert (problem.code, problem.line) == ("DS101", 2)
    assert "tab" in problem.message


def test_bom_and_crlf_are_fine() -> None:
    document, problems = parse_yaml("value: 1\r\nusers: [2]\r\n", "f.yaml")
    assert problems == [] and document is not None
    assert document.value == {"value": 1, "users": [2]}
