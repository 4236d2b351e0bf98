"""The configs kind in process: import → edit → plan → apply → re-plan, the draft and lock
checks at plan and apply time, a resumed apply that publishes once, and revert."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from configs_fixtures import ENTRIES, REPOSITORY, RULES, publish_live, start_experiment
from dsgit.apply.run import ApplyDeps, apply_plan
from dsgit.config import Environment
from dsgit.emulator import Emulator
from dsgit.importer.configs import import_configs
from dsgit.kinds.configs import address_of
from dsgit.plan.allow import allow
from dsgit.plan.codes import DiagnosticCode
from dsgit.plan.io import plan_from_json, plan_to_json, with_digest
from dsgit.plan.model import Action, Allowance, ConfigsPrecondition, Plan
from dsgit.planning.usecase import PlanRequest, make_plan
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import emulated_client
from dsgit.render.json import render_json
from dsgit.render.markdown import render_markdown
from dsgit.render.text import render_text
from dsgit.repo import load_declaration
from dsgit.undo import RevertRequest, plan_revert
from dsgit.undo.revert import list_applies
from dsgit.yamlio.document import dump_document, from_plain
from support import LOCAL_CONFIG

FILE = f"configs/{REPOSITORY}.yaml"
ADDRESS = address_of(REPOSITORY)
ENV = Environment(name="local", universe_id=1, url="http://emulator.test")


@dataclass
class World:
    root: Path
    emulator: Emulator
    client: OpenCloudClient

    def plan(self) -> Plan:
        made = make_plan(load_declaration(self.root), self.client, PlanRequest("local", 1))
        return plan_from_json(plan_to_json(made), source="plan.json")

    def apply(self, plan: Plan) -> int:
        deps = ApplyDeps(self.root, ENV, self.client, load_declaration(self.root), "t")
        return apply_plan(plan, deps).exit_code

    def edit(self, change: Any) -> None:
        path = self.root / FILE
        document = yaml.safe_load(path.read_text())
        change(document)
        path.write_text(dump_document(from_plain(document)))

    def rules(self) -> str:
        """The published conditional rules exactly as the wire has them."""
        return json.dumps(self.emulator.configs.read(1, REPOSITORY).published["rules"])

    def versions(self) -> int:
        return len(self.emulator.configs.revisions(1, REPOSITORY))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    emulator = Emulator(db=":memory:")
    publish_live(emulator)
    (tmp_path / "dsgit.yaml").write_text(LOCAL_CONFIG)
    with emulated_client(emulator, universe_id=1) as client:
        import_configs(client, tmp_path)
        yield World(tmp_path, emulator, client)
    emulator.close()


def _price(value: int) -> Any:
    def change(document: dict[str, Any]) -> None:
        document["entries"]["shop.sword_price"]["value"] = value

    return change


def test_an_imported_repository_plans_nothing(world: World) -> None:
    plan = world.plan()
    assert not plan.has_changes, render_text(plan)
    assert not plan.blocking


def test_one_value_changed_is_planned_applied_and_the_rules_survive(world: World) -> None:
    rules = world.rules()
    world.edit(_price(500))
    plan = world.plan()
    (change,) = plan.changes
    assert change.address == ADDRESS and change.action is Action.UPDATE
    assert isinstance(change.precondition, ConfigsPrecondition)
    assert change.precondition.config_version == 1
    pointers = [(line.pointer, line.old, line.new) for line in change.diff]
    assert pointers == [("/entries/shop.sword_price/value", 400, 500)]
    markdown = render_markdown(plan)
    assert "configs:InExperienceConfig/publish" in markdown
    assert "/entries/shop.sword_price/value" in markdown and "500" in markdown
    assert "Immediate" in markdown and "DSP063" in markdown
    assert "/entries/shop.sword_price/value" in render_text(plan)
    assert "DSP063" in render_json(plan)
    assert not plan.blocking

    assert world.apply(plan) == 0
    published = world.client.read_published(REPOSITORY)
    assert published.version == 2
    assert published.contents.entries["shop.sword_price"].value == 500
    assert dict(published.contents.entries["shop.sword_price"].variants) == {
        "payers": 300,
        "brazil": 350,
    }
    assert world.rules() == rules  # byte for byte
    newest = world.emulator.configs.revisions(1, REPOSITORY)[-1]
    assert newest.message is not None and newest.message.startswith("dsgit plan")
    assert not world.plan().has_changes


def test_conditional_values_rules_order_and_descriptions_diff_per_line(world: World) -> None:
    def change(document: dict[str, Any]) -> None:
        entry = document["entries"]["shop.sword_price"]
        entry["conditional"]["payers"] = 250
        document["entries"]["motd"]["description"] = "Shown on join"
        document["conditions"].reverse()
        document["publish"] = {"strategy": "GradualRollout"}

    world.edit(change)
    plan = world.plan()
    (planned,) = plan.changes
    pointers = {line.pointer for line in planned.diff}
    assert "/entries/shop.sword_price/conditional/payers" in pointers
    assert not any("description" in p for p in pointers)  # no publish writes one
    (hub,) = [
        d for d in plan.diagnostics if d.code is DiagnosticCode.CONFIGS_DESCRIPTION_NOT_PUBLISHED
    ]
    assert "'motd'" in hub.message and "Shown on join" in hub.message
    assert any(p.startswith("/rulesOrder") for p in pointers)
    assert "GradualRollout" in render_markdown(plan)
    assert world.apply(plan) == 0
    published = world.client.read_published(REPOSITORY)
    assert published.contents.rules.order == ("payers", "brazil")
    assert world.emulator.configs.revisions(1, REPOSITORY)[-1].strategy == "GradualRollout"
    again = world.plan()
    assert not again.has_changes and not again.blocking


def test_a_creator_hub_draft_blocks_the_plan_and_one_staged_after_it_makes_apply_refuse(
    world: World,
) -> None:
    world.edit(_price(500))
    plan = world.plan()
    world.emulator.configs.stage_from_creator_hub(1, REPOSITORY, {"entries": {"motd": "Hi"}}, {})
    before = world.versions()
    assert world.apply(plan) == 5
    assert world.versions() == before
    assert world.client.read_published(REPOSITORY).contents.entries["motd"].value == "Welcome!"
    assert world.client.read_draft(REPOSITORY).values == {"motd": "Hi"}  # untouched

    again = world.plan()
    (staged,) = [d for d in again.blocking if d.code is DiagnosticCode.CONFIGS_DRAFT_STAGED]
    assert "motd" in staged.message


def test_a_staged_draft_allowed_with_a_reason_is_overwritten_by_the_whole_repository(
    world: World,
) -> None:
    rules = world.rules()
    world.emulator.configs.stage_from_creator_hub(1, REPOSITORY, {"entries": {"motd": "Hi"}}, {})
    world.edit(_price(500))
    blocked = world.plan()
    assert [d.code for d in blocked.blocking] == [DiagnosticCode.CONFIGS_DRAFT_STAGED]
    allowed = with_digest(allow(blocked, (Allowance("DSP060", "hub edit was a test"),)))
    assert not allowed.blocking
    assert world.apply(allowed) == 0
    published = world.client.read_published(REPOSITORY).contents
    assert published.entries["motd"].value == "Welcome!"  # the draft's edit did not ride along
    assert published.entries["shop.sword_price"].value == 500
    assert world.rules() == rules
    assert not world.plan().has_changes


def test_a_locked_key_is_refused_at_plan_and_at_apply(world: World) -> None:
    world.edit(_price(500))
    plan = world.plan()
    start_experiment(world.emulator, "shop.sword_price", 1)
    assert world.apply(plan) == 5
    assert world.client.read_published(REPOSITORY).version == 1
    locked = world.plan()
    codes = {d.code for d in locked.blocking}
    assert DiagnosticCode.CONFIGS_KEY_LOCKED in codes


def test_an_environment_override_of_a_key_is_what_that_environment_publishes(
    world: World,
) -> None:
    def change(document: dict[str, Any]) -> None:
        document["entries"]["shop.sword_price"]["environments"] = {"local": 9}

    world.edit(change)
    (planned,) = world.plan().changes
    assert [(d.pointer, d.new) for d in planned.diff] == [("/entries/shop.sword_price/value", 9)]
    assert world.apply(world.plan()) == 0
    published = world.client.read_published(REPOSITORY).contents
    assert published.entries["shop.sword_price"].value == 9
    assert dict(published.entries["shop.sword_price"].variants) == {"payers": 300, "brazil": 350}
    assert not world.plan().has_changes


def test_removing_a_key_is_destructive(world: World) -> None:
    def change(document: dict[str, Any]) -> None:
        del document["entries"]["motd"]

    world.edit(change)
    plan = world.plan()
    (removed,) = plan.blocking
    assert removed.code is DiagnosticCode.CONFIGS_KEY_REMOVED and "'motd'" in removed.message
    assert plan.destructive


def test_revert_publishes_the_repository_as_it_was(world: World) -> None:
    rules = world.rules()
    world.edit(_price(500))
    assert world.apply(world.plan()) == 0
    run = list_applies(world.root)[-1]
    request = RevertRequest(run.apply_id, "local", 1)
    declaration = load_declaration(world.root)
    revert = plan_revert(world.root, run, world.client, request, declaration=declaration)
    (change,) = revert.changes
    assert [(d.pointer, d.old, d.new) for d in change.diff] == [
        ("/entries/shop.sword_price/value", 500, 400)
    ]
    assert world.apply(plan_from_json(plan_to_json(revert), source="r.json")) == 0
    published = world.client.read_published(REPOSITORY)
    assert published.version == 3
    assert published.contents.entries["shop.sword_price"].value == 400
    assert world.rules() == rules
    assert set(ENTRIES) >= set(published.contents.entries)
    assert RULES["rulesOrder"] == list(published.contents.rules.order)


# --- property: plan -> apply -> plan is empty ----------------------------------------------------

_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8
)
_values = {
    "string": _text,
    "number": st.integers(-(2**31), 2**31),
    "boolean": st.booleans(),
    "json": st.dictionaries(_text, st.integers(-9, 9) | _text | st.booleans(), max_size=3),
}
_ids = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
_rule = st.fixed_dictionaries(
    {
        "tokens": st.lists(
            st.one_of(
                st.fixed_dictionaries({"operator": st.sampled_from(["EQUALS", "AND", "NOT"])}),
                st.fixed_dictionaries(
                    {"operand": st.fixed_dictionaries({"attributeReference": _text})}
                ),
            ),
            min_size=1,
            max_size=3,
        )
    }
)


@st.composite
def config_files(draw: Any) -> dict[str, Any]:
    """A configs/InExperienceConfig.yaml document with conditions and conditional values."""
    rule_ids = draw(st.lists(_ids, unique=True, max_size=4))
    entries: dict[str, Any] = {}
    for key in draw(st.lists(_ids.map(lambda k: f"k.{k}"), unique=True, max_size=5)):
        kind = draw(st.sampled_from(sorted(_values)))
        entry: dict[str, Any] = {"type": kind, "value": draw(_values[kind])}
        chosen = (
            draw(st.lists(st.sampled_from(rule_ids), unique=True, max_size=3)) if rule_ids else []
        )
        if chosen:
            entry["conditional"] = {rule: draw(_values[kind]) for rule in chosen}
        entries[key] = entry
    return {
        "repository": REPOSITORY,
        "publish": {"strategy": draw(st.sampled_from(["Immediate", "GradualRollout"]))},
        "conditions": [{"id": rule, "rule": draw(_rule)} for rule in rule_ids],
        "entries": entries,
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=config_files(), second=config_files())
def test_plan_apply_plan_is_empty_for_random_repositories(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    emulator = Emulator(db=":memory:")
    with (
        tempfile.TemporaryDirectory() as folder,
        emulated_client(emulator, universe_id=1) as client,
    ):
        root = Path(folder)
        (root / "dsgit.yaml").write_text(LOCAL_CONFIG)
        world = World(root, emulator, client)
        for document in (first, second):  # publish one repository, then replace it by another
            (root / "configs").mkdir(exist_ok=True)
            # written as dsgit writes YAML (1.2: a key such as 0E0 is quoted, as the loader
            # reads it as a number; PyYAML's 1.1 dumper leaves it bare)
            (root / FILE).write_text(dump_document(from_plain(document)))
            plan = world.plan()
            allowed = allow(plan, tuple(Allowance(c, "test") for c in ("DSP062",)))
            assert not allowed.blocking, render_text(allowed)
            if allowed.has_changes:
                assert world.apply(with_digest(allowed)) == 0, render_text(allowed)
            again = world.plan()
            assert not again.has_changes, render_text(again)
            published = client.read_published(REPOSITORY).contents
            order = [c["id"] for c in document["conditions"]]
            assert list(published.rules.order) == order
            assert set(published.entries) == set(document["entries"])
    emulator.close()
