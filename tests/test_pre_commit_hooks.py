"""``.pre-commit-hooks.yaml``: a manifest pre-commit accepts, whose hook runs a real command."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pre_commit.clientlib import load_manifest

from dsgit.cli.main import COMMAND_MODULES

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"


def hook(hook_id: str) -> dict[str, Any]:
    hooks = {item["id"]: item for item in load_manifest(str(MANIFEST))}  # pre-commit's schema
    return hooks[hook_id]


def test_validate_hook_names_a_real_command() -> None:
    validate = hook("dsgit-validate")
    program, command = shlex.split(validate["entry"])
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    assert program in scripts and command in COMMAND_MODULES
    assert validate["language"] == "python"
    assert validate["pass_filenames"] is False  # validate reads the whole repository


@pytest.mark.parametrize(
    ("path", "runs"),
    [
        ("dsgit.yaml", True),
        ("datastores/GameConfig/global/welcome.yaml", True),
        ("datastores/GameConfig/_store.yaml", True),
        ("ordered/Leaderboard/global.yaml", True),
        ("schemas/profile.schema.json", True),
        ("policies/approvals.yaml", True),
        ("game/datastores/Shop/global/sword.yaml", True),  # a repository in a subfolder
        ("README.md", False),
        ("src/app.yaml", False),
        ("docs/datastores.md", False),
        ("mydsgit.yaml", False),
    ],
)
def test_hook_runs_for_the_files_validate_reads(path: str, runs: bool) -> None:
    assert bool(re.search(hook("dsgit-validate")["files"], path)) is runs


@pytest.mark.slow
def test_hook_entry_passes_a_good_repository_and_fails_a_bad_one(tmp_path: Path) -> None:
    """Run the entry as pre-commit does: from the repository root, with no file names."""
    dsgit = Path(sys.executable).with_name("dsgit")
    subprocess.run([str(dsgit), "init", str(tmp_path / "game")], check=True, capture_output=True)
    root = tmp_path / "game"
    program, command = shlex.split(hook("dsgit-validate")["entry"])
    entry = [str(dsgit.with_name(program)), command]
    good = subprocess.run(entry, cwd=root, capture_output=True, text=True, check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    (root / "datastores/GameConfig/global/welcome.yaml").write_text("value:\n", encoding="utf-8")
    bad = subprocess.run(entry, cwd=root, capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "datastores/GameConfig/global/welcome.yaml:1:" in bad.stdout


def test_codegen_hook_names_a_real_command_and_checks_only() -> None:
    codegen = hook("dsgit-codegen-luau")
    program, *command = shlex.split(codegen["entry"])
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    assert program in scripts and command[0] in COMMAND_MODULES
    assert command == ["codegen", "luau", "--check"]  # never writes in a hook
    assert codegen["pass_filenames"] is False


@pytest.mark.parametrize(
    ("path", "runs"),
    [
        ("schemas/profile.schema.json", True),
        ("datastores/Shop/_store.yaml", True),
        ("src/shared/DsgitTypes/Shop.luau", True),  # an edited generated module
        ("README.md", False),
        ("src/server/main.server.lua", False),
    ],
)
def test_codegen_hook_runs_for_its_inputs_and_outputs(path: str, runs: bool) -> None:
    assert bool(re.search(hook("dsgit-codegen-luau")["files"], path)) is runs


@pytest.mark.slow
def test_codegen_hook_entry_fails_on_stale_types_and_passes_when_fresh(tmp_path: Path) -> None:
    """Run the entry as pre-commit does, with the args a user configures."""
    dsgit = Path(sys.executable).with_name("dsgit")
    root = tmp_path / "game"
    subprocess.run([str(dsgit), "init", str(root)], check=True, capture_output=True)
    program, *command = shlex.split(hook("dsgit-codegen-luau")["entry"])
    entry = [str(dsgit.with_name(program)), *command, "--out", "src/shared"]
    stale = subprocess.run(entry, cwd=root, capture_output=True, text=True, check=False)
    assert stale.returncode == 1 and "missing: src/shared/DsgitTypes/init.luau" in stale.stdout
    subprocess.run([str(dsgit), "codegen", "luau", "--out", "src/shared"], cwd=root, check=True)
    fresh = subprocess.run(entry, cwd=root, capture_output=True, text=True, check=False)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
