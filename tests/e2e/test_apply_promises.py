"""Regression tests of issue 7's five broken promises, each reproduced alone: `dsgit` in
subprocesses against a served emulator, apply killed exactly where the defect lives (the
test-only DSGIT_TEST_STOP_AT hook), a game server writing through Open Cloud meanwhile."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dsgit.errors import EXIT_CHANGES, EXIT_CONFLICT, EXIT_ERROR, EXIT_OK
from dsgit.model.entry import EntryData
from support import drop_ledger

from .conftest import Repo, _env
from .promises import (
    KILLED,
    apply_records,
    change_records,
    lease,
    make_plan,
    revision_counting_emulator,
    revisions,
    stop_at,
)

pytestmark = pytest.mark.slow


def _shop(repo: Repo) -> None:
    repo.entry("Shop", "sword", {"price": 100})
    repo.entry("Shop", "shield", {"price": 60})
    repo.entry("Config", "motd", "Welcome!")
    repo.commit("shop")


def _apply_id(repo: Repo) -> str:
    journal = next((repo.root / ".dsgit/journal").glob("*.jsonl"))
    return str(json.loads(journal.read_text().splitlines()[0])["apply_id"])


# --- 1. a killed apply never vanishes from the ledger ------------------------------------------
@pytest.mark.parametrize(
    ("cut", "conflict"),
    [
        ("before-ledger", False),
        ("before-ledger", True),
        ("after-ledger", False),
        ("end-without-records", True),  # what the old order left: `end` written, no records
    ],
)
def test_an_apply_killed_at_its_end_is_in_the_ledger_exactly_once(
    tmp_path: Path, cut: str, conflict: bool
) -> None:
    with revision_counting_emulator() as served:
        repo = Repo(tmp_path / "g", served.url)
        _shop(repo)
        with repo.game_server() as game:
            game.create_entry("Config", "motd", EntryData("old"))
            make_plan(repo)
            if conflict:
                game.update_entry("Config", "motd", EntryData("a game server's"))
        expected = EXIT_CONFLICT if conflict else EXIT_OK
        if cut == "end-without-records":
            repo.dsgit("apply", "plan.json", expect=expected)
            with repo.game_server() as game:  # what a kill before the records left
                drop_ledger(repo.root, game, "served")
        else:
            repo.dsgit("apply", "plan.json", env=stop_at(cut), expect=KILLED)
        apply_id = _apply_id(repo)
        if cut != "after-ledger":
            missing = repo.dsgit("audit", "verify", expect=EXIT_ERROR)
            assert f"apply {apply_id} has pre-images" in missing.out
            assert "no record in the ledger" in missing.out
            repo.dsgit("revert", apply_id, expect=EXIT_ERROR)  # not in the ledger yet

        rerun = repo.dsgit("apply", "plan.json", expect=expected)
        assert "already finished; nothing to do" in rerun.out
        repo.dsgit("apply", "plan.json", expect=expected)  # and again: nothing more recorded
        status = "conflict" if conflict else "complete"
        assert apply_records(repo.root) == {(apply_id, status): 1}
        changes = change_records(repo.root)
        assert set(changes.values()) == {1} and len(changes) == 3
        repo.dsgit("audit", "verify")
        revert = repo.dsgit("revert", apply_id, "-o", "r.json")  # in the ledger: revertible
        assert "back to the pre-image" in revert.out or conflict
        with repo.game_server() as game:
            assert lease(game).released  # type: ignore[union-attr]


# --- 2. the environment lock is released in every outcome --------------------------------------
def test_a_rerun_of_a_finished_plan_releases_the_lease_it_still_holds(tmp_path: Path) -> None:
    with revision_counting_emulator() as served:
        repo = Repo(tmp_path / "g", served.url)
        _shop(repo)
        make_plan(repo)
        repo.dsgit("apply", "plan.json", env=stop_at("before-release"), expect=KILLED)
        with repo.game_server() as game:
            held = lease(game)
            assert held is not None and not held.released
        status = repo.dsgit("lock", "status", expect=EXIT_CHANGES)
        assert status.out.startswith("held: ") and "this repository's" in status.out
        rerun = repo.dsgit("apply", "plan.json")
        assert "already finished" in rerun.out
        assert repo.dsgit("lock", "status").out.startswith("released: ")
        # the next plan applies at once, without --break-lock
        repo.entry("Shop", "bow", {"price": 70})
        repo.commit("bow")
        make_plan(repo, "next.json")
        repo.dsgit("apply", "next.json")


def test_a_release_that_fails_exits_1_saying_what_to_do(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    go = tmp_path / "go"
    with revision_counting_emulator("--db", str(db)) as served:
        repo = Repo(tmp_path / "g", served.url)
        _shop(repo)
        make_plan(repo)
        apply = subprocess.Popen(
            [sys.executable, "-m", "dsgit", "apply", "plan.json"],
            cwd=repo.root,
            env={**_env(), **stop_at(f"before-release+wait:{go}")},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not go.with_name("go.reached").exists():
            assert apply.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    go.touch()  # the service is gone now: the release cannot reach it
    out, err = apply.communicate(timeout=120)
    assert apply.returncode == EXIT_ERROR, out + err
    assert "Apply complete: 3 written" in out
    assert "could not release the environment lock" in err and "dsgit lock release" in err
    port = served.url.rsplit(":", 1)[1]
    with revision_counting_emulator("--db", str(db), "--port", port):
        assert repo.dsgit("lock", "status", expect=EXIT_CHANGES).out.startswith("held: ")
        released = json.loads(repo.dsgit("lock", "release", "--format", "json").out)
        # status: the lease as read; released_now: what this command did
        assert released["status"] == "held" and released["released_now"] is True
        assert repo.dsgit("lock", "status").out.startswith("released: ")
        status = json.loads(repo.dsgit("lock", "status", "--format", "json").out)
        assert status["status"] == "released" and status["released_now"] is False


def test_another_repositorys_lease_is_released_only_with_break_lock(tmp_path: Path) -> None:
    with revision_counting_emulator() as served:
        repo = Repo(tmp_path / "g", served.url)
        _shop(repo)
        make_plan(repo)
        repo.dsgit("apply", "plan.json", env=stop_at("before-release"), expect=KILLED)
        other = Repo(tmp_path / "other", served.url)  # another checkout: not its lease
        refused = other.dsgit("lock", "release", expect=EXIT_ERROR)
        assert "not this repository's" in refused.err and "--break-lock" in refused.err
        broke = other.dsgit("lock", "release", "--break-lock")
        assert broke.out.startswith("broke and released the environment lock")
        log = other.dsgit("audit", "log").out
        assert "lock-break env=served live lease of e2e" in log
        # The first checkout's records are in the universe's chain but not in this checkout:
        # missing (until merged), never tampered; the lock-break record extends that chain.
        verified = other.dsgit("audit", "verify", "--allow-missing")
        assert "none tampered" in verified.out


# --- 3. a create is never repeated over a game server's delete ---------------------------------
def test_a_resumed_create_that_landed_and_was_deleted_is_a_conflict(tmp_path: Path) -> None:
    with revision_counting_emulator() as served:
        repo = Repo(tmp_path / "g", served.url)
        _shop(repo)
        make_plan(repo)
        kill = stop_at("after-write:Shop/global/sword")
        repo.dsgit("apply", "plan.json", "--workers", "1", env=kill, expect=KILLED)
        with repo.game_server() as game:
            assert revisions(game, "Shop", "sword") == ["ACTIVE"]  # the create landed
            game.delete_entry("Shop", "sword")  # and a game server deleted it
            resumed = repo.dsgit("apply", "plan.json", expect=EXIT_CONFLICT)
            assert "Shop/global/sword" in resumed.out and "newer than the plan" in resumed.out
            assert revisions(game, "Shop", "sword") == ["ACTIVE", "DELETED"]  # not re-created
            assert game.get_entry("Shop", "sword") is None
            assert revisions(game, "Shop", "shield") == ["ACTIVE"]  # the rest was applied


def test_a_resumed_create_whose_write_never_left_is_made_once(tmp_path: Path) -> None:
    with revision_counting_emulator() as served:
        repo = Repo(tmp_path / "g", served.url)
        _shop(repo)
        make_plan(repo)
        kill = stop_at("after-intent:Shop/global/sword")
        repo.dsgit("apply", "plan.json", "--workers", "1", env=kill, expect=KILLED)
        repo.dsgit("apply", "plan.json")
        with repo.game_server() as game:
            assert revisions(game, "Shop", "sword") == ["ACTIVE"]


def test_an_entry_created_and_deleted_since_the_plan_is_not_created(tmp_path: Path) -> None:
    with revision_counting_emulator() as served:
        repo = Repo(tmp_path / "g", served.url)
        _shop(repo)
        make_plan(repo)
        with repo.game_server() as game:
            game.create_entry("Shop", "sword", EntryData({"price": 1}))
            game.delete_entry("Shop", "sword")
            applied = repo.dsgit("apply", "plan.json", expect=EXIT_CONFLICT)
            assert "Shop/global/sword" in applied.out
            assert revisions(game, "Shop", "sword") == ["ACTIVE", "DELETED"]


# --- 4. undo never deletes seed entries ----------------------------------------------------------
def test_revert_and_restore_never_delete_a_seed_entry(tmp_path: Path) -> None:
    with revision_counting_emulator() as served:
        repo = Repo(tmp_path / "g", served.url)
        repo.write("datastores/Defaults/_store.yaml", {"ownership": "seed"})
        repo.entry("Defaults", "profile", {"coins": 0})
        repo.commit("seed")
        before = time.time()
        time.sleep(1.1)  # restore --at takes whole seconds: be after `before` for certain
        make_plan(repo)
        repo.dsgit("apply", "plan.json")
        apply_id = _apply_id(repo)
        with repo.game_server() as game:  # a game server makes the entry its own
            game.update_entry("Defaults", "profile", EntryData({"coins": 250}))

        revert = repo.dsgit("revert", apply_id, "--format", "json", "-o", "revert.json")
        document = json.loads((repo.root / "revert.json").read_text())
        assert document["changes"] == [] or all(
            c["actions"] != ["delete"] for c in document["changes"]
        )
        assert "DSP046" in revert.out
        repo.dsgit("apply", "revert.json")
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(before))
        restore = repo.dsgit("restore", "--at", at, "--format", "json", "-o", "restore.json")
        assert "DSP046" in restore.out
        restored = json.loads((repo.root / "restore.json").read_text())
        assert all(c["actions"] != ["delete"] for c in restored["changes"])
        with repo.game_server() as game:
            assert game.get_entry("Defaults", "profile").value == {"coins": 250}  # type: ignore[union-attr]


# --- 5. counters: deleted since the plan is a conflict; a concurrent set is not ---------------
def test_counters_deleted_since_the_plan_are_not_recreated(tmp_path: Path) -> None:
    with revision_counting_emulator() as served:
        repo = Repo(tmp_path / "g", served.url)
        repo.write("datastores/Stats/_store.yaml", {"counters": ["c*"]})
        repo.write("ordered/Board/_store.yaml", {"counters": ["*"]})
        repo.write("ordered/Board/global.yaml", {"wins": 15})
        for n in range(3):
            repo.entry("Stats", f"c{n}", 15)
        repo.commit("counters")
        with repo.game_server() as game:
            for n in range(3):
                game.create_entry("Stats", f"c{n}", EntryData(10))
            game.create_ordered("Board", "wins", 10)
            plan = make_plan(repo)
            assert {c["actions"][0] for c in plan["changes"]} == {"increment"}  # type: ignore[attr-defined,index]
            game.delete_entry("Stats", "c0")  # deleted by the game after the plan
            game.delete_ordered("Board", "wins")
            game.update_entry("Stats", "c1", EntryData(100))  # set by the game after the plan
            applied = repo.dsgit("apply", "plan.json", expect=EXIT_CONFLICT)
            assert "Stats/global/c0: deleted since the plan" in applied.out
            assert "ordered:Board/global/wins: deleted since the plan" in applied.out
            assert game.get_entry("Stats", "c0") is None
            assert revisions(game, "Stats", "c0") == ["ACTIVE", "DELETED"]
            assert game.get_ordered("Board", "wins") is None
            assert game.get_entry("Stats", "c1").value == 105  # type: ignore[union-attr]
            assert game.get_entry("Stats", "c2").value == 15  # type: ignore[union-attr]


# --- 6. a burst of 429s delays plan and apply, never fails them --------------------------------
def test_a_burst_of_ten_429s_does_not_fail_plan_or_apply(tmp_path: Path) -> None:
    # seeded: bursts of ten 429s (Retry-After: 1) start on about one request in twelve, so the
    # plan's listing and the apply's one-at-a-time lock steps each meet one
    with revision_counting_emulator("--faults", "burst429=10@0.08,seed=4") as served:
        repo = Repo(tmp_path / "g", served.url)
        _shop(repo)
        make_plan(repo)
        repo.dsgit("apply", "plan.json", "--workers", "1")
        with repo.game_server() as game:
            assert lease(game).released  # type: ignore[union-attr]
