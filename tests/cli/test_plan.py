"""``dsgit plan``, ``show`` and ``drift`` on a temporary repository with the embedded emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dsgit.cli.main import cli, main
from dsgit.config import load_project_config
from dsgit.model.entry import EntryData
from dsgit.remote.connect import open_client
from support import LOCAL_CONFIG

CONFIG = (
    LOCAL_CONFIG
    + """\
  empty:
    universe_id: 2
    emulator: .dsgit/emulator.db
"""
)

FILES = {
    "datastores/Config/_store.yaml": "ownership: owned\nprune: true\nsensitive: [/apiToken]\n",
    "datastores/Config/global/motd.yaml": "value:\n  text: Welcome\n  Items: [1, 2, 3]\n",
    "datastores/Config/global/flags.yaml": "value:\n  beta: false\n",
    "datastores/Config/global/secrets.yaml": "value:\n  apiToken: CANARY-cli-4242\n",
    "ordered/Wins/global.yaml": "alice: 9\nbob: 4\n",
}


@pytest.fixture
def repo(repo_dir: Path) -> Iterator[Path]:
    repo_dir.mkdir()
    (repo_dir / "dsgit.yaml").write_text(CONFIG, encoding="utf-8")
    for name, text in FILES.items():
        path = repo_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    env = load_project_config(repo_dir).environment("local")
    with open_client(env) as client:
        client.create_entry("Config", "motd", EntryData({"text": "Welcome", "Items": [1, 2, 4]}))
        client.create_entry("Config", "flags", EntryData({"beta": False}))
        client.create_entry("Config", "secrets", EntryData({"apiToken": "CANARY-live-4242"}))
        client.create_ordered("Wins", "alice", 9)
        client.create_ordered("Wins", "bob", 4)
    yield repo_dir


def run(repo: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(repo), *args], catch_exceptions=False)


def run_main(repo: Path, *args: str) -> int:
    with pytest.raises(SystemExit) as exc:
        main(["-C", str(repo), *args])
    return int(exc.value.code or 0)


def test_plan_shows_changes_and_exit_codes(repo: Path) -> None:
    result = run(repo, "plan")
    assert result.exit_code == 0, result.output
    assert "~ Config/global/motd  update" in result.output
    assert "~ /Items/2: 4 -> 3" in result.output
    assert "~ Config/global/secrets  update" in result.output
    assert "CANARY" not in result.output
    assert "Plan: 0 to create, 2 to update, 0 to delete, 0 to increment, 3 unchanged." in (
        result.output
    )
    assert run(repo, "plan", "--detailed-exitcode").exit_code == 2


def test_plan_file_show_and_json(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "plans" / "plan.json"
    result = run(repo, "plan", "-o", str(out), "--format", "json", "--expires-in", "2h")
    assert result.exit_code == 0
    data = out.read_bytes()
    assert result.output.encode() == data
    assert b"CANARY" not in data
    body = json.loads(data)
    assert body["environment"] == "local" and body["summary"]["update"] == 2
    shown = run(repo, "show", str(out))
    assert shown.exit_code == 0 and "Config/global/motd" in shown.output
    markdown = run(repo, "show", str(out), "--format", "markdown")
    assert "<details>" in markdown.output and body["digest"] in markdown.output
    out.write_bytes(data.replace(b'"Items":[1,2,3]', b'"Items":[1,2,5]'))
    assert run_main(repo, "show", str(out)) == 4


def test_target_and_exclude(repo: Path) -> None:
    result = run(repo, "plan", "--target", "Config/*", "--exclude", "*/secrets")
    assert "Config/global/motd" in result.output and "secrets" not in result.output


def test_a_target_that_matches_nothing_is_warned_of(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A misspelt --target must not read as "the live state matches" alone."""
    assert run_main(repo, "plan", "--target", "Confg/*") == 0
    out, err = capsys.readouterr()
    assert "No changes" in out
    assert "warning: --target Confg/* matched no declared or live entry" in err
    assert run_main(repo, "plan", "--target", "Config/*") == 0
    assert "matched no" not in capsys.readouterr().err


def test_no_changes_after_live_matches(repo: Path) -> None:
    env = load_project_config(repo).environment("local")
    with open_client(env) as client:
        client.update_entry("Config", "motd", EntryData({"text": "Welcome", "Items": [1, 2, 3]}))
        client.update_entry("Config", "secrets", EntryData({"apiToken": "CANARY-cli-4242"}))
    result = run(repo, "plan", "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert "No changes" in result.output
    assert run(repo, "drift").exit_code == 0


def test_prune_is_blocked_and_shown(repo: Path) -> None:
    env = load_project_config(repo).environment("local")
    with open_client(env) as client:
        client.create_entry("Config", "leftover", EntryData({"x": 1}))
    result = run(repo, "plan", "--format", "markdown")
    assert result.exit_code == 0
    assert "`DSP002`" in result.output and "apply would refuse this plan" in result.output


def test_empty_universe_plans_creates(repo: Path) -> None:
    result = run(repo, "plan", "-e", "empty", "--detailed-exitcode")
    assert result.exit_code == 2
    assert "3 to create" not in result.output  # ordered entries are created too
    assert "5 to create" in result.output


def test_drift(repo: Path) -> None:
    result = run(repo, "drift")
    assert result.exit_code == 2
    assert "Config/global/motd: changed live" in result.output
    assert "CANARY" not in result.output
    report = json.loads(run(repo, "drift", "--format", "json").output)
    assert {item["address"] for item in report["drift"]} == {
        "Config/global/motd",
        "Config/global/secrets",
    }


def test_schema_failure_exits_1(repo: Path) -> None:
    (repo / "schemas").mkdir()
    (repo / "schemas" / "flags.json").write_text(
        '{"type": "object", "properties": {"beta": {"type": "boolean"}}}', encoding="utf-8"
    )
    store = repo / "datastores" / "Config" / "_store.yaml"
    store.write_text(store.read_text() + "schema: schemas/flags.json\n", encoding="utf-8")
    (repo / "datastores" / "Config" / "global" / "flags.yaml").write_text(
        "value:\n  beta: 3\n", encoding="utf-8"
    )
    code = run_main(repo, "plan")
    assert code == 1


def test_unknown_environment_is_a_clean_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(repo, "plan", "-e", "nope") == 1
    assert "unknown environment 'nope'" in capsys.readouterr().err


def test_help_documents_exit_codes(repo: Path) -> None:
    assert "--detailed-exitcode" in run(repo, "plan", "--help").output
    assert "drift found" in run(repo, "drift", "--help").output


def test_plan_apply_plan_is_empty_and_outside_edits_warn(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsgit.crypto import encode_key, generate_key

    monkeypatch.setenv("DSGIT_ENCRYPTION_KEY", encode_key(generate_key()))
    out = tmp_path / "plan.json"
    assert run(repo, "plan", "-o", str(out)).exit_code == 0
    assert run_main(repo, "apply", str(out)) == 0
    again = run(repo, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    # someone edits a live value outside git, then git changes the same entry
    env = load_project_config(repo).environment("local")
    with open_client(env) as client:
        client.update_entry("Config", "motd", EntryData({"text": "Hotfix", "Items": []}))
        client.update_entry("Config", "flags", EntryData({"beta": True}))
    for name in ("motd", "flags"):
        (repo / "datastores" / "Config" / "global" / f"{name}.yaml").write_text(
            "value:\n  beta: false\n  v: 2\n", encoding="utf-8"
        )
    result = run(repo, "plan")
    assert "DSP020 WARNING Config/global/motd: the live value changed outside git" in (
        result.output
    )
    # flags was never written by an apply: no ledger record, nothing to compare with
    assert "Config/global/flags: the live value changed" not in result.output


def test_bad_paths_are_clean_errors(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert run_main(repo, "plan", "-o", str(blocker / "plan.json")) == 1
    assert "cannot write the plan" in capsys.readouterr().err
    assert run_main(repo, "show", str(tmp_path / "missing.json")) == 1
    assert "cannot read the plan" in capsys.readouterr().err
    (tmp_path / "notes.json").write_text('{"hello": 1}', encoding="utf-8")
    assert run_main(repo, "show", str(tmp_path / "notes.json")) == 1
    assert "not a plan file" in capsys.readouterr().err
