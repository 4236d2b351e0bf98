from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.emulator import Emulator
from dsgit.model.entry import EntryData
from dsgit.remote.testing import emulated_client
from support import LOCAL_CONFIG, invoke_cli, write_files

CONFIG = (
    LOCAL_CONFIG
    + """\
  prod:
    universe_id: 1
    emulator: .dsgit/emulator.db
    protected: true
"""
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write_files(
        root,
        {
            "dsgit.yaml": CONFIG,
            "datastores/Config/global/settings.yaml": "value:\n  motd: welcome\n  max: 12\n",
            "datastores/PlayerData/global/Player_1.yaml": "value:\n  Coins: 5\nusers: [1]\n",
            "ordered/Wins/global.yaml": '"12345": 7\n',
        },
    )
    return root


def run(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return invoke_cli(["-C", str(root), *args], capsys)


def seed(root: Path, store: str, key: str, data: EntryData) -> None:
    with Emulator(db=root / ".dsgit/emulator.db") as emulator, emulated_client(emulator) as client:
        client.create_entry(store, key, data)


def live(root: Path, store: str, key: str) -> EntryData | None:
    with Emulator(db=root / ".dsgit/emulator.db") as emulator, emulated_client(emulator) as client:
        found = client.get_entry(store, key)
        return found.data if found is not None else None


def test_plan_then_apply_then_apply_again(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(repo, "plan", "-o", str(repo / "plan.json"), capsys=capsys)
    assert code == 0, err
    code, out, err = run(repo, "apply", str(repo / "plan.json"), capsys=capsys)
    assert code == 0, err
    assert "Apply complete: 3 written" in out
    assert "[3/3]" in err  # plain progress lines: stderr is not a terminal here
    assert live(repo, "Config", "settings") == EntryData({"motd": "welcome", "max": 12})

    code, out, _ = run(repo, "apply", str(repo / "plan.json"), "--format", "json", capsys=capsys)
    body = json.loads(out)
    assert code == 0 and body["already_complete"] is True and body["status"] == "complete"

    code, out, _ = run(repo, "plan", "--detailed-exitcode", capsys=capsys)
    assert code == 0, out
    code, out, _ = run(repo, "audit", "verify", capsys=capsys)
    assert code == 0 and "valid" in out


def test_tampered_plan_is_stale(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(repo, "plan", "-o", str(repo / "plan.json"), capsys=capsys)
    path = repo / "plan.json"
    path.write_bytes(path.read_bytes().replace(b"welcome", b"welcomE"))
    code, _, err = run(repo, "apply", str(path), capsys=capsys)
    assert code == 4
    assert "digest" in err and "Traceback" not in err
    assert live(repo, "Config", "settings") is None


def test_declaration_changed_since_the_plan(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(repo, "plan", "-o", str(repo / "plan.json"), capsys=capsys)
    write_files(repo, {"datastores/Config/global/settings.yaml": "value:\n  motd: changed\n"})
    code, _, err = run(repo, "apply", "plan.json", capsys=capsys)
    assert code == 4 and "declaration changed since the plan" in err


def test_conflict_exits_5_naming_the_entry(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed(repo, "Config", "settings", EntryData({"motd": "old"}))
    run(repo, "plan", "-o", str(repo / "plan.json"), capsys=capsys)
    with Emulator(db=repo / ".dsgit/emulator.db") as emulator, emulated_client(emulator) as client:
        client.update_entry("Config", "settings", EntryData({"motd": "game server"}))
    code, out, _ = run(repo, "apply", "plan.json", capsys=capsys)
    assert code == 5
    assert "conflict: update Config/global/settings" in out
    assert live(repo, "Config", "settings") == EntryData({"motd": "game server"})
    assert live(repo, "PlayerData", "Player_1") == EntryData({"Coins": 5}, users=(1,))


def test_protected_environment_refuses(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(repo, "plan", "-e", "prod", "-o", str(repo / "plan.json"), capsys=capsys)
    code, _, err = run(repo, "apply", "plan.json", capsys=capsys)
    assert code == 3 and "protected environment" in err


def test_environment_mismatch_is_stale(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(repo, "plan", "-o", str(repo / "plan.json"), capsys=capsys)
    code, _, err = run(repo, "apply", "plan.json", "-e", "prod", capsys=capsys)
    assert code == 4 and "made for environment 'local'" in err


def test_bad_lock_ttl_and_help(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(repo, "plan", "-o", str(repo / "plan.json"), capsys=capsys)
    code, _, err = run(repo, "apply", "plan.json", "--lock-ttl", "soon", capsys=capsys)
    assert code == 1 and "duration" in err  # a usage error (exit 2 means "changes found")
    code, out, _ = run(repo, "apply", "--help", capsys=capsys)
    assert code == 0
    for text in ("--snapshot", "--break-lock", "--lock-ttl", "6 partial", "5 conflicts"):
        assert text in out


def test_missing_plan_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(repo, "apply", "nope.json", capsys=capsys)
    assert code == 1 and "cannot read the plan" in err


def test_render_every_status() -> None:
    from dsgit.apply.result import ApplyResult, ApplyStatus, ChangeResult
    from dsgit.cli.apply import _render_json, _render_text
    from dsgit.ledger import ChangeOutcome, EntryState
    from dsgit.model.entry import Address
    from dsgit.plan.model import Action

    state = EntryState(True, "e", "r", "sha256:" + "0" * 64)
    done = ChangeResult(
        Address.standard("S", "a"), Action.UPDATE, ChangeOutcome.WRITTEN, "", state, state
    )
    pending = ChangeResult(Address.standard("S", "b"), Action.DELETE, None, "", state, state)
    for status, expected in [
        (ApplyStatus.COMPLETE, "Apply complete"),
        (ApplyStatus.CONFLICT, "finished with conflicts"),
        (ApplyStatus.PARTIAL, "stopped part way: GET /x failed: HTTP 503"),
        (ApplyStatus.INTERRUPTED, "Apply interrupted"),
    ]:
        result = ApplyResult(
            "A1",
            "sha256:" + "1" * 64,
            "local",
            status,
            (done, pending),
            failure="GET /x failed: HTTP 503",
            snapshot_time="2026-01-01T00:00:00.000Z",
            resumed=True,
            broke_lock="held by x",
        )
        text = _render_text(result)
        assert (
            expected in text
            and "Resumed apply A1" in text
            and "not applied: delete S/global/b" in text
        )
        body = json.loads(_render_json(result))
        assert body["status"] == str(status) and body["exit_code"] == status.exit_code
        assert body["summary"] == {"written": 1, "skipped": 0, "conflict": 0, "pending": 1}


def test_a_long_list_of_pending_changes_is_cut_short() -> None:
    from dsgit.apply.result import ApplyResult, ApplyStatus, ChangeResult
    from dsgit.cli.apply import _render_text
    from dsgit.ledger import EntryState
    from dsgit.model.entry import Address
    from dsgit.plan.model import Action

    state = EntryState(True, "e", "r", "sha256:" + "0" * 64)
    pending = tuple(
        ChangeResult(Address.standard("S", f"k{n:03d}"), Action.CREATE, None, "", state, state)
        for n in range(500)
    )
    text = _render_text(
        ApplyResult("A1", "sha256:" + "1" * 64, "local", ApplyStatus.INTERRUPTED, pending)
    )
    assert text.count("not applied:") == 20 and "and 480 more not applied" in text
    assert "500 not applied" in text  # the summary still counts every one
