"""``plan_rollback``: the declaration of an old commit, planned against live data."""

from __future__ import annotations

from pathlib import Path

from dsgit.model.entry import Address, EntryData
from dsgit.planning.usecase import LedgerLookup, PlanRequest
from dsgit.repo import load_declaration, load_declaration_at
from dsgit.undo import plan_rollback

from .gitrepo import GitRepo
from .world import UNIVERSE, World

SWORD = Address.standard("Shop", "sword")
BOW = Address.standard("Shop", "bow")
MOTD = Address.standard("Config", "motd")


def _apply_head(repo: GitRepo, world: World) -> None:
    declared = load_declaration(repo.root)
    assert world.apply(world.plan(declared), declared).exit_code == 0


def test_rollback_plans_the_old_declaration(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    world = World(repo.root)
    repo.write_entry("Shop", "sword", {"price": 100})
    repo.write_entry("Config", "motd", "hello")
    first = repo.commit("first")
    _apply_head(repo, world)
    repo.write_entry("Shop", "sword", {"price": 150})
    repo.write_entry("Shop", "bow", {"price": 70})
    repo.write_entry("Config", "motd", "sale!")
    repo.commit("second")
    _apply_head(repo, world)

    then = load_declaration_at(repo.root, first[:8])
    plan = plan_rollback(
        then,
        world.client,
        PlanRequest("local", UNIVERSE),
        current=load_declaration(repo.root),
        ledger=LedgerLookup(repo.root),
    )
    assert plan.kind == "rollback"
    assert plan.context == {"to_commit": first}
    assert plan.source.commit == first and not plan.source.dirty
    assert {str(c.address): c.action.value for c in plan.changes} == {
        "Config/global/motd": "update",
        "Shop/global/sword": "update",
    }
    (kept,) = [d for d in plan.diagnostics if d.code == "DSP045"]
    assert "Shop/global/bow" in kept.message and kept.count == 1

    # apply checks the plan against the declaration at its source commit, as `dsgit apply` does
    assert world.apply(plan, load_declaration_at(repo.root, first)).exit_code == 0
    assert world.live(SWORD) == EntryData({"price": 100})
    assert world.live(MOTD) == EntryData("hello")
    assert world.live(BOW) == EntryData({"price": 70})
    world.close()


def test_rollback_prunes_what_the_old_store_prunes(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    world = World(repo.root)
    repo.write_store(
        "Shop",
        {"prune": True, "suppress": [{"code": "DSP002", "reason": "git owns the shop"}]},
    )
    repo.write_entry("Shop", "sword", {"price": 100})
    first = repo.commit("first")
    _apply_head(repo, world)
    repo.write_entry("Shop", "bow", {"price": 70})
    repo.commit("second")
    _apply_head(repo, world)

    then = load_declaration_at(repo.root, first)
    plan = plan_rollback(
        then, world.client, PlanRequest("local", UNIVERSE), current=load_declaration(repo.root)
    )
    assert [(str(c.address), c.action.value) for c in plan.changes] == [
        ("Shop/global/bow", "delete")
    ]
    assert not [d for d in plan.diagnostics if d.code == "DSP045"]
    assert plan.applicable
    world.apply(plan, then)
    assert world.live(BOW) is None
    world.close()


def test_rollback_never_prunes_an_entry_the_declaration_now_makes_seed(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    world = World(repo.root)
    pruned = {"prune": True, "suppress": [{"code": "DSP002", "reason": "git owns it"}]}
    repo.write_store("Shop", pruned)
    repo.write_entry("Shop", "sword", {"price": 100})
    first = repo.commit("first")
    _apply_head(repo, world)
    repo.write_store("Shop", {"ownership": "seed"})
    repo.write_entry("Shop", "bow", {"price": 70})
    repo.commit("second: a seed store now")
    _apply_head(repo, world)

    then = load_declaration_at(repo.root, first)
    plan = plan_rollback(
        then, world.client, PlanRequest("local", UNIVERSE), current=load_declaration(repo.root)
    )
    assert plan.changes == ()  # the old prune of bow is left out
    (kept,) = [d for d in plan.diagnostics if d.code == "DSP046"]
    assert "Shop/global/bow" in kept.message and "seed" in kept.message
    assert plan.summary["delete"] == 0
