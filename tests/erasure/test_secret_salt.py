"""The erasure salt kept secret (``DSGIT_ERASURE_SALT``) instead of committed: the whole loop
works with it, nothing written holds it, and the two salts are never mixed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.cli.context import AppContext
from dsgit.erasure.proof import SALT_ENV, SALT_FILE, hashed_user
from dsgit.model.entry import EntryData
from dsgit.remote.connect import open_client
from support import LOCAL_CONFIG, invoke_cli, write_files

from .test_cli import POLICY, USER

SECRET = "canary-erasure-salt-" + "5e" * 16


def _repo(tmp_path: Path) -> Path:
    root = write_files(
        tmp_path / "repo", {"dsgit.yaml": LOCAL_CONFIG, "policies/erasure.yaml": POLICY}
    )
    with open_client(AppContext(cwd=root).environment("local")) as api:
        api.create_entry("Saves", "a", EntryData({"x": 1}, {}, (USER,)))
    return root


def _erase_and_apply(root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    plan = tmp_path / "erase.json"
    base = ["-C", str(root)]
    code, out, err = invoke_cli([*base, "erase", "--user", str(USER), "-o", str(plan)], capsys)
    assert code == 0, err
    shown = out + err + plan.read_text()
    code, out, err = invoke_cli([*base, "apply", str(plan)], capsys)
    assert code == 0, out + err
    return shown + out + err


def test_a_secret_salt_proves_the_erasure_and_is_written_nowhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SALT_ENV, SECRET)
    root = _repo(tmp_path)
    output = _erase_and_apply(root, tmp_path, capsys)
    assert not (root / SALT_FILE).exists()
    base = ["-C", str(root)]
    code, out, err = invoke_cli([*base, "erase", "--verify", "--user", str(USER)], capsys)
    assert code == 0 and "Nothing of the user is left" in out, out + err
    code, log, err = invoke_cli(
        [*base, "audit", "log", "--user", str(USER), "--format", "json"], capsys
    )
    assert code == 0, err
    [record] = [r for r in json.loads(log) if r.get("type") == "erasure"]
    assert record["user"] == hashed_user(SECRET, USER)
    output += out + err + log
    assert SECRET not in output
    for path in (root / "audit").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    # Without the secret the same checkout cannot make or match hashes, and says why.
    monkeypatch.delenv(SALT_ENV)
    code, _, err = invoke_cli([*base, "erase", "--user", str(USER)], capsys)
    assert code == 1 and SALT_ENV in err and "erasure records" in err, err
    assert not (root / SALT_FILE).exists()  # no second salt made behind the user's back
    # Nor does anything that matches hashes silently find nothing: --verify would list no
    # erasure record, `audit log --user` none, and restore would not know which entries an
    # erasure wrote (and would bring the user's earlier revisions back).
    for command in (
        ["erase", "--verify", "--user", str(USER)],
        ["audit", "log", "--user", str(USER)],
        ["restore", "--at", "1h"],
    ):
        code, out, err = invoke_cli([*base, *command], capsys)
        assert code == 1 and SALT_ENV in err and "erasure records" in err, (command, out, err)
        assert "Traceback" not in err
    assert not (root / SALT_FILE).exists()


def test_a_short_secret_or_one_beside_a_committed_salt_is_refused_without_quoting_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repo(tmp_path)
    base = ["-C", str(root), "erase", "--user", str(USER)]
    monkeypatch.setenv(SALT_ENV, "canary-short")
    code, out, err = invoke_cli(base, capsys)
    assert code == 1 and "too short" in err and "canary" not in out + err, err
    (root / SALT_FILE).parent.mkdir(parents=True, exist_ok=True)
    (root / SALT_FILE).write_text("ab" * 32 + "\n")
    monkeypatch.setenv(SALT_ENV, SECRET)
    code, out, err = invoke_cli(base, capsys)
    assert code == 1 and SALT_FILE in err and "one salt" in err, err
    assert SECRET not in out + err and "ab" * 32 not in out + err
    assert "Traceback" not in err
