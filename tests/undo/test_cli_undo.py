"""The undo commands through the CLI boundary: options, exit codes, error messages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
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
    assert saved["kind"] == "rollback" and saved["context"]["to_commit"] == first
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
    assert plan["kind"] == "revert" and plan["context"]["apply_id"] == two
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


def test_a_rollback_plan_whose_commit_is_gone_is_stale(
    repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _two_applies(repo, capsys)
    assert run(capsys, "rollback", "--to", first, "-o", "rb.json")[0] == 0
    # History rewritten (a force-push, a squash) and the old commits collected.
    repo.git("checkout", "--quiet", "--orphan", "rewritten")
    repo.commit("squashed")
    for branch in repo.git("branch", "--format=%(refname:short)").split():
        if branch != "rewritten":
            repo.git("branch", "--quiet", "-D", branch)
    repo.git("reflog", "expire", "--expire=now", "--all")
    repo.git("gc", "--quiet", "--prune=now")

    code, _, err = run(capsys, "apply", "rb.json")

    assert code == 4, err
    assert first[:12] in err and "make a new plan" in err
    code, out, _ = run(capsys, "get", "Shop", "sword", "--format", "json")
    assert code == 0 and json.loads(out)["value"] == {"price": 150}


def test_a_rollback_plan_edited_to_write_something_else_is_refused(
    repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    from dsgit.plan.io import plan_from_json, plan_to_json, with_digest

    first = _two_applies(repo, capsys)
    assert run(capsys, "rollback", "--to", first, "-o", "rb.json")[0] == 0
    plan = plan_from_json(Path("rb.json").read_bytes(), source="rb.json")
    (change,) = plan.changes
    assert change.after is not None
    edited = replace(change, after=replace(change.after, value={"price": 0}))
    Path("rb.json").write_bytes(plan_to_json(with_digest(replace(plan, changes=(edited,)))))

    code, _, err = run(capsys, "apply", "rb.json")

    assert code == 4 and "not what the declaration says" in err
    code, out, _ = run(capsys, "get", "Shop", "sword", "--format", "json")
    assert code == 0 and json.loads(out)["value"] == {"price": 150}
