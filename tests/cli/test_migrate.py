"""``dsgit migrate list|show|plan`` through the real CLI boundary: the plan goes through
``show``, ``apply`` and ``revert`` unchanged, and a second run plans nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.emulator import Emulator
from dsgit.model.entry import EntryData
from dsgit.remote.testing import emulated_client
from migrate.fixtures import PROFILE_MIGRATION, PROFILE_V1, PROFILE_V2, with_session
from support import LOCAL_CONFIG, invoke_cli, write_files


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write_files(
        root,
        {
            "dsgit.yaml": LOCAL_CONFIG,
            "migrations/save-v2.yaml": PROFILE_MIGRATION,
            "datastores/PlayerStore/_store.yaml": "ownership: observed\n",
        },
    )
    with Emulator(db=root / ".dsgit/emulator.db") as emulator, emulated_client(emulator) as client:
        for user in (1, 2, 3):
            client.create_entry("PlayerStore", str(user), EntryData(PROFILE_V1, {}, (user,)))
        locked = EntryData(with_session(PROFILE_V1), {}, (4,))
        client.create_entry("PlayerStore", "4", locked)
    return root


def run(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return invoke_cli(["-C", str(root), *args], capsys)


def live(root: Path, key: str) -> object:
    with Emulator(db=root / ".dsgit/emulator.db") as emulator, emulated_client(emulator) as client:
        found = client.get_entry("PlayerStore", key)
        return found.value if found is not None else None


def test_list_and_show(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(repo, "migrate", "list", capsys=capsys)
    assert code == 0
    assert out.startswith("save-v2: save format 2")
    code, out, _ = run(repo, "migrate", "list", "--format", "json", capsys=capsys)
    assert json.loads(out)[0]["steps"] == 7
    code, out, _ = run(repo, "migrate", "show", "save-v2", capsys=capsys)
    assert code == 0
    assert "  1. rename /Data/Gold to Coins (line 15)" in out
    assert "  7. patch: add /Data/SaveVersion (line 21)" in out


def test_plan_apply_rerun_revert(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = repo / "migrate.json"
    code, out, err = run(
        repo, "migrate", "plan", "save-v2", "--sample-diffs", "1", "-o", str(plan), capsys=capsys
    )
    assert code == 0, err
    assert "DSP070 WARNING" in out and "PlayerStore/global/4" in out
    assert "… 2 more changes in the plan file" in out
    assert "Plan: 0 to create, 3 to update" in out
    saved = json.loads(plan.read_text())
    assert saved["kind"] == "migration" and saved["context"]["migration"] == "save-v2"
    assert not (repo / ".dsgit/scans/migrate-save-v2-local.json").exists()
    code, out, _ = run(repo, "show", str(plan), capsys=capsys)
    assert code == 0 and "PlayerStore/global/3" in out  # show lists every change
    code, out, err = run(repo, "apply", str(plan), capsys=capsys)
    assert code == 0, err
    assert live(repo, "1") == PROFILE_V2
    assert live(repo, "4") == with_session(PROFILE_V1)  # the locked profile was not written
    code, out, _ = run(repo, "migrate", "plan", "save-v2", "--detailed-exitcode", capsys=capsys)
    assert code == 0  # nothing left to migrate but the locked profile
    assert "No changes" in out
    apply_id = next((repo / "audit").rglob("*.jsonl")).stem
    code, out, err = run(repo, "revert", apply_id, "-o", str(repo / "revert.json"), capsys=capsys)
    assert code == 0, err
    code, _, err = run(repo, "apply", str(repo / "revert.json"), capsys=capsys)
    assert code == 0, err
    assert live(repo, "1") == PROFILE_V1


def test_allow_dsp005_writes_locked_profiles(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        repo, "migrate", "plan", "save-v2", "--allow", "DSP005=ticket 991", capsys=capsys
    )
    assert code == 0, err
    assert "Plan: 0 to create, 4 to update" in out
    assert "DSP005 BLOCKING (suppressed: --allow: ticket 991)" in out


def test_bad_migration_is_one_error_naming_file_line_field(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(
        repo,
        {
            "migrations/broken.yaml": (
                "version: 1\nselect: {store: S}\ntransform:\n  - move: {from: x, to: /y}\n"
            )
        },
    )
    code, out, err = run(repo, "migrate", "plan", "broken", capsys=capsys)
    assert code == 1
    assert "Traceback" not in out + err
    assert "migrations/broken.yaml:4:" in err and "DS823" in err and "transform.0.move.from" in err
    (repo / "migrations/broken.yaml").unlink()
    code, _, err = run(repo, "migrate", "plan", "nope", capsys=capsys)
    assert code == 1 and "no migration 'nope'" in err and "(migrations here: save-v2)" in err


def test_shard_plans_combine_to_the_single_plan(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Emulator(db=repo / ".dsgit/emulator.db") as emulator, emulated_client(emulator) as client:
        for user in range(5, 41):
            client.create_entry("PlayerStore", str(user), EntryData(PROFILE_V1, {}, (user,)))
    code, _, err = run(
        repo, "migrate", "plan", "save-v2", "-o", str(repo / "all.json"), capsys=capsys
    )
    assert code == 0, err
    shards = []
    for index in (1, 2, 3):
        path = repo / f"shard{index}.json"
        args = ("migrate", "plan", "save-v2", "--shard", f"{index}/3", "-o", str(path))
        code, _, err = run(repo, *args, capsys=capsys)
        assert code == 0, err
        shards.append(str(path))
    code, _, err = run(
        repo, "plan", "combine", *shards, "-o", str(repo / "combined.json"), capsys=capsys
    )
    assert code == 0, err
    code, out, _ = run(repo, "show", str(repo / "combined.json"), "--format", "json", capsys=capsys)
    assert code == 0
    single = json.loads((repo / "all.json").read_text())
    combined = json.loads(out)
    addresses = sorted(c["address"] for c in single["changes"])
    assert len(addresses) == 39  # 1-3 and 5-40; 4 is held by a game server
    assert sorted(c["address"] for c in combined["changes"]) == addresses
