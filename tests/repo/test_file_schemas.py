"""The file-kind schemas, ``dsgit.yaml`` through ``dsgit.config``, and the code catalogue."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from dsgit.config import parse_project_config
from dsgit.errors import ConfigError
from dsgit.repo import CODES
from dsgit.repo.file_schemas import (
    SCHEMA_BASE_URI,
    FileKind,
    check_file,
    file_schema,
    plainly_valid_entry,
)
from dsgit.repo.yamlload import parse_yaml

DOCS = Path(__file__).resolve().parents[2] / "docs" / "validation-codes.md"


@pytest.mark.parametrize("kind", list(FileKind))
def test_schemas_are_valid_and_named(kind: FileKind) -> None:
    schema = file_schema(kind)
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == SCHEMA_BASE_URI + kind.value
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_docs_list_every_code_with_its_title() -> None:
    text = DOCS.read_text(encoding="utf-8")
    headings = dict(re.findall(r"^### (DS\d{3}) (.+)$", text, re.MULTILINE))
    table = dict(re.findall(r"^\| (DS\d{3}) \| ([^|]+?) \|", text, re.MULTILINE))
    assert headings == CODES
    assert table == CODES


def problems(kind: FileKind, text: str) -> list[tuple[str, int | None, str]]:
    document, found = parse_yaml(text, "f.yaml")
    assert document is not None and not found
    return [
        (p.code, p.line, p.message)
        for p in check_file(kind, document.value, document.node, "f.yaml")
    ]


def test_unknown_fields_point_at_the_key() -> None:
    assert problems(FileKind.STORE, "ownership: owned\nprunes: true\n") == [
        ("DS202", 2, "unknown field `prunes`")
    ]
    assert problems(FileKind.ENTRY, "value: 1\nusers: [1]\nuser: [2]\n") == [
        ("DS202", 3, "unknown field `user`")
    ]


def test_entry_fields_get_their_own_codes() -> None:
    found = problems(FileKind.ENTRY, "value: 1\nusers: [1, 2, 3, 4, -5]\nsuppress: [{code: x}]\n")
    assert [(code, line) for code, line, _ in found] == [
        ("DS404", 2),
        ("DS404", 2),
        ("DS208", 3),
        ("DS208", 3),
    ]


ENTRY_FIELDS = st.sampled_from(["value", "attributes", "users", "moved_from", "suppress", "other"])
ANY = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=60),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=60), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(ENTRY_FIELDS, ANY, max_size=4))
def test_fast_entry_check_never_accepts_an_invalid_file(raw: dict[str, Any]) -> None:
    valid = Draft202012Validator(file_schema(FileKind.ENTRY), registry=_registry()).is_valid(raw)
    if plainly_valid_entry(raw):
        assert valid


def _registry() -> Any:
    from referencing import Registry, Resource

    return Registry().with_resources(
        (SCHEMA_BASE_URI + kind.value, Resource.from_contents(file_schema(kind)))
        for kind in FileKind
    )


CONFIG_CASES = [
    (
        "version: 1\nenvironments:\n  a: {universe_id: 1}\n  a: {universe_id: 2}\n",
        "dsgit.yaml:4:3: DS102",
    ),
    ("version: 1\nenvironments:\n  a: {universe_id: 0}\n", "dsgit.yaml:3:20: DS201"),
    ("version: 1\nenvironments:\n  a: {universe_id: 1, api_key: x}\n", "dsgit.yaml:3:23: DS202"),
    (
        "version: 1\ndefault_environment: b\nenvironments:\n  a: {universe_id: 1}\n",
        "dsgit.yaml:2:22: DS203",
    ),
    (
        "version: 1\nenvironments:\n  a: {universe_id: 1, emulator: x, url: 'https://a'}\n",
        "dsgit.yaml:3:6: DS201",
    ),
    ("version: [\n", "dsgit.yaml:2:1: DS101"),
]


@pytest.mark.parametrize(("text", "where"), CONFIG_CASES)
def test_project_config_errors_carry_code_and_position(text: str, where: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_project_config(text, Path("/repo"), "dsgit.yaml")
    assert str(error.value).startswith(where)


def test_project_config_still_parses_environments() -> None:
    config = parse_project_config(
        "version: 1\nenvironments:\n  prod:\n    universe_id: 9\n    api_key_env: K\n"
        "    budget: {ccu: 10, share: 0.25}\n    protected: true\n",
        Path("/repo"),
        "dsgit.yaml",
    )
    prod = config.environment()
    assert (prod.universe_id, prod.url, prod.protected, prod.budget.share) == (
        9,
        "https://apis.roblox.com",
        True,
        0.25,
    )


def test_entry_shape_messages() -> None:
    assert problems(FileKind.ENTRY, "value: null\n") == [
        (
            "DS201",
            1,
            "`value`: must not be null: Roblox cannot store nil (delete the file to delete the "
            "entry)",
        )
    ]
    assert problems(FileKind.ENTRY, "[1, 2]\n") == [
        ("DS201", 1, "an entry file is a mapping with `value` (and optional attributes, users)")
    ]
    assert not plainly_valid_entry({"value": None})
