"""`make demo` (``python -m dsgit.demo``) runs the whole loop and every step exits as expected."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsgit.demo import DemoFailed, main, run_demo


def test_the_demo_runs_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # nothing may land in the caller's folder
    out = io.StringIO()
    demo = run_demo(tmp_path / "demo", out)
    text = out.getvalue()
    commands = [command for command, _ in demo.commands]
    assert commands[:3] == ["init game --example obby-tycoon", "validate", "plan"]
    undo = [c for c in commands if c.startswith(("apply", "rollback", "audit"))]
    assert undo[:2] == ["apply plan.json", "apply sale.json"]
    assert undo[2].startswith("rollback --to ") and undo[2].endswith(" -o rollback.json")
    assert undo[3:] == ["apply rollback.json", "audit verify", "audit log"]
    assert all(code in (0, 2) for _, code in demo.commands)
    assert "$ dsgit plan -o plan.json" in text
    assert "DSP002 BLOCKING Bans/global/999" in text  # the prune, blocked before the suppression
    assert "~ /price: 300 -> 250" in text  # the game server's price change, put back
    assert "No changes: the live state matches" in text
    assert "~ /price: 199 -> 149" in text and "~ /price: 149 -> 199" in text
    assert "dsgit rollback for environment local" in text
    assert "valid: every chain is intact and linear" in text
    assert text.count("Apply complete") == 3
    assert demo.converged  # the last plan, after reverting the sale in git, found no changes
    # secrets stay out of everything the demo prints
    assert "demo-not-a-real-token" not in text
    assert "Flight exploit" not in text
    assert list((tmp_path / "demo" / "game" / "audit" / "ledger" / "local").glob("*.jsonl"))
    assert (tmp_path / "demo" / "game" / "plan.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_the_demo_refuses_a_used_folder(tmp_path: Path) -> None:
    (tmp_path / "game").mkdir()
    with pytest.raises(DemoFailed, match="already exists"):
        run_demo(tmp_path, io.StringIO())


def test_the_command_exits_1_when_a_step_fails(tmp_path: Path) -> None:
    (tmp_path / "game").mkdir()
    result = CliRunner().invoke(main, ["--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "demo failed" in result.output
