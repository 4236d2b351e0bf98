"""Papercuts a newcomer hit: the environment checked before the key, JSON errors on stdout,
no "Apply complete" after "nothing to do", no address twice, a markdown plan that collapses
notes and says how to apply it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.cli.plan_output import report_errors
from dsgit.errors import EXIT_OK, EXIT_STALE
from dsgit.plan.codes import DiagnosticCode, diagnostic
from support import LOCAL_CONFIG, invoke_cli, run_git, write_files

KEYED = """\
  keyed:
    universe_id: 1
    url: http://127.0.0.1:9
    api_key_env: DSGIT_PAPERCUT_KEY
"""


@pytest.fixture
def repo(repo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DSGIT_ACTOR", "tester")
    write_files(
        repo_dir,
        {
            "dsgit.yaml": LOCAL_CONFIG + KEYED,
            ".gitignore": ".dsgit/\nplans/\n",
            "datastores/Shop/_store.yaml": "ownership: owned\n",
            "datastores/Shop/global/sword.yaml": "value: {price: 10}\n",
            "datastores/Shop/global/shield.yaml": "value: {price: 20}\n",
        },
    )
    run_git(repo_dir, "init", "--quiet")
    run_git(repo_dir, "add", "--all")
    run_git(repo_dir, "commit", "--quiet", "-m", "shop")
    return repo_dir


def _dsgit(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return invoke_cli(["-C", str(root), *args], capsys)


def test_apply_checks_the_environment_before_it_needs_a_key(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = _dsgit(repo, capsys, "plan", "-o", "plans/p.json")
    assert code == EXIT_OK
    code, _, err = _dsgit(repo, capsys, "apply", "plans/p.json", "-e", "keyed")
    assert code == EXIT_STALE, err
    assert "made for environment 'local', not 'keyed'" in err
    assert "DSGIT_PAPERCUT_KEY" not in err  # the key was never needed


def test_json_format_reports_refusals_and_errors_on_stdout(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _dsgit(repo, capsys, "plan", "-o", "plans/p.json")
    code, out, _ = _dsgit(repo, capsys, "apply", "plans/p.json", "-e", "keyed", "--format", "json")
    assert code == EXIT_STALE
    body = json.loads(out)
    assert body["error"]["kind"] == "StalePlan" and body["error"]["exit_code"] == EXIT_STALE
    code, out, _ = _dsgit(repo, capsys, "plan", "-e", "nope", "--format", "json")
    assert code == 1 and "unknown environment 'nope'" in json.loads(out)["error"]["message"]
    code, out, _ = _dsgit(repo, capsys, "plan", "--allow", "DSP010=x", "--format", "json")
    assert code == 1 and json.loads(out)["error"]["kind"] == "UsageError"


def test_an_apply_already_finished_says_so_only(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _dsgit(repo, capsys, "plan", "-o", "plans/p.json")
    code, out, _ = _dsgit(repo, capsys, "apply", "plans/p.json")
    assert code == EXIT_OK and "Apply complete: 2 written" in out and "0 conflicts" in out
    code, out, _ = _dsgit(repo, capsys, "apply", "plans/p.json")
    assert code == EXIT_OK and "already finished; nothing to do" in out
    assert "Apply complete" not in out


def test_error_lines_name_an_address_once(capsys: pytest.CaptureFixture[str]) -> None:
    report_errors(
        [
            diagnostic(
                "DSP010", "Shop/global/sword: /price is not an integer", address="Shop/global/sword"
            ),
            diagnostic(
                DiagnosticCode.VALUE_TOO_LARGE, "the value is too big", address="Shop/global/shield"
            ),
        ]
    )
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "error: DSP010 Shop/global/sword: /price is not an integer",
        "error: DSP016 Shop/global/shield: the value is too big",
    ]


def test_markdown_collapses_notes_and_ends_with_how_to_apply(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(
        repo,
        {
            "datastores/Players/_store.yaml": "ownership: observed\n",
            **{f"datastores/Players/global/u{n}.yaml": f"value: {n}\n" for n in range(5)},
        },
    )
    run_git(repo, "add", "--all")
    run_git(repo, "commit", "--quiet", "-m", "players")
    code, out, _ = _dsgit(repo, capsys, "plan", "--format", "markdown")
    assert code == EXIT_OK
    assert "| `DSP033`" not in out  # informational: not a table row
    assert "<details><summary>1 note</summary>" in out and "`DSP033`" in out
    last = out.rstrip().splitlines()[-2:]
    assert last[0].startswith("**To apply:** save it (`-o plan.json`) and run `dsgit apply")
    assert last[1].startswith("**Approvals:** none if `local` is not protected")
