"""policies/erasure.yaml's user_data_templates planned, applied, drift-checked, reverted and
imported through the DataStoresConfig configs repository, against the in-process emulator;
keys of DataStoresConfig dsgit does not own survive every publish."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dsgit.emulator import Emulator
from dsgit.importer.templates import import_templates
from dsgit.kinds.configs import address_of
from dsgit.plan.codes import DiagnosticCode
from dsgit.plan.io import plan_from_json, plan_to_json
from dsgit.plan.model import Action
from dsgit.planning.usecase import PlanRequest, find_drift
from dsgit.policy.classes import change_classes
from dsgit.policy.model import ChangeClass
from dsgit.remote.testing import emulated_client
from dsgit.repo import load_declaration, read_worktree
from dsgit.undo import RevertRequest, plan_revert
from dsgit.undo.revert import list_applies
from support import LOCAL_CONFIG

from .test_configs_kind import World as ConfigsWorld

REPOSITORY = "DataStoresConfig"
ADDRESS = address_of(REPOSITORY)
PLAYER = {
    "key_template": {
        "data_store_type": "STANDARD",
        "data_store_name": "PlayerData",
        "key_pattern": "Player_{UserId}",
        "scope_pattern": "global",
    }
}
BOARD = {
    "key_template": {
        "data_store_type": "ORDERED",
        "data_store_name": "Leaderboard",
        "key_pattern": "{UserId}",
    }
}
SAVES = {
    "data_store_template": {"data_store_type": "STANDARD", "data_store_pattern": "DATA/{UserId}"}
}
POLICY = """\
version: 1
# what Roblox deletes by itself
user_data_templates:
  - key_template:
      data_store_type: STANDARD
      data_store_name: PlayerData
      key_pattern: "Player_{UserId}"
      scope_pattern: global
  - data_store_template:
      data_store_type: STANDARD
      data_store_pattern: "DATA/{UserId}"
rules:   # run by dsgit
  - name: rosters
    store: Guilds
    keys: "*"
    pointers: [/members]
    action: remove
"""


class World(ConfigsWorld):
    """The configs kind's world, on DataStoresConfig."""

    def live(self) -> dict[str, Any]:
        published = self.client.read_published(REPOSITORY)
        return {key: entry.value for key, entry in published.contents.entries.items()}

    def hub(self, entries: dict[str, Any], rules: dict[str, Any] | None = None) -> None:
        """Publish as Creator Hub would (a PATCH of the draft, then publish)."""
        configs = self.emulator.configs
        body: dict[str, Any] = {"entries": entries}
        if rules is not None:
            body["conditionalRules"] = rules
        staged = configs.stage_from_creator_hub(1, REPOSITORY, body)
        configs.publish(1, REPOSITORY, staged, "hub", "Immediate", self.emulator.now_ticks())


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    emulator = Emulator(db=":memory:")
    (tmp_path / "dsgit.yaml").write_text(LOCAL_CONFIG)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies/erasure.yaml").write_text(POLICY)
    with emulated_client(emulator, universe_id=1) as client:
        yield World(tmp_path, emulator, client)
    emulator.close()


def test_templates_are_planned_as_a_configs_change_and_published_in_roblox_shape(
    world: World,
) -> None:
    plan = world.plan()
    (change,) = plan.changes
    assert change.address == ADDRESS and change.action is Action.UPDATE
    assert any(line.pointer.startswith("/entries/user_data_templates") for line in change.diff)
    codes = {d.code: d.message for d in (*plan.diagnostics, *change.diagnostics)}
    summary = codes[DiagnosticCode.CONFIGS_TEMPLATES]
    assert "adds key template STANDARD PlayerData/global/Player_{UserId}" in summary
    assert "data store template STANDARD DATA/{UserId}" in summary
    assert change_classes(plan)[str(ADDRESS)] >= {ChangeClass.CONFIGS}
    assert world.apply(plan) == 0
    assert world.live() == {"user_data_templates": [PLAYER, SAVES]}  # order kept
    assert not world.plan().has_changes


def test_without_templates_datastoresconfig_is_not_managed(world: World) -> None:
    (world.root / "policies/erasure.yaml").write_text("version: 1\nrules: []\n")
    assert not world.plan().has_changes
    (world.root / "policies/erasure.yaml").unlink()
    assert not world.plan().has_changes


def test_keys_and_rules_dsgit_does_not_own_are_kept(world: World) -> None:
    rules = {"rules": {"r": {"tokens": [{"operator": "NOT"}]}}, "rulesOrder": ["r"]}
    world.hub({"other_setting": {"a": 1}}, rules)
    plan = world.plan()
    (change,) = plan.changes
    assert all(not line.pointer.startswith("/entries/other_setting") for line in change.diff)
    assert all(not line.pointer.startswith("/rules") for line in change.diff)
    kept = [d for d in (*plan.diagnostics, *change.diagnostics) if d.code.value == "DSP065"]
    assert kept and "'other_setting'" in kept[0].message and "1 conditional rule" in kept[0].message
    assert not plan.blocking
    assert world.apply(plan) == 0
    assert world.live() == {"other_setting": {"a": 1}, "user_data_templates": [PLAYER, SAVES]}
    assert list(world.client.read_published(REPOSITORY).contents.rules.order) == ["r"]
    assert not world.plan().has_changes


def test_a_creator_hub_edit_is_drift_planned_back_and_revert_restores(world: World) -> None:
    assert world.apply(world.plan()) == 0
    world.hub({"user_data_templates": [PLAYER, BOARD]})
    report = find_drift(load_declaration(world.root), world.client, PlanRequest("local", 1))
    assert [item.kind for item in report.items] == ["changed"]
    plan = world.plan()
    summary = next(
        d.message
        for d in (*plan.diagnostics, *plan.changes[0].diagnostics)
        if d.code is DiagnosticCode.CONFIGS_TEMPLATES
    )
    assert "adds data store template" in summary and "removes key template ORDERED" in summary
    assert world.apply(plan) == 0
    assert world.live() == {"user_data_templates": [PLAYER, SAVES]}
    run = list_applies(world.root)[-1]
    request = RevertRequest(run.apply_id, "local", 1)
    declaration = load_declaration(world.root)
    revert = plan_revert(world.root, run, world.client, request, declaration=declaration)
    assert world.apply(plan_from_json(plan_to_json(revert), source="r.json")) == 0
    assert world.live() == {"user_data_templates": [PLAYER, BOARD]}


def test_import_writes_the_live_templates_into_the_policy_keeping_the_rest(world: World) -> None:
    world.hub({"user_data_templates": [BOARD, PLAYER], "other_setting": 1})
    done = import_templates(world.client, world.root)
    assert done.templates == 2 and done.action.value == "updated"
    text = (world.root / "policies/erasure.yaml").read_text()
    assert "# what Roblox deletes by itself" in text and "rules:   # run by dsgit" in text
    assert "ORDERED" in text and "DATA/{UserId}" not in text
    assert any("other_setting" in note for note in done.notes)
    assert not world.plan().has_changes
    assert import_templates(world.client, world.root).action.value == "unchanged"


def test_import_names_templates_validate_would_refuse(world: World) -> None:
    bad = {
        "data_store_template": {"data_store_type": "ORDERED", "data_store_pattern": "B_{userid}"}
    }
    world.hub({"user_data_templates": [bad]})
    done = import_templates(world.client, world.root)
    assert any("DS874" in note for note in done.notes)
    assert any("DS873" in note for note in done.notes)
    errors = {p.code for p in read_worktree(world.root).errors}
    assert {"DS873", "DS874"} <= errors


def test_a_broken_policy_declares_no_repository_and_says_where(world: World) -> None:
    text = POLICY.replace("Player_{UserId}", "Player_{userId}")
    (world.root / "policies/erasure.yaml").write_text(text)
    reading = read_worktree(world.root)
    (problem,) = [p for p in reading.errors if p.code == "DS873"]
    assert problem.file == "policies/erasure.yaml" and problem.line == 7
    assert "key_pattern" in problem.message
    assert REPOSITORY not in reading.configs


def test_import_of_more_than_10_templates_notes_the_warning(world: World) -> None:
    many = [
        {"key_template": {**PLAYER["key_template"], "data_store_name": f"S{n}"}} for n in range(11)
    ]
    world.hub({"user_data_templates": many})
    done = import_templates(world.client, world.root)
    assert done.templates == 11
    warned = [note for note in done.notes if "DS878" in note]
    assert len(warned) == 1 and warned[0].startswith("validate will warn: ")
    assert not any(note.startswith("validate will refuse") for note in done.notes)
    assert not world.plan().has_changes  # a warning: the file still declares the repository
