"""Roblox's automated deletion, simulated by the emulator, then ``dsgit erase``: the templates
(published by dsgit's plan/apply) delete what they express; the erase plan afterwards holds
only what they cannot (the roster pointer, the users-metadata entry, DataStore2's ordered
twin); ``erase --verify`` then passes; nothing else was written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dsgit.apply.run import ApplyDeps, apply_plan
from dsgit.emulator import Emulator
from dsgit.erasure.policy_file import load_erasure
from dsgit.erasure.verify import verify_erased
from dsgit.ledger import Ledger
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.plan.model import Action
from dsgit.planning.usecase import PlanRequest, make_plan
from dsgit.repo import load_declaration
from support import LOCAL_CONFIG, invoke_cli, read_live, seed_live

from .test_erase import LIVE, OTHER, USER, World, ordered, std

ROUTE = "/_emulator/universes/1/user-data-requests"
BY_TEMPLATES = {std("PlayerStore", str(USER)), std(f"DATA/{USER}", "1"), std(f"DATA/{USER}", "2")}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    made = World(tmp_path / "repo")
    (made.root / "dsgit.yaml").write_text(LOCAL_CONFIG)
    seed_live(made.client, LIVE)
    try:
        yield made
    finally:
        made.client.close()
        made.emulator.close()


def _publish_templates(world: World) -> None:
    """dsgit publishes policies/erasure.yaml's templates to DataStoresConfig (plan, apply)."""
    declaration = load_declaration(world.root)
    plan = make_plan(declaration, world.client, PlanRequest("local", 1))
    assert [str(c.address) for c in plan.changes] == ["configs:DataStoresConfig/publish"]
    deps = ApplyDeps(world.root, world.env, world.client, declaration, "t")
    assert apply_plan(plan, deps).exit_code == 0


def _state(world: World) -> dict[Address, tuple[EntryData | int | None, int]]:
    return {
        a: (read_live(world.client, a), world.revisions(a) if a.kind is StoreKind.STANDARD else 0)
        for a in LIVE
    }


def test_roblox_deletes_what_templates_express_and_erase_plans_the_rest(world: World) -> None:
    _publish_templates(world)
    before = _state(world)
    with httpx.Client(transport=world.emulator.transport(), base_url="http://emulator") as http:
        answer = http.post(ROUTE, json={"userId": USER})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["templates"] == 2 and body["skipped"] == 0
    deleted = {
        Address(StoreKind.STANDARD, d["dataStore"], d["scope"], d["key"]) for d in body["deleted"]
    }
    assert deleted == BY_TEMPLATES
    after = _state(world)
    for address, (data, revisions) in before.items():
        if address in BY_TEMPLATES:
            assert after[address] == (None, revisions + 1), address  # one delete each
        else:
            assert after[address] == (data, revisions), address  # nothing else written
    # DataStore2's ordered twin of DATA/{UserId} is not Roblox's to delete
    assert read_live(world.client, ordered(f"DATA/{USER}", "1")) == 1

    plan = world.plan()
    by_dsgit = {
        "Guilds/global/knights": Action.UPDATE,  # the user's id inside a roster
        "Trades/global/t1": Action.DELETE,  # found by its users metadata
        f"ordered:DATA%2F{USER}/global/1": Action.DELETE,  # DataStore2's ordered twin
        f"ordered:DATA%2F{USER}/global/2": Action.DELETE,
    }
    assert {str(c.address): c.action for c in plan.changes} == by_dsgit
    world.apply(plan)
    records = tuple(Ledger(world.root).records())
    assert verify_erased(world.client, load_erasure(world.root), USER, world.root, records).clean
    untouched = {a for a in LIVE if a not in BY_TEMPLATES and str(a) not in by_dsgit}
    final = _state(world)
    assert {a: final[a] for a in untouched} == {a: before[a] for a in untouched}
    assert read_live(world.client, std("PlayerStore", str(OTHER))) is not None


def test_without_published_templates_roblox_deletes_nothing(world: World) -> None:
    before = _state(world)
    assert world.emulator.erase_user(1, USER).deleted == []
    assert _state(world) == before
    with httpx.Client(transport=world.emulator.transport(), base_url="http://emulator") as http:
        assert http.post(ROUTE, json={"userId": "45348281"}).status_code == 400
        assert http.post(ROUTE, json={}).status_code == 400


def test_the_command_runs_the_templates_on_a_database_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "emulator.db"
    templates = [
        {
            "key_template": {
                "data_store_type": "ORDERED",
                "data_store_name": "Leaderboard",
                "key_pattern": "{UserId}",
                "scope_pattern": "weekly",
            }
        },
        {
            "key_template": {
                "data_store_type": "STANDARD",
                "data_store_name": "P",
                "key_pattern": "{userid}",
            }
        },
    ]
    with Emulator(db=db) as emulator:
        staged = emulator.configs.stage_from_creator_hub(
            7, "DataStoresConfig", {"entries": {"user_data_templates": templates}}
        )
        emulator.configs.publish(
            7, "DataStoresConfig", staged, "hub", "Immediate", emulator.now_ticks()
        )
        with httpx.Client(transport=emulator.transport(), base_url="http://e") as http:
            for user in (USER, OTHER):
                http.post(
                    "/cloud/v2/universes/7/ordered-data-stores/Leaderboard/scopes/weekly/entries",
                    params={"id": str(user)},
                    json={"value": 5},
                ).raise_for_status()
            http.post(
                "/cloud/v2/universes/7/data-stores/P/scopes/global/entries",
                params={"id": "{userid}"},
                json={"value": 1},
            ).raise_for_status()
    args = ["emulator", "erase-user", "--db", str(db), "--universe", "7", "--user", str(USER)]
    code, out, err = invoke_cli(args, capsys)
    assert code == 0, err
    assert out.splitlines() == [
        f"deleted  ordered:Leaderboard/weekly/{USER}",
        "1 entry deleted by 2 template(s) of DataStoresConfig in universe 7, 1 skipped "
        "(not a template Roblox runs).",
    ]
    board = "/cloud/v2/universes/7/ordered-data-stores/Leaderboard/scopes/weekly/entries"
    with (
        Emulator(db=db) as emulator,
        httpx.Client(transport=emulator.transport(), base_url="http://e") as http,
    ):
        assert http.get(f"{board}/{USER}").status_code == 404
        assert http.get(f"{board}/{OTHER}").json()["value"] == 5
        assert http.get("/cloud/v2/universes/7/data-stores/P/entries/%7Buserid%7D").is_success
    code, out, err = invoke_cli([*args, "--format", "json"], capsys)
    assert code == 0 and '"deleted": []' in out  # nothing left to delete


def test_served_the_route_needs_the_delete_scope() -> None:
    keys = {
        "reader": frozenset({"universe-datastores.objects:read"}),
        "deleter": frozenset({"universe-datastores.objects:delete"}),
    }
    with (
        Emulator(db=":memory:", api_keys=keys) as emulator,
        emulator.serve() as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):
        body = {"userId": USER}
        assert http.post(ROUTE, json=body, headers={"x-api-key": "reader"}).status_code == 403
        answer = http.post(ROUTE, json=body, headers={"x-api-key": "deleter"})
        assert answer.status_code == 200
        assert answer.json() == {"templates": 0, "skipped": 0, "deleted": []}
