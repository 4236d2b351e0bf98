"""``dsgit erase`` from the command line on the embedded emulator: plan, apply, --verify."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.cli.context import AppContext
from dsgit.model.entry import EntryData
from dsgit.remote.connect import open_client
from support import LOCAL_CONFIG, invoke_cli, write_files

USER = 45348281
POLICY = """\
version: 1
rules:
  - name: tagged
    store: "*"
    users_metadata: true
    action: delete
"""


def test_plan_apply_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_files(
        tmp_path / "repo", {"dsgit.yaml": LOCAL_CONFIG, "policies/erasure.yaml": POLICY}
    )
    with open_client(AppContext(cwd=root).environment("local")) as api:
        api.create_entry("Saves", "a", EntryData({"x": 1}, {}, (USER,)))
        api.create_entry("Saves", "b", EntryData({"x": 2}, {}, (7,)))
    base = ["-C", str(root)]
    code, out, _ = invoke_cli([*base, "erase", "--verify", "--user", str(USER)], capsys)
    assert code == 2 and "live: Saves/global/a" in out
    plan = tmp_path / "erase.json"
    code, out, err = invoke_cli([*base, "erase", "--user", str(USER), "-o", str(plan)], capsys)
    assert code == 0, err
    assert json.loads(plan.read_text())["kind"] == "erasure"
    code, out, err = invoke_cli([*base, "apply", str(plan)], capsys)
    assert code == 0, out + err
    code, out, _ = invoke_cli([*base, "erase", "--verify", "--user", str(USER)], capsys)
    assert code == 0
    assert "Nothing of the user is left in local" in out
    assert "Erasure record #" in out
    code, out, _ = invoke_cli([*base, "audit", "log", "--user", str(USER)], capsys)
    assert code == 0 and "erasure user=" in out
    code, _, err = invoke_cli([*base, "erase", "--user", "abc"], capsys)
    assert code == 1 and "not a Roblox user id" in err
