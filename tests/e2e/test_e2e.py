"""The dsgit CLI, in subprocesses, against a served emulator over HTTP (DESIGN.md §3)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from dsgit.errors import (
    EXIT_CHANGES,
    EXIT_CONFLICT,
    EXIT_OK,
    EXIT_POLICY,
    EXIT_STALE,
)
from dsgit.model.entry import EntryData

from .conftest import Repo

pytestmark = pytest.mark.slow

PRUNED = {
    "prune": True,
    "suppress": [{"code": "DSP002", "reason": "the shop is git's; unknown items go"}],
}


def _start(repo: Repo) -> str:
    """The first commit of a small game, applied; returns the commit."""
    repo.write("datastores/Shop/_store.yaml", PRUNED)
    repo.write("datastores/Bans/_store.yaml", {"prune": True, "sensitive": ["/note"]})
    repo.entry("Shop", "sword", {"price": 100, "name": "Sword"}, attributes={"tier": "common"})
    repo.entry("Shop", "shield", {"price": 60, "name": "Shield"})
    repo.entry("Bans", "261", {"reason": "exploiting", "note": "canary-note-e2e"}, users=[261])
    repo.entry("Config", "motd", "Welcome!")
    commit = repo.commit("first")
    repo.dsgit("validate")
    plan = repo.dsgit("plan", "--detailed-exitcode", "-o", "plans/first.json", expect=EXIT_CHANGES)
    assert "4 to create" in plan.out
    assert "canary-note-e2e" not in plan.out
    assert "canary-note-e2e" not in (repo.root / "plans/first.json").read_text()
    shown = repo.dsgit("show", "plans/first.json", "--format", "markdown")
    assert "Shop/global/sword" in shown.out
    applied = repo.dsgit("apply", "plans/first.json")
    assert "Apply complete: 4 written" in applied.out
    return commit


def test_plan_apply_read_and_audit(repo: Repo) -> None:
    _start(repo)
    again = repo.dsgit("plan", "--detailed-exitcode", "--format", "json", expect=EXIT_OK)
    document = json.loads(again.out)
    assert document["kind"] == "plan" and not any(
        change["actions"] != ["no-op"] for change in document["changes"]
    )
    assert repo.dsgit("drift", expect=EXIT_OK).code == EXIT_OK

    stores = repo.dsgit("ls").out.split()
    assert {"Bans", "Config", "Shop"} <= set(stores)  # and _dsgit, where the apply lock lives
    assert repo.dsgit("ls", "Shop").out.split() == ["shield", "sword"]
    got = json.loads(repo.dsgit("get", "Shop", "sword", "--format", "json").out)
    assert got["value"] == {"price": 100, "name": "Sword"}
    assert "canary-note-e2e" not in repo.dsgit("get", "Bans", "261").out
    assert len(repo.dsgit("history", "Shop", "sword").out.strip().splitlines()) >= 1

    with repo.game_server() as server:
        server.update_entry("Config", "motd", EntryData("Hacked!"))
    drift = repo.dsgit("drift", expect=EXIT_CHANGES)
    assert "Config/global/motd" in drift.out

    verified = repo.dsgit("audit", "verify")
    assert "valid" in verified.out
    log = repo.dsgit("audit", "log", "--store", "Shop")
    assert "Shop/global/sword" in log.out and "Bans" not in log.out


def test_apply_refuses_conflicts_tampering_and_blocked_plans(repo: Repo) -> None:
    _start(repo)
    repo.entry("Shop", "sword", {"price": 120, "name": "Sword"}, attributes={"tier": "common"})
    repo.entry("Config", "motd", "Sale!")
    repo.commit("sale")
    repo.dsgit("plan", "-o", "plans/sale.json")

    # tampered: one byte changed -> stale (4), nothing written
    data = (repo.root / "plans/sale.json").read_bytes()
    (repo.root / "plans/tampered.json").write_bytes(data.replace(b'"price":120', b'"price":121'))
    repo.dsgit("apply", "plans/tampered.json", expect=EXIT_STALE)
    repo.dsgit("show", "plans/tampered.json", expect=EXIT_STALE)

    # a game server writes between plan and apply: conflict (5), its value survives
    with repo.game_server() as server:
        server.update_entry("Shop", "sword", EntryData({"price": 90, "name": "Sword"}))
    conflict = repo.dsgit("apply", "plans/sale.json", expect=EXIT_CONFLICT)
    assert "conflict" in conflict.out and "Shop/global/sword" in conflict.out
    got = json.loads(repo.dsgit("get", "Shop", "sword", "--format", "json").out)
    assert got["value"]["price"] == 90
    assert json.loads(repo.dsgit("get", "Config", "motd", "--format", "json").out)["value"] == (
        "Sale!"
    )

    # a ban added by hand is pruned, which blocks until suppressed: refused (3)
    with repo.game_server() as server:
        server.create_entry("Bans", "999", EntryData({"reason": "spam", "note": "x"}))
    blocked = repo.dsgit("plan", "-o", "plans/blocked.json")
    assert "DSP002" in blocked.out and "apply would refuse" in blocked.out
    refused = repo.dsgit("apply", "plans/blocked.json", expect=EXIT_POLICY)
    assert "DSP002" in refused.err
    with repo.game_server() as server:
        assert server.get_entry("Bans", "999") is not None


def test_rollback_revert_and_restore(repo: Repo) -> None:
    first = _start(repo)
    repo.entry("Shop", "sword", {"price": 150, "name": "Sword"}, attributes={"tier": "rare"})
    repo.entry("Shop", "bow", {"price": 70, "name": "Bow"})
    repo.commit("second")
    repo.dsgit("plan", "-o", "plans/second.json")
    repo.dsgit("apply", "plans/second.json")

    rollback = repo.dsgit(
        "rollback",
        "--to",
        first[:10],
        "-o",
        "plans/rollback.json",
        "--detailed-exitcode",
        expect=EXIT_CHANGES,
    )
    assert "dsgit rollback" in rollback.out and "Shop/global/bow  delete" in rollback.out
    repo.dsgit("apply", "plans/rollback.json")
    sword = json.loads(repo.dsgit("get", "Shop", "sword", "--format", "json").out)
    assert sword["value"]["price"] == 100 and sword["attributes"] == {"tier": "common"}
    assert repo.dsgit("ls", "Shop").out.split() == ["shield", "sword"]

    # revert the rollback: the second commit's values come back, the bow is re-created
    last = [line for line in repo.dsgit("audit", "log").out.splitlines() if " apply " in line]
    apply_id = last[-1].split(" apply ")[1].split()[0]
    revert = repo.dsgit("revert", apply_id[:18], "-o", "plans/revert.json", "--format", "json")
    assert json.loads(revert.out)["kind"] == "revert"
    repo.dsgit("apply", "plans/revert.json")
    assert repo.dsgit("ls", "Shop").out.split() == ["bow", "shield", "sword"]
    sword = json.loads(repo.dsgit("get", "Shop", "sword", "--format", "json").out)
    assert sword["value"]["price"] == 150

    # restore: a game server breaks the message of the day; put back what it was before
    time.sleep(0.05)
    before = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    time.sleep(0.05)
    with repo.game_server() as server:
        server.update_entry("Config", "motd", EntryData("broken"))
    restore = repo.dsgit(
        "restore",
        "--at",
        before,
        "--store",
        "Config",
        "-o",
        "plans/restore.json",
        "--detailed-exitcode",
        expect=EXIT_CHANGES,
    )
    assert '~ /: "broken" -> "Welcome!"' in restore.out
    repo.dsgit("apply", "plans/restore.json")
    motd = json.loads(repo.dsgit("get", "Config", "motd", "--format", "json").out)
    assert motd["value"] == "Welcome!"
    assert repo.dsgit("audit", "verify").code == 0
