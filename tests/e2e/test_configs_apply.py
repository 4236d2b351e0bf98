"""Configs through the CLI against a served emulator: import a repository with targeting rules,
change one value, plan (markdown), apply, the rules unchanged byte for byte, revert; a Creator
Hub draft staged between plan and apply, and a key an experiment locks, make apply refuse
(exit 5) with nothing written; an apply killed with SIGKILL at each step resumes and publishes
exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from configs_fixtures import DESCRIPTIONS, ENTRIES, RULES

from .conftest import UNIVERSE, Repo
from .promises import KILLED, revision_counting_emulator, stop_at

pytestmark = pytest.mark.slow

FILE = "configs/InExperienceConfig.yaml"
BASE = "/creator-configs-public-api/v1"
REPO = f"{BASE}/configs/universes/{UNIVERSE}/repositories/InExperienceConfig"
HUB = f"/_emulator/creator-hub/universes/{UNIVERSE}/repositories/InExperienceConfig/draft"
EXPERIMENTS = f"{BASE}/experimentation/universes/{UNIVERSE}/experiments"
ADDRESS = "configs:InExperienceConfig/publish"
EXIT_CONFLICT = 5


class Live:
    """The served configs, as Creator Hub and Roblox's API see them (no dsgit involved)."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, headers={"x-api-key": "hub"}, timeout=10)

    def stage(self, body: dict[str, Any]) -> str:
        answer = self.http.post(HUB, json=body)
        assert answer.status_code == 200, answer.text
        draft_hash: str = answer.json()["draftHash"]
        return draft_hash

    def publish(self, draft_hash: str) -> None:
        answer = self.http.post(f"{REPO}/publish", json={"draftHash": draft_hash, "message": "hub"})
        assert answer.status_code == 200, answer.text

    def full(self) -> dict[str, Any]:
        answer = self.http.get(f"{REPO}/full")
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def rules_text(self) -> str:
        """The conditional rules exactly as served (member order kept)."""
        return json.dumps(self.full()["conditionalRules"])

    def value(self, key: str) -> Any:
        return self.full()["entries"][key]["value"]

    def revisions(self) -> list[dict[str, Any]]:
        answer = self.http.get(f"{REPO}/revisions")
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["revisions"]
        return found

    def draft(self) -> dict[str, Any]:
        found: dict[str, Any] = self.http.get(f"{REPO}/draft").json()
        return found

    def lock(self, key: str) -> None:
        variants = [
            {"variantMeta": {"label": "Control", "isBaseline": True}, "configEntry": {"key": key}},
            {"variantMeta": {"label": "Cheap"}, "configEntry": {"key": key, "entryValue": 1}},
        ]
        body = {
            "name": "CheapSword",
            "experimentConfiguration": {
                "productType": "EXPERIMENT_PRODUCT_TYPE_IN_GAME_CONFIGS",
                "inGameConfigExperimentConfiguration": {"variants": variants},
            },
        }
        created = self.http.post(EXPERIMENTS, json=body).json()
        ident = created["operation"]["experiment"]["id"]
        assert self.http.post(f"{EXPERIMENTS}/{ident}:start").status_code == 200


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Repo, Live]]:
    with revision_counting_emulator() as served:
        live = Live(served.url)
        live.publish(
            live.stage(
                {"entries": ENTRIES, "conditionalRules": RULES, "descriptions": DESCRIPTIONS}
            )
        )
        repo = Repo(tmp_path / "game", served.url)
        repo.dsgit("import", "--configs")
        repo.commit("import configs")
        yield repo, live
        live.http.close()


def _set_price(repo: Repo, price: int) -> None:
    path = repo.root / FILE
    document = yaml.safe_load(path.read_text())
    document["entries"]["shop.sword_price"]["value"] = price
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    repo.commit(f"sword costs {price}")


def _apply_id(repo: Repo) -> str:
    shown = repo.dsgit("audit", "log", "--format", "json")
    records = json.loads(shown.out)
    ids = [r.get("apply_id") for r in records if r.get("apply_id")]
    assert ids, shown.out
    return str(ids[-1])


def test_import_change_plan_apply_keeps_the_rules_then_revert(world: tuple[Repo, Live]) -> None:
    repo, live = world
    data = yaml.safe_load((repo.root / FILE).read_text())
    assert [c["id"] for c in data["conditions"]] == ["brazil", "payers"]
    rules = live.rules_text()
    assert "No changes: the live state matches" in repo.dsgit("plan").out

    _set_price(repo, 500)
    shown = repo.dsgit("plan", "-o", "plan.json", "--format", "markdown").out
    assert ADDRESS in shown and "/entries/shop.sword_price/value" in shown
    assert "400" in shown and "500" in shown and "Immediate" in shown
    repo.dsgit("apply", "plan.json")
    assert live.value("shop.sword_price") == 500
    assert live.rules_text() == rules  # the targeting survived, byte for byte
    assert live.full()["entries"]["shop.sword_price"]["variants"]  # conditional values too
    newest = live.revisions()[0]
    assert newest["version"] == 2 and repo.git("rev-parse", "HEAD") in newest["message"]

    apply_id = _apply_id(repo)
    repo.dsgit("revert", apply_id, "-o", "revert.json")
    repo.dsgit("apply", "revert.json")
    assert live.value("shop.sword_price") == 400
    assert live.rules_text() == rules
    assert [r["version"] for r in live.revisions()][:2] == [3, 2]


def test_a_creator_hub_draft_staged_after_the_plan_makes_apply_refuse(
    world: tuple[Repo, Live],
) -> None:
    repo, live = world
    _set_price(repo, 500)
    repo.dsgit("plan", "-o", "plan.json")
    live.stage({"entries": {"motd": "Hi from the hub"}})
    before = live.revisions()
    refused = repo.dsgit("apply", "plan.json", expect=EXIT_CONFLICT)
    assert "draft was staged since the plan" in refused.out + refused.err
    assert live.revisions() == before
    assert live.value("shop.sword_price") == 400
    assert "Hi from the hub" in json.dumps(live.draft())  # the hub's draft, untouched
    blocked = repo.dsgit("plan", "-o", "again.json", expect=None)
    assert "DSP060" in blocked.out


def test_a_key_locked_by_a_running_experiment_is_refused(world: tuple[Repo, Live]) -> None:
    repo, live = world
    _set_price(repo, 500)
    repo.dsgit("plan", "-o", "plan.json")
    live.lock("shop.sword_price")
    before = live.revisions()
    repo.dsgit("apply", "plan.json", expect=EXIT_CONFLICT)
    assert live.revisions() == before
    planned = repo.dsgit("plan", "-o", "locked.json", expect=None)
    assert "DSP061" in planned.out and "CheapSword" in planned.out
    if (repo.root / "locked.json").exists():
        repo.dsgit("apply", "locked.json", expect=3)
    assert live.revisions() == before


@pytest.mark.parametrize(
    ("point", "staged", "published"),
    [
        (f"after-intent:{ADDRESS}", False, False),  # before the draft write
        ("journal:3", True, False),  # the draft written and its hash journaled (begin, intent)
        (f"after-write:{ADDRESS}", False, True),  # published, its completion not journaled
    ],
)
def test_an_apply_killed_mid_way_resumes_and_publishes_exactly_once(
    world: tuple[Repo, Live], point: str, staged: bool, published: bool
) -> None:
    repo, live = world
    rules = live.rules_text()
    _set_price(repo, 500)
    repo.dsgit("plan", "-o", "plan.json")
    repo.dsgit("apply", "plan.json", env=stop_at(point), expect=KILLED)
    assert ("shop.sword_price" in json.dumps(live.draft())) is staged  # where the kill landed
    assert [r["version"] for r in live.revisions()] == ([2, 1] if published else [1])
    repo.dsgit("apply", "plan.json")
    versions = [r["version"] for r in live.revisions()]
    assert versions == [2, 1]  # one publish, not two
    assert live.value("shop.sword_price") == 500 and live.rules_text() == rules
    repo.dsgit("apply", "plan.json")  # and again: nothing more
    assert [r["version"] for r in live.revisions()] == [2, 1]
    assert "No changes: the live state matches" in repo.dsgit("plan").out
