"""Configs as Roblox has them: conditional rules, variants, descriptions, hashes, limits,
rate limits, restore, and the keys running experiments lock."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dsgit.emulator import Emulator

from .conftest import validated_client
from .helpers import CONFIGS
from .test_configs import publish_to
from .test_rate_limits import StillClock

REPO = f"{CONFIGS}/InExperienceConfig"
EXPERIMENTS = "/creator-configs-public-api/v1/experimentation/universes/1"
HUB = "/_emulator/creator-hub/universes/1/repositories/InExperienceConfig/draft"

PAYERS = {
    "tokens": [
        {"operand": {"attributeReference": "IsPayer"}},
        {"operand": {"literalValue": {"booleanValue": "true"}}},
        {"operator": "EQUALS"},
    ]
}
BRAZIL = {
    "tokens": [
        {"operand": {"attributeReference": "Country"}},
        {"operand": {"literalValue": {"stringValue": "BR"}}},
        {"operator": "EQUALS"},
    ]
}
RULES = {"rules": {"payers": PAYERS, "brazil": BRAZIL}, "rulesOrder": ["brazil", "payers"]}


def put(client: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return client.put(f"{REPO}/draft:overwrite", json=body)


def seed(client: httpx.Client) -> None:
    body = {
        "entries": {"price": 400, "price.RBX.conditional.payers": 300, "motd": "hi"},
        "conditionalRules": RULES,
    }
    answer = put(client, body)
    assert answer.status_code == 200, answer.text
    publish_to(client, REPO, answer.json()["draftHash"], "seed")


def test_rules_and_variants_are_published_and_read_back(client: httpx.Client) -> None:
    seed(client)
    full = client.get(f"{REPO}/full").json()
    assert full["conditionalRules"] == RULES
    assert full["entries"]["price"]["variants"] == [
        {"type": "conditional", "variantTypeId": "payers", "value": 300}
    ]
    assert "variants" not in full["entries"]["motd"]
    values = client.get(REPO).json()
    assert values["entries"] == {"price": 400, "price.RBX.conditional.payers": 300, "motd": "hi"}
    assert values["conditionalRules"] == RULES  # the values answer pastes back into a draft


def test_an_overwrite_without_rules_deletes_every_rule(client: httpx.Client) -> None:
    seed(client)
    refused = put(client, {"entries": {"price": 400, "price.RBX.conditional.payers": 1}})
    assert refused.status_code == 400  # branches need the rules that define them
    answer = put(client, {"entries": {"price": 400, "motd": "hi"}})
    draft = client.get(f"{REPO}/draft").json()
    assert draft["entries"] == {"price.RBX.conditional.payers": {"value": None}}
    assert draft["conditionalRules"] == {"rules": {}, "rulesOrder": []}
    publish_to(client, REPO, answer.json()["draftHash"])
    assert "conditionalRules" not in client.get(f"{REPO}/full").json()


def test_rules_order_and_removal(client: httpx.Client) -> None:
    seed(client)
    reordered = {**RULES, "rulesOrder": ["payers", "brazil"]}
    body = {"entries": client.get(REPO).json()["entries"], "conditionalRules": reordered}
    publish_to(client, REPO, put(client, body).json()["draftHash"])
    assert client.get(REPO).json()["conditionalRules"]["rulesOrder"] == ["payers", "brazil"]
    revision = client.get(f"{REPO}/revisions").json()["revisions"][0]
    assert revision["changes"] == {}
    assert revision["conditionalRulesChanges"]["rulesOrder"] == {
        "before": ["brazil", "payers"],
        "after": ["payers", "brazil"],
    }
    bad_order = {**RULES, "rulesOrder": ["payers"]}
    assert put(client, {"entries": {}, "conditionalRules": bad_order}).status_code == 400
    # PATCH: a null rule (or an empty one) removes it; the order follows
    removed = client.patch(f"{REPO}/draft", json={"conditionalRules": {"rules": {"brazil": None}}})
    assert removed.status_code == 200
    draft = client.get(f"{REPO}/draft").json()
    assert draft["conditionalRules"] == {"rules": {"payers": PAYERS}, "rulesOrder": ["payers"]}
    in_use = client.patch(
        f"{REPO}/draft", json={"conditionalRules": {"rules": {"payers": {"tokens": []}}}}
    )
    assert in_use.status_code == 400  # the price key still has a value for it


def test_the_draft_hash_moves_on_every_draft_write(client: httpx.Client) -> None:
    seed(client)
    hashes = {client.get(f"{REPO}/draft").json()["draftHash"]}
    body = {"entries": {"motd": "hi", "price": 400}, "conditionalRules": RULES}
    for _ in range(3):  # the same body again still moves it
        hashes.add(client.patch(f"{REPO}/draft", json=body).json()["draftHash"])
    hashes.add(client.request("DELETE", f"{REPO}/draft", json={}).json()["draftHash"])
    assert len(hashes) == 5
    current = client.get(f"{REPO}/draft").json()["draftHash"]
    assert current in hashes
    # the guide's name for it, previousDraftHash, is honoured as well
    stale = client.patch(f"{REPO}/draft", json={"entries": {"a": 1}, "previousDraftHash": "x"})
    assert stale.status_code == 409


def test_a_stale_hash_is_refused_and_nothing_is_published(client: httpx.Client) -> None:
    seed(client)
    first = client.patch(f"{REPO}/draft", json={"entries": {"motd": "one"}}).json()["draftHash"]
    client.patch(f"{REPO}/draft", json={"entries": {"motd": "two"}})
    refused = client.post(f"{REPO}/publish", json={"draftHash": first, "message": "m"})
    assert refused.status_code == 409
    assert client.get(REPO).json()["entries"]["motd"] == "hi"
    assert client.get(REPO).json()["metadata"]["configVersion"] == 1


def test_revisions_hold_per_key_before_and_after(client: httpx.Client) -> None:
    seed(client)
    body = {
        "entries": {"price": 450, "price.RBX.conditional.payers": 350},
        "conditionalRules": RULES,
    }
    publish_to(client, REPO, put(client, body).json()["draftHash"], "second")
    revision = client.get(f"{REPO}/revisions").json()["revisions"][0]
    assert revision["message"] == "second" and revision["version"] == 2
    assert revision["changes"] == {
        "motd": {"before": "hi", "after": None},
        "price": {"before": 400, "after": 450},
        "price.RBX.conditional.payers": {"before": 300, "after": 350},
    }
    assert "conditionalRulesChanges" not in revision


def test_restore_stages_the_revision_as_a_draft(client: httpx.Client) -> None:
    seed(client)
    first = client.get(f"{REPO}/revisions").json()["revisions"][0]["revisionId"]
    publish_to(client, REPO, put(client, {"entries": {"other": True}}).json()["draftHash"])
    client.patch(f"{REPO}/draft", json={"entries": {"other": False}})  # cleared by the restore
    restored = client.post(f"{REPO}/revisions/{first}/restore")
    assert restored.status_code == 200
    draft = client.get(f"{REPO}/draft").json()
    assert draft["draftHash"] == restored.json()["draftHash"]
    assert draft["entries"]["other"] == {"value": None}
    assert draft["conditionalRules"] == RULES
    assert client.get(REPO).json()["entries"] == {"other": True}  # not published yet
    publish_to(client, REPO, restored.json()["draftHash"], "restore")
    assert client.get(f"{REPO}/full").json()["conditionalRules"] == RULES


def test_limits(client: httpx.Client) -> None:
    long_key = put(client, {"entries": {"k" * 257: 1}})
    assert long_key.status_code == 400
    assert put(client, {"entries": {"k" * 256: 1}}).status_code == 200
    assert put(client, {"entries": {"s": "x" * 100_001}}).status_code == 400
    assert put(client, {"entries": {"j": {"t": "x" * 100_000}}}).status_code == 400
    many_rules = {"rules": {f"r{i}": PAYERS for i in range(101)}}
    assert put(client, {"entries": {}, "conditionalRules": many_rules}).status_code == 400
    rules = {"rules": {f"r{i}": PAYERS for i in range(21)}}
    entries: dict[str, Any] = {"k": 1, **{f"k.RBX.conditional.r{i}": i for i in range(21)}}
    assert put(client, {"entries": entries, "conditionalRules": rules}).status_code == 400
    wrong_type = {"k": 1, "k.RBX.conditional.r0": "one"}
    assert put(client, {"entries": wrong_type, "conditionalRules": rules}).status_code == 400
    unknown_rule = {"k": 1, "k.RBX.conditional.nope": 2}
    assert put(client, {"entries": unknown_rule, "conditionalRules": rules}).status_code == 400


def test_a_creator_hub_edit_stages_a_draft_with_descriptions(
    emu: Emulator, client: httpx.Client
) -> None:
    seed(client)
    staged = client.post(
        HUB, json={"entries": {"motd": "from the hub"}, "descriptions": {"motd": "Greeting"}}
    )
    assert staged.status_code == 200
    draft = client.get(f"{REPO}/draft").json()
    assert draft["entries"] == {"motd": {"value": "from the hub", "description": "Greeting"}}
    emu.configs.stage_from_creator_hub(1, "InExperienceConfig", {"entries": {"price": 1}})
    assert set(client.get(f"{REPO}/draft").json()["entries"]) == {"motd", "price"}
    publish_to(client, REPO, client.get(f"{REPO}/draft").json()["draftHash"])
    assert client.get(f"{REPO}/full").json()["entries"]["motd"]["description"] == "Greeting"
    # an overwrite keeps descriptions of the keys it keeps (the API cannot write them)
    publish_to(client, REPO, put(client, {"entries": {"motd": "x"}}).json()["draftHash"])
    assert client.get(f"{REPO}/full").json()["entries"]["motd"]["description"] == "Greeting"


def start_experiment(client: httpx.Client, key: str, value: Any) -> str:
    created = client.post(
        f"{EXPERIMENTS}/experiments",
        json={
            "name": "LowerPrice",
            "experimentConfiguration": {
                "productType": "EXPERIMENT_PRODUCT_TYPE_IN_GAME_CONFIGS",
                "inGameConfigExperimentConfiguration": {
                    "variants": [
                        {
                            "variantMeta": {"label": "Control", "isBaseline": True, "weight": 50},
                            "configEntry": {"key": key},
                        },
                        {
                            "variantMeta": {"label": "Cheap", "isBaseline": False, "weight": 50},
                            "configEntry": {"key": key, "entryValue": value},
                        },
                    ]
                },
            },
            "exposurePercent": 40,
            "durationSeconds": 14 * 86_400,
            "universeGoalMetric": "UNIVERSE_EXPERIMENT_METRIC_DAY_1_RETENTION",
        },
    )
    assert created.status_code == 200, created.text
    operation = created.json()["operation"]
    assert operation["done"] and operation["error"] is None
    ident = str(operation["experiment"]["id"])
    started = client.post(f"{EXPERIMENTS}/experiments/{ident}:start")
    assert started.json()["operation"]["experiment"]["state"] == "EXPERIMENT_STATE_RUNNING"
    polled = client.get(f"{EXPERIMENTS}/operations/{started.json()['operation']['operationId']}")
    assert polled.json()["operation"]["done"] is True
    return ident


def test_a_running_experiment_locks_its_key_and_rules(client: httpx.Client) -> None:
    seed(client)
    ident = start_experiment(client, "price", 350)
    listed = client.get(
        f"{EXPERIMENTS}/experiments", params={"stateFilters": "EXPERIMENT_STATE_RUNNING"}
    ).json()
    assert listed["total"] == 1
    assert listed["experiments"][0]["experimentConfigKey"] == "price"
    assert client.patch(f"{REPO}/draft", json={"entries": {"price": 1}}).status_code == 409
    branch = {"entries": {"price.RBX.conditional.payers": 1}}
    assert client.patch(f"{REPO}/draft", json=branch).status_code == 409
    rule = {"conditionalRules": {"rules": {"payers": BRAZIL}}}
    assert client.patch(f"{REPO}/draft", json=rule).status_code == 409
    assert client.patch(f"{REPO}/draft", json={"entries": {"motd": "ok"}}).status_code == 200
    again = client.post(f"{EXPERIMENTS}/experiments", json={"name": "x"})
    assert again.status_code == 400
    # a second experiment on the same key does not start
    completed = client.post(f"{EXPERIMENTS}/experiments/{ident}:complete", json={})
    assert completed.json()["operation"]["experiment"]["state"] == "EXPERIMENT_STATE_COMPLETED"
    assert client.patch(f"{REPO}/draft", json={"entries": {"price": 1}}).status_code == 200


def test_a_draft_staged_before_the_experiment_cannot_be_published(client: httpx.Client) -> None:
    seed(client)
    staged = client.patch(f"{REPO}/draft", json={"entries": {"price": 1}}).json()["draftHash"]
    start_experiment(client, "price", 350)
    refused = client.post(f"{REPO}/publish", json={"draftHash": staged, "message": "m"})
    assert refused.status_code == 409


def test_completing_with_a_winner_publishes_its_value(client: httpx.Client) -> None:
    seed(client)
    ident = start_experiment(client, "price", 350)
    experiment = client.get(f"{EXPERIMENTS}/experiments/{ident}").json()["experiment"]
    variants = experiment["experimentConfiguration"]["inGameConfigExperimentConfiguration"]
    winner = variants["variants"][1]["variantMeta"]["variantId"]
    client.post(f"{EXPERIMENTS}/experiments/{ident}:complete", json={"variantId": winner})
    assert client.get(REPO).json()["entries"]["price"] == 350
    latest = client.get(f"{REPO}/revisions").json()["revisions"][0]
    assert latest["changes"] == {"price": {"before": 400, "after": 350}}


def test_experiment_errors_come_back_in_the_operation(client: httpx.Client) -> None:
    seed(client)
    start_experiment(client, "price", 350)
    created = client.post(
        f"{EXPERIMENTS}/experiments",
        json={
            "name": "Again",
            "experimentConfiguration": {
                "productType": "EXPERIMENT_PRODUCT_TYPE_IN_GAME_CONFIGS",
                "inGameConfigExperimentConfiguration": {
                    "variants": [
                        {"variantMeta": {"isBaseline": True}, "configEntry": {"key": "price"}},
                        {"variantMeta": {}, "configEntry": {"key": "price", "entryValue": 1}},
                    ]
                },
            },
        },
    )
    ident = created.json()["operation"]["experiment"]["id"]
    started = client.post(f"{EXPERIMENTS}/experiments/{ident}:start").json()["operation"]
    assert started["error"]["errorType"] == "EXPERIMENT_API_ERROR_TYPE_CONFIGS_KEY_ALREADY_IN_USE"
    missing = client.post(
        f"{EXPERIMENTS}/experiments",
        json={
            "name": "Ghost",
            "experimentConfiguration": {
                "productType": "EXPERIMENT_PRODUCT_TYPE_IN_GAME_CONFIGS",
                "inGameConfigExperimentConfiguration": {
                    "variants": [
                        {"variantMeta": {"isBaseline": True}, "configEntry": {"key": "ghost"}},
                        {"variantMeta": {}, "configEntry": {"key": "ghost", "entryValue": 1}},
                    ]
                },
            },
        },
    ).json()["operation"]
    assert missing["error"]["errorType"].endswith("CONFIGS_VARIANT_CONFIG_NOT_FOUND")
    assert client.get(f"{EXPERIMENTS}/experiments/nope").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "limit"),
    [
        ("GET", f"{REPO}/full", None, 100),
        ("PATCH", f"{REPO}/draft", {"entries": {"a": 1}}, 50),
        ("POST", f"{REPO}/publish", {"draftHash": "h"}, 10),
    ],
)
def test_configs_rate_limits(
    method: str, path: str, body: dict[str, Any] | None, limit: int
) -> None:
    still = StillClock()
    emulator = Emulator(ccu=0, clock=still)
    with validated_client(emulator.transport()) as client:
        for _ in range(limit):
            answer = client.request(method, path, json=body)
            assert answer.status_code != 429
        refused = client.request(method, path, json=body)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
        if method == "POST":  # restore shares the publish budget
            restore = client.post(f"{REPO}/revisions/x/restore")
            assert restore.status_code == 429
        still.advance(seconds=60)
        assert client.request(method, path, json=body).status_code != 429
    emulator.close()
