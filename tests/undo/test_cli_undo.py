"""The undo commands through the CLI boundary: options, exit codes, error messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import invoke_cli

from .gitrepo import GitRepo


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitRepo]:
    found = GitRepo(tmp_path / "repo")
    monkeypatch.chdir(found.root)
    yield found


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return invoke_cli(args, capsys)


def _two_applies(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> str:
    repo.write_entry("Shop", "sword", {"price": 100})
    first = repo.commit("first")
    assert run(capsys, "plan", "-o", "one.json")[0] == 0
    assert run(capsys, "apply", "one.json")[0] == 0
    repo.write_entry("Shop", "sword", {"price": 150})
    repo.commit("second")
    assert run(capsys, "plan", "-o", "two.json")[0] == 0
    assert run(capsys, "apply", "two.json")[0] == 0
    return first


def _apply_ids(capsys: pytest.CaptureFixture[str]) -> list[str]:
    code, out, _ = run(capsys, "audit", "log", "--format", "json")
    assert code == 0
    return [r["apply_id"] for r in json.loads(out) if r["type"] == "apply"]


def test_rollback_command(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    first = _two_applies(repo, capsys)
    code, out, _ = run(
        capsys, "rollback", "--to", first[:9], "-o", "rb.json", "--detailed-exitcode"
    )
    assert code == 2
    assert "dsgit rollback for environment local" in out and "~ /price: 150 -> 100" in out
    assert "apply it with `dsgit apply rb.json`" in out
    saved = json.loads(Path("rb.json").read_text())
    assert saved["kind"] == "rollback" and saved["context"] == {"to_commit": first}
    assert run(capsys, "apply", "rb.json")[0] == 0
    code, out, _ = run(capsys, "rollback", "--to", first, "--detailed-exitcode")
    assert code == 0 and "No changes" in out

    code, _, err = run(capsys, "rollback", "--to", "no-such-commit")
    assert code == 1 and "unknown commit 'no-such-commit'" in err


def test_revert_command(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    _two_applies(repo, capsys)
    one, two = _apply_ids(capsys)
    code, out, _ = run(capsys, "revert", two, "--format", "json", "--detailed-exitcode")
    assert code == 2
    plan = json.loads(out)
    assert plan["kind"] == "revert" and plan["context"] == {"apply_id": two}
    (change,) = plan["changes"]
    assert change["actions"] == ["update"] and change["after"]["value"] == {"price": 100}

    # the first apply's entry was changed by the second: blocked unless overwritten
    code, out, _ = run(capsys, "revert", one[:20], "-o", "r1.json")
    assert code == 0 and "DSP040 BLOCKING" in out
    assert run(capsys, "apply", "r1.json")[0] == 3
    code, out, _ = run(capsys, "revert", one, "--overwrite-changed", "undo both", "-o", "r1.json")
    assert "suppressed: undo both" in out
    assert run(capsys, "apply", "r1.json")[0] == 0
    code, _, err = run(capsys, "get", "Shop", "sword")  # apply one created it: now gone
    assert code == 1 and "no entry Shop/global/sword" in err

    code, _, err = run(capsys, "revert", "nope")
    assert code == 1 and "no apply 'nope'" in err
    code, _, err = run(capsys, "revert", one, "--overwrite-changed", " ")
    assert code == 1 and "needs a reason" in err


def test_restore_command(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    _two_applies(repo, capsys)
    code, out, _ = run(capsys, "restore", "--at", "1m", "--detailed-exitcode", "--format", "json")
    assert code == 2
    plan = json.loads(out)
    assert plan["kind"] == "restore"
    assert [c["address"] for c in plan["changes"]] == ["Shop/global/sword"]
    assert plan["changes"][0]["actions"] == ["delete"]  # it did not exist a minute ago
    code, out, _ = run(capsys, "restore", "--at", "1m", "--allow-deletes", "test", "-o", "r.json")
    assert code == 0 and "suppressed: test" in out
    assert run(capsys, "apply", "r.json")[0] == 0
    code, _, err = run(capsys, "get", "Shop", "sword")
    assert code == 1 and "no entry Shop/global/sword" in err

    code, _, err = run(capsys, "restore", "--at", "2999-01-01")
    assert code == 1 and "in the future" in err
    code, _, err = run(capsys, "restore", "--at", "yesterday-ish")
    assert code == 1 and "bad time" in err
