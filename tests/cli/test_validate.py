"""``dsgit validate``: formats, exit codes, no traceback, nothing written, no secrets shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support import invoke_cli, write_files

CONFIG = "version: 1\nenvironments:\n  local: {universe_id: 1, emulator: .dsgit/emulator.db}\n"
CANARY = "canary-7731-do-not-print"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return invoke_cli(args, capsys)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    return write_files(
        tmp_path / "repo",
        {
            "dsgit.yaml": CONFIG,
            "schemas/secret.schema.yaml": "type: object\nproperties:\n  pin: {type: integer}\n",
            "datastores/Vault/_store.yaml": (
                "schema: schemas/secret.schema.yaml\nsensitive: [/pin]\n"
            ),
            "datastores/Vault/global/a.yaml": f"value:\n  pin: {CANARY}\n",
            "datastores/Shop/global/b.yaml": "value: 1\nvalue: 2\n",
        },
    )


def test_clean_repository_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_files(tmp_path, {"dsgit.yaml": CONFIG, "datastores/S/global/k.yaml": "value: 1\n"})
    code, out, err = run(capsys, "-C", str(root), "validate")
    assert code == 0
    assert out.strip() == "2 files, 1 entry: no problems"
    assert err == ""


def test_text_format_lists_every_problem(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-C", str(broken), "validate")
    assert code == 1
    lines = out.splitlines()
    assert (
        lines[0]
        == "datastores/Shop/global/b.yaml:2:1: DS102 duplicate key 'value' (first at line 1)"
    )
    assert lines[1].startswith(
        "datastores/Vault/global/a.yaml:2:8: DS301 `value/pin` must be an integer"
    )
    assert lines[-1] == "5 files, 2 entries: 2 errors"
    assert "validation failed: 2 errors" in err
    assert "Traceback" not in out + err
    assert CANARY not in out + err


def test_paths_are_relative_to_where_it_runs(
    broken: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # run from a sub-folder: the repository is found above it, paths stay clickable
    code, out, _ = run(capsys, "-C", str(broken / "datastores"), "validate")
    assert code == 1
    assert out.splitlines()[0].startswith("../datastores/Shop/global/b.yaml:2:1: DS102")


def test_json_format(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "-C", str(broken), "validate", "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert report["valid"] is False and report["errors"] == 2 and report["entries"] == 2
    first = report["problems"][0]
    assert first == {
        "file": "datastores/Shop/global/b.yaml",
        "line": 2,
        "column": 1,
        "code": "DS102",
        "severity": "error",
        "title": "duplicate key",
        "message": "duplicate key 'value' (first at line 1)",
    }
    assert CANARY not in out


def test_github_format(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-C", str(broken), "validate", "--format", "github")
    assert code == 1
    assert out.splitlines()[0] == (
        "::error file=datastores/Shop/global/b.yaml,line=2,col=1,title=DS102::"
        "duplicate key 'value' (first at line 1) (duplicate key)"
    )
    assert "2 errors" in err
    assert CANARY not in out + err


def test_nothing_is_written(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted((p.as_posix(), p.read_bytes()) for p in broken.rglob("*") if p.is_file())
    for output in ("text", "json", "github"):
        run(capsys, "-C", str(broken), "validate", "--format", output)
    after = sorted((p.as_posix(), p.read_bytes()) for p in broken.rglob("*") if p.is_file())
    assert after == before
    assert not (broken / ".dsgit").exists()


def test_without_dsgit_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "-C", str(tmp_path), "validate")
    assert code == 1
    assert out.splitlines()[0] == "dsgit.yaml: DS109 dsgit.yaml not found (run `dsgit init`)"


def test_help_names_the_codes_page(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--help")
    assert code == 0
    assert "--format [text|json|github]" in out and "validation-codes" in out


def test_errors_around_sensitive_values_hide_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_files(
        tmp_path,
        {
            "dsgit.yaml": CONFIG,
            "schemas/s.json": '{"properties": {"creds": {"contains": {"const": 1}}}}',
            "datastores/V/_store.yaml": "schema: schemas/s.json\nsensitive: [/creds/0]\n",
            "datastores/V/global/a.yaml": f"value:\n  creds: [{CANARY}]\n",
        },
    )
    code, out, err = run(capsys, "-C", str(root), "validate", "--format", "json")
    assert code == 1
    assert CANARY not in out + err
    assert "value hidden: sensitive" in out


@pytest.mark.slow
def test_real_process_exit_code_and_no_traceback(broken: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "dsgit", "validate", "--format", "github"],
        cwd=broken,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout.startswith("::error file=datastores/Shop/global/b.yaml,line=2,col=1,")
    assert "Traceback" not in result.stdout + result.stderr
    assert CANARY not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "value",
    ["!!binary aGk=", "!custom x", "1e999", "9" * 5000, "!!int abc"],
)
def test_a_value_that_is_not_json_is_one_error_not_two(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the refused node reads as null; the entry schema must not add "must not be null" for it
    root = write_files(
        tmp_path / "repo",
        {"dsgit.yaml": CONFIG, "datastores/Shop/global/a.yaml": f"value: {value}\n"},
    )
    code, out, err = run(capsys, "-C", str(root), "validate")
    assert code == 1 and "Traceback" not in out + err and "internal error" not in out + err
    lines = [line for line in out.splitlines() if line.startswith("datastores/")]
    assert len(lines) == 1 and ":1:8: DS104 " in lines[0]
