"""Every generated module parses as Luau (types included) with StyLua, a real Luau parser,
and is already laid out as StyLua formats it (``stylua --syntax luau --check`` exits 0)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsgit.codegen import generate_luau
from dsgit.model.entry import JSONValue

from .conftest import ROOT, LuauCheck
from .fixtures import CATALOG_ITEM, DATASTORE2_BLOB, EDGES, PROFILE, declaration, one_store
from .refresh_golden import GOLDEN

pytestmark = pytest.mark.slow  # runs a subprocess


def test_stylua_refuses_broken_luau(stylua: Path, tmp_path: Path) -> None:
    """The check can fail: a type error in the syntax is exit 2, not a pass."""
    (tmp_path / "bad.luau").write_text("export type X = {\n\ta: ,\n}\n", encoding="utf-8")
    result = subprocess.run(
        [str(stylua), "--syntax", "luau", "--check", "bad.luau"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "error parsing" in result.stderr


def test_the_golden_example_output_parses(luau_check: LuauCheck) -> None:
    files = {
        p.relative_to(GOLDEN).as_posix(): p.read_text(encoding="utf-8")
        for p in GOLDEN.rglob("*.luau")
    }
    assert len(files) == 9  # 7 store modules, the config accessors, init.luau
    luau_check(files)


def test_real_world_shapes_and_every_edge_parse(luau_check: LuauCheck) -> None:
    schemas = {
        "schemas/profile.json": PROFILE,
        "schemas/blob.json": DATASTORE2_BLOB,
        "schemas/catalog.json": CATALOG_ITEM,
        "schemas/edges.json": EDGES,
    }
    stores = {
        "PlayerStore": "schemas/profile.json",
        "DATA/12345": "schemas/blob.json",
        "DATA_12345": "schemas/blob.json",
        "Catalog": "schemas/catalog.json",
        "end": "schemas/edges.json",
        "Name": "schemas/edges.json",  # a ModuleScript property
        "init": "schemas/edges.json",
        "long enum": "schemas/edges.json#/properties/long",
        "Plain": None,
    }
    out = generate_luau(declaration(schemas, stores, ordered=("DATA/12345", "Wins")))
    assert len(out.files) == 9  # 8 modules (Plain has no schema) and init.luau
    luau_check(out.files)


# Random schemas: every combination of the constructs must still parse. (Their layout is
# StyLua's for the shapes above; for some deep nestings StyLua would hug braces differently.)
_leaf = st.sampled_from(
    [
        {"type": "string"},
        {"type": "integer"},
        {"type": ["number", "null"]},
        {"type": "boolean"},
        {"enum": ["a", "b'", 'c"', "d\\e"]},
        {"const": "x"},
        {"enum": [f"member_{n:02d}_with_a_long_name" for n in range(12)]},
        {"$ref": "#/$defs/thing"},
        {"not": {}},
        True,
        False,
        {},
    ]
)
_names = st.sampled_from(["a", "end", "with space", "Ünï", "x" * 70, "type", "0lead"])


def _composite(children: st.SearchStrategy[JSONValue]) -> st.SearchStrategy[JSONValue]:
    return st.one_of(
        st.builds(lambda item: {"type": "array", "items": item}, children),
        st.builds(lambda value: {"type": "object", "additionalProperties": value}, children),
        st.builds(
            lambda props, required: {
                "type": "object",
                "properties": props,
                "required": [name for name in props if required],
            },
            st.dictionaries(_names, children, min_size=1, max_size=4),
            st.booleans(),
        ),
        st.builds(lambda members: {"anyOf": members}, st.lists(children, min_size=1, max_size=4)),
        st.builds(lambda members: {"allOf": members}, st.lists(children, min_size=1, max_size=2)),
    )


_schemas = st.recursive(_leaf, _composite, max_leaves=12)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(schema=_schemas)
def test_any_schema_generates_luau_that_parses(luau_check: LuauCheck, schema: JSONValue) -> None:
    document = {"type": "object", "properties": {"root": schema}, "$defs": {"thing": schema}}
    luau_check(generate_luau(one_store(document)).files, formatted=False)


@pytest.mark.parametrize(("ci", "outcome"), [("true", "error"), ("", "skipped")])
def test_without_stylua_the_tests_fail_in_ci_and_skip_elsewhere(
    tmp_path: Path, ci: str, outcome: str
) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "CI": ci,
        "STYLUA": str(tmp_path / "no-stylua"),
    }
    test = "tests/codegen/test_stylua.py::test_stylua_refuses_broken_luau"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert f"1 {outcome}" in result.stdout, result.stdout + result.stderr
    assert result.returncode == (1 if outcome == "error" else 0)  # an error fails the run


def test_an_index_without_store_modules_parses(luau_check: LuauCheck) -> None:
    luau_check(generate_luau(declaration({}, {})).files)  # a new repository: no stores
    luau_check(generate_luau(declaration({}, {"Plain": None}, ordered=("Wins",))).files)
