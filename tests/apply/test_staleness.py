"""Plans are stale only when what they read changed (the declaration slice), not on any commit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.plan.slice import InputKind, slice_of
from dsgit.repo import load_declaration
from support import LOCAL_CONFIG, invoke_cli, run_git, write_files

SCHEMA = "type: object\nproperties:\n  price: {$ref: common.schema.yaml#/$defs/price}\n"
COMMON = "$defs:\n  price: {type: integer, minimum: 0}\n"
STORE = "schema: schemas/item.schema.yaml\n"
POLICY = "version: 1\napprovers: []\nrules: []\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write_files(
        root,
        {
            "dsgit.yaml": LOCAL_CONFIG,
            ".gitignore": ".dsgit/\n*.plan.json\n",
            "datastores/Shop/_store.yaml": STORE,
            "datastores/Shop/global/Sword.yaml": "value:\n  price: 400\n",
            "datastores/Shop/global/Shield.yaml": "value:\n  price: 300\n",
            "datastores/Config/global/motd.yaml": "value: hello\n",
            "schemas/item.schema.yaml": SCHEMA,
            "schemas/common.schema.yaml": COMMON,
            "schemas/unrelated.schema.yaml": "type: string\n",
            "policies/approvals.yaml": POLICY,
        },
    )
    run_git(root, "init", "-q", "-b", "main")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "declare")
    return root


def _run(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return invoke_cli(["-C", str(root), *args], capsys)


def _plan_sword_only(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Apply everything, then change only Sword, commit, and plan that."""
    code, _, err = _run(root, capsys, "plan", "-o", "all.plan.json")
    assert code == 0, err
    code, _, err = _run(root, capsys, "apply", "all.plan.json")
    assert code == 0, err
    write_files(root, {"datastores/Shop/global/Sword.yaml": "value:\n  price: 450\n"})
    run_git(root, "commit", "-qam", "sword price")
    code, _, err = _run(root, capsys, "plan", "-o", "sword.plan.json")
    assert code == 0, err


def _commit(root: Path, files: dict[str, str], message: str) -> None:
    write_files(root, files)
    run_git(root, "add", "-A")
    run_git(root, "commit", "-qm", message)


def test_the_plan_records_its_inputs(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _plan_sword_only(repo, capsys)
    raw = json.loads((repo / "sword.plan.json").read_bytes())
    inputs = raw["source"]["slice"]["inputs"]
    names = {(item["kind"], item["name"]) for item in inputs}
    assert names == {
        ("entry", "Shop/global/Sword"),
        ("store", "standard:Shop"),
        ("schema", "schemas/item.schema.yaml"),
        ("schema", "schemas/common.schema.yaml"),  # reached through $ref
        ("file", "policies/approvals.yaml"),
    }
    by_name = {item["name"]: item for item in inputs}
    assert by_name["Shop/global/Sword"]["file"] == "datastores/Shop/global/Sword.yaml"
    assert by_name["standard:Shop"]["file"] == "datastores/Shop/_store.yaml"


@pytest.mark.parametrize(
    "files",
    [
        {"datastores/Config/global/motd.yaml": "value: changed\n"},  # another store's entry
        {"datastores/Shop/global/Shield.yaml": "value:\n  price: 1\n"},  # same store, other key
        {"datastores/Shop/global/Axe.yaml": "value:\n  price: 9\n"},  # a new entry elsewhere
        {"schemas/unrelated.schema.yaml": "type: integer\n"},  # a schema it does not use
        {"datastores/Shop/global/Sword.yaml": "# a comment\nvalue: {price: 450}\n"},  # layout
    ],
    ids=["other-store", "same-store-other-key", "new-entry", "unused-schema", "layout-only"],
)
def test_an_unrelated_commit_leaves_the_plan_applicable(
    repo: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str]
) -> None:
    _plan_sword_only(repo, capsys)
    _commit(repo, files, "unrelated")
    code, out, err = _run(repo, capsys, "apply", "sword.plan.json")
    assert code == 0, err
    assert "Apply complete: 1 written" in out


@pytest.mark.parametrize(
    ("files", "named"),
    [
        ({"datastores/Shop/global/Sword.yaml": "value:\n  price: 500\n"}, "Shop/global/Sword.yaml"),
        (
            {"datastores/Shop/_store.yaml": STORE + "sensitive: [/price]\n"},
            "datastores/Shop/_store.yaml",
        ),
        ({"schemas/item.schema.yaml": SCHEMA + "required: [price]\n"}, "schemas/item.schema.yaml"),
        ({"schemas/common.schema.yaml": COMMON + "  other: {}\n"}, "schemas/common.schema.yaml"),
        ({"policies/approvals.yaml": POLICY + "max_age: 1d\n"}, "policies/approvals.yaml"),
    ],
    ids=["entry", "store-settings", "schema", "referenced-schema", "approvals-policy"],
)
def test_a_change_to_an_input_makes_the_plan_stale_naming_the_file(
    repo: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], named: str
) -> None:
    _plan_sword_only(repo, capsys)
    _commit(repo, files, "input changed")
    code, _, err = _run(repo, capsys, "apply", "sword.plan.json")
    assert code == 4, err
    assert "changed since the plan was made" in err and named in err
    assert "Traceback" not in err


def test_a_deleted_entry_file_is_named_as_no_longer_declared(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _plan_sword_only(repo, capsys)
    run_git(repo, "rm", "-q", "datastores/Shop/global/Sword.yaml")
    run_git(repo, "commit", "-qm", "drop sword")
    code, _, err = _run(repo, capsys, "apply", "sword.plan.json")
    assert code == 4
    assert "datastores/Shop/global/Sword.yaml" in err and "no longer declared" in err


def test_a_plan_listing_fewer_inputs_than_its_changes_read_is_refused(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Apply derives the inputs from the changes: a forger who trims the list (and recomputes
    the digest) so the plan seems to depend on nothing gains nothing."""
    from dataclasses import replace

    from dsgit.plan.io import plan_from_json, plan_to_json, with_digest

    _plan_sword_only(repo, capsys)
    path = repo / "sword.plan.json"
    plan = plan_from_json(path.read_bytes(), source="sword.plan.json")
    declaration = load_declaration(repo)
    empty = slice_of((), (), declaration, declaration.policies)
    assert [item.kind for item in empty.inputs] == [InputKind.FILE]  # the policy alone
    path.write_bytes(plan_to_json(with_digest(replace(plan, declaration_slice=empty))))
    code, _, err = _run(repo, capsys, "apply", "sword.plan.json")
    assert code == 4 and "do not match its changes" in err
