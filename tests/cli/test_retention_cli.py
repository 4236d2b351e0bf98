"""``dsgit retention plan`` end to end on the embedded emulator: plan, show, apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.emulator import Emulator
from dsgit.errors import EXIT_ERROR, EXIT_OK
from dsgit.remote.testing import emulated_client
from live_fixtures import NOW, seed_datastore2, seed_profiles
from support import LOCAL_CONFIG, invoke_cli, run_git, write_files

POLICY = """version: 1
rules:
  - name: inactive-profiles
    store: PlayerStore
    older_than: 730d
    timestamp: /MetaData/LastUpdate
    action: delete
    max_deletes: 100
  - name: old-backups
    kind: ordered
    store: DATA/*
    action: delete_below
    below: 2
"""


@pytest.fixture
def game(repo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DSGIT_ACTOR", "tester")
    write_files(
        repo_dir,
        {
            "dsgit.yaml": LOCAL_CONFIG,
            ".gitignore": ".dsgit/\nplans/\n",
            "policies/retention.yaml": POLICY,
        },
    )
    run_git(repo_dir, "init", "--quiet")
    run_git(repo_dir, "add", "--all")
    run_git(repo_dir, "commit", "--quiet", "-m", "retention")
    (repo_dir / ".dsgit").mkdir()
    emulator = Emulator(db=repo_dir / ".dsgit/emulator.db", ccu=None)
    with emulated_client(emulator, universe_id=1) as client:
        seed_profiles(client, 20)
        seed_datastore2(client, range(7, 9), saves=2)
    emulator.close()
    return repo_dir


def _dsgit(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return invoke_cli(["-C", str(root), *args], capsys)


def test_plan_show_apply(game: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The fixture's profiles were saved relative to NOW; the rules measure from the real now,
    # which is later, so the 800-day-old profiles are old enough either way.
    assert NOW < 2_000_000_000
    code, out, err = _dsgit(game, capsys, "retention", "plan", "-o", "plans/r.json")
    assert code == EXIT_OK, out + err
    assert "retention rule inactive-profiles" in out
    assert "DSP070" in out  # user 20 is locked and 800 days old: left out
    plan = json.loads((game / "plans/r.json").read_text())
    assert plan["kind"] == "retention"
    addresses = sorted(change["address"] for change in plan["changes"])
    assert addresses == [
        "PlayerStore/global/12",
        "PlayerStore/global/16",
        "PlayerStore/global/4",
        "PlayerStore/global/8",
        "ordered:DATA%2F7/global/1",
        "ordered:DATA%2F8/global/1",
    ]
    assert not (game / ".dsgit/scans/retention-local.json").exists()  # finished: removed
    code, out, err = _dsgit(game, capsys, "show", "plans/r.json")
    assert code == EXIT_OK and "inactive-profiles" in out
    code, out, err = _dsgit(game, capsys, "apply", "plans/r.json")
    assert code == EXIT_OK, out + err
    code, out, err = _dsgit(game, capsys, "retention", "plan", "inactive-profiles")
    assert code == EXIT_OK, out + err
    assert "0 deletions planned" in out or "No changes" in out


def test_unknown_rule_and_bad_policy(game: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _dsgit(game, capsys, "retention", "plan", "nope")
    assert code == EXIT_ERROR
    assert "no retention rule named 'nope'" in err and "inactive-profiles" in err
    (game / "policies/retention.yaml").write_text(POLICY.replace("below: 2", "below: two"))
    code, _, err = _dsgit(game, capsys, "retention", "plan")
    assert code == EXIT_ERROR and "policies/retention.yaml:13:12" in err and "DS801" in err
    assert "Traceback" not in err
    code, out, _ = _dsgit(game, capsys, "validate")
    assert code == EXIT_ERROR and "policies/retention.yaml:13:12:" in out and "DS801" in out


def test_bad_shard(game: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _dsgit(game, capsys, "retention", "plan", "--shard", "5/4")
    assert code != EXIT_OK and "shard 5 is not one of 1..4" in err


def test_four_shard_plans_combine_to_the_single_plan(
    game: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _dsgit(game, capsys, "retention", "plan", "-o", "plans/all.json")
    assert code == EXIT_OK, out + err
    single = json.loads((game / "plans/all.json").read_text())
    for index in range(1, 5):
        code, out, err = _dsgit(
            game, capsys, "retention", "plan", "--shard", f"{index}/4", "-o", f"plans/{index}.json"
        )
        assert code == EXIT_OK, out + err
    shards = [f"plans/{index}.json" for index in range(1, 5)]
    code, out, err = _dsgit(game, capsys, "plan", "combine", *shards, "-o", "plans/combined.json")
    assert code == EXIT_OK, out + err
    from dsgit.planfile.read import SegmentedPlan, read_any_plan

    combined = read_any_plan(game / "plans/combined.json")
    assert isinstance(combined, SegmentedPlan)
    addresses = sorted(str(change.address) for change in combined.changes())
    assert addresses == sorted(change["address"] for change in single["changes"])
