"""The configs client (``ConfigsApi`` over HTTP) against the emulator and against answers the
emulator does not give (respx): shapes Roblox leaves open, lost answers, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from dsgit.emulator import Emulator
from dsgit.errors import RemoteError
from dsgit.remote.budget import Operation, RateBudget, RequestClass
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.configs_api import (
    ConfigContents,
    ConfigEntry,
    ConfigsApi,
    DeploymentStrategy,
    DraftChanged,
    RuleSet,
)
from dsgit.remote.configs_ops import draft_body
from dsgit.remote.retry import RetryPolicy

from .conftest import UNIVERSE

REPO = "InExperienceConfig"
PAYERS = {
    "tokens": [
        {"operand": {"attributeReference": "IsPayer"}},
        {"operand": {"literalValue": {"booleanValue": "true"}}},
        {"operator": "EQUALS"},
    ]
}
NEW = {"tokens": [{"operand": {"attributeReference": "IsNewUser"}}]}
CONTENTS = ConfigContents(
    {
        "shop.sword_price": ConfigEntry(400, variants={"payers": 300}),
        "features.double_xp": ConfigEntry(False),
        "motd": ConfigEntry("hello"),
    },
    RuleSet({"payers": PAYERS, "new": NEW}, ("new", "payers")),
)
BASE = "https://apis.roblox.com/creator-configs-public-api/v1"


def _publish(client: ConfigsApi, contents: ConfigContents, message: str = "m") -> int:
    draft_hash = client.overwrite_draft(REPO, contents)
    return client.publish(REPO, draft_hash, message)


def test_the_client_is_a_configs_port(client: OpenCloudClient) -> None:
    port: ConfigsApi = client  # mypy checks the Protocol; this checks it at run time too
    assert callable(port.locked_keys)


def test_overwrite_publish_and_read_back_rules_byte_for_byte(client: OpenCloudClient) -> None:
    assert client.read_published(REPO).version == 0
    assert _publish(client, CONTENTS, "first") == 1
    published = client.read_published(REPO)
    assert published.version == 1
    entries = published.contents.entries
    assert entries["shop.sword_price"].value == 400
    assert dict(entries["shop.sword_price"].variants) == {"payers": 300}
    assert entries["motd"].modified is not None
    assert dict(published.contents.rules.rules) == {"payers": PAYERS, "new": NEW}
    assert published.contents.rules.order == ("new", "payers")
    assert not client.read_draft(REPO).staged


def test_the_draft_shows_changes_and_a_stale_hash_is_refused(client: OpenCloudClient) -> None:
    _publish(client, CONTENTS)
    changed = ConfigContents(
        {**CONTENTS.entries, "motd": ConfigEntry("bye"), "shop.sword_price": ConfigEntry(400)},
        CONTENTS.rules,
    )
    old = client.read_draft(REPO).draft_hash
    new = client.overwrite_draft(REPO, changed, draft_hash=old)
    draft = client.read_draft(REPO)
    assert draft.draft_hash == new != old
    assert dict(draft.values) == {"motd": "bye"}
    assert dict(draft.variants) == {("shop.sword_price", "payers"): None}
    assert draft.keys == {"motd", "shop.sword_price"} and draft.staged
    with pytest.raises(DraftChanged) as caught:
        client.overwrite_draft(REPO, CONTENTS, draft_hash=old)
    assert caught.value.status == 409
    with pytest.raises(DraftChanged):
        client.publish(REPO, old, "stale")
    assert client.read_published(REPO).contents.entries["motd"].value == "hello"
    assert client.publish(REPO, new, "second", DeploymentStrategy.GRADUAL_ROLLOUT) == 2
    client.discard_draft(REPO)


def test_revisions_and_restore(client: OpenCloudClient) -> None:
    _publish(client, CONTENTS, "first")
    _publish(client, ConfigContents({"motd": ConfigEntry("only")}), "second")
    revisions = list(client.list_config_revisions(REPO))
    assert [r.message for r in revisions] == ["second", "first"]
    latest = revisions[0]
    assert latest.changes["motd"].before == "hello" and latest.changes["motd"].after == "only"
    assert latest.changes["shop.sword_price.RBX.conditional.payers"].after is None
    assert latest.rule_changes["payers"].before == PAYERS
    assert latest.order_change is not None and latest.order_change.after == []
    staged = client.restore_revision(REPO, revisions[1].revision_id)
    assert client.read_published(REPO).contents.entries.keys() == {"motd"}
    assert client.publish(REPO, staged, "restore") == 3
    restored = client.read_published(REPO).contents
    assert dict(restored.rules.rules) == dict(CONTENTS.rules.rules)
    assert dict(restored.entries["shop.sword_price"].variants) == {"payers": 300}


def test_locked_keys_come_from_running_experiments(
    client: OpenCloudClient, emulator: Emulator
) -> None:
    _publish(client, CONTENTS)
    assert client.locked_keys() == {}
    variants = [
        {"variantMeta": {"label": "Control", "isBaseline": True}, "configEntry": {"key": "motd"}},
        {"variantMeta": {"label": "B"}, "configEntry": {"key": "motd", "entryValue": "yo"}},
    ]
    body = {
        "name": "Greeting",
        "experimentConfiguration": {
            "productType": "EXPERIMENT_PRODUCT_TYPE_IN_GAME_CONFIGS",
            "inGameConfigExperimentConfiguration": {"variants": variants},
        },
    }
    now = emulator.now_ticks()
    created = emulator.experiments.create(UNIVERSE, body, now)["experiment"]
    assert client.locked_keys() == {}  # a draft experiment locks nothing
    emulator.experiments.start(UNIVERSE, created["id"], now)
    locked = client.locked_keys()
    assert set(locked) == {"motd"} and locked["motd"].name == "Greeting"
    assert [e.id for e in client.list_experiments(running_only=False)] == [created["id"]]
    with pytest.raises(RemoteError) as caught:
        client.overwrite_draft(REPO, ConfigContents({"motd": ConfigEntry("x")}))
    assert caught.value.status == 409


def test_the_budget_classes_match_the_api_limits() -> None:
    from dsgit.config import Budget

    budget = RateBudget(Budget(ccu=0, share=1.0))
    assert budget.limit(RequestClass(Operation.CONFIGS_READ)) == 100
    assert budget.limit(RequestClass(Operation.CONFIGS_DRAFT)) == 50
    assert budget.limit(RequestClass(Operation.CONFIGS_PUBLISH)) == 10


def test_draft_body_always_carries_the_rules() -> None:
    body = draft_body(ConfigContents({"a": ConfigEntry(1)}))
    assert body == {"entries": {"a": 1}, "conditionalRules": {"rules": {}, "rulesOrder": []}}
    full = draft_body(CONTENTS, "h")
    assert full["entries"]["shop.sword_price.RBX.conditional.payers"] == 300
    assert full["conditionalRules"]["rulesOrder"] == ["new", "payers"]
    assert full["draftHash"] == "h"


# --- answers the emulator does not give ------------------------------------------------------
@pytest.fixture
def router() -> respx.Router:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def make_client(router: respx.Router) -> Callable[..., OpenCloudClient]:
    def make(**kw: Any) -> OpenCloudClient:
        policy = RetryPolicy(attempts=4, initial=0.0, max_wait=0.0, jitter=0.0)
        # respx mocks httpx's own transport; the client's network transport is dsgit's
        # (remote/transport.py), so the router is handed over as the transport.
        kw.setdefault("transport", httpx.MockTransport(router.handler))
        return OpenCloudClient(7, api_key="secret-key", retry=policy, sleep=lambda _: None, **kw)

    return make


def test_both_shapes_of_conditional_values_are_read(router: respx.Router, make_client: Any) -> None:
    full = {
        "metadata": {"configVersion": "4"},
        "entries": {
            "a": {"value": 1, "variants": {"r": 2}, "description": "A"},
            "b": {"value": "x"},
            "b.RBX.conditional.r": {"value": "y"},
            "c": 3,
            "c.RBX.conditional.r": 4,
        },
        "conditionalRules": {"rules": {"r": {"tokens": []}, "gone": None}, "rulesOrder": ["r"]},
    }
    router.get(f"{BASE}/configs/universes/7/repositories/{REPO}/full").mock(
        return_value=httpx.Response(200, json=full)
    )
    with make_client() as client:
        published = client.read_published(REPO)
    entries = published.contents.entries
    assert published.version == 4
    assert entries["a"].description == "A" and dict(entries["a"].variants) == {"r": 2}
    assert dict(entries["b"].variants) == {"r": "y"}
    assert entries["c"].value == 3 and dict(entries["c"].variants) == {"r": 4}
    assert set(published.contents.rules.rules) == {"r"}


def test_draft_entries_as_objects_bare_values_or_null(
    router: respx.Router, make_client: Any
) -> None:
    draft = {
        "draftHash": "h",
        "entries": {
            "a": {"value": 5, "description": "new text"},
            "b": None,
            "c": 7,
            "d": {
                "value": 1,
                "variants": [{"type": "conditional", "variantTypeId": "r", "value": 2}],
            },
        },
    }
    router.get(f"{BASE}/configs/universes/7/repositories/{REPO}/draft").mock(
        return_value=httpx.Response(200, json=draft)
    )
    with make_client() as client:
        read = client.read_draft(REPO)
    assert dict(read.values) == {"a": 5, "b": None, "c": 7, "d": 1}
    assert dict(read.descriptions) == {"a": "new text"}
    assert dict(read.variants) == {("d", "r"): 2}
    assert read.rules is None


def test_experiments_with_short_states_and_no_key_field(
    router: respx.Router, make_client: Any
) -> None:
    listing = {
        "experiments": [
            {"id": "e1", "name": "One", "state": "Running", "experimentConfigKey": "k1"},
            {"id": "e2", "name": "Two", "state": "EXPERIMENT_STATE_RUNNING"},
            {"id": "e3", "name": "Three", "state": "EXPERIMENT_STATE_COMPLETED"},
        ],
        "total": 3,
    }
    whole = {
        "experiment": {
            "id": "e2",
            "name": "Two",
            "state": "EXPERIMENT_STATE_RUNNING",
            "experimentConfiguration": {
                "inGameConfigExperimentConfiguration": {
                    "variants": [{"configEntry": {"key": "k2"}}]
                }
            },
        }
    }
    exp = f"{BASE}/experimentation/universes/7/experiments"
    listed = router.get(exp).mock(return_value=httpx.Response(200, json=listing))
    router.get(f"{exp}/e2").mock(return_value=httpx.Response(200, json=whole))
    with make_client() as client:
        locked = client.locked_keys()
    assert set(locked) == {"k1", "k2"}  # the completed one is left out even if listed
    assert "stateFilters=EXPERIMENT_STATE_RUNNING" in str(listed.calls[0].request.url)


def test_errors_name_host_and_path_never_the_key(router: respx.Router, make_client: Any) -> None:
    canary = "secret.canary_key"
    body = {"errors": [{"code": 0, "message": f"key '{canary}' is too long; {canary}!"}]}
    router.put(f"{BASE}/configs/universes/7/repositories/{REPO}/draft:overwrite").mock(
        return_value=httpx.Response(400, json=body)
    )
    with make_client() as client, pytest.raises(RemoteError) as caught:
        client.overwrite_draft(REPO, ConfigContents({canary: ConfigEntry(1)}))
    text = str(caught.value)
    assert canary not in text and "secret-key" not in text
    assert "PUT apis.roblox.com/creator-configs-public-api/v1/configs/universes/7" in text
    assert "HTTP 400" in text and "<key>" in text


def test_a_400_about_the_hash_is_a_draft_change(router: respx.Router, make_client: Any) -> None:
    body = {"errors": [{"code": 0, "message": "Draft hash mismatch"}]}
    router.post(f"{BASE}/configs/universes/7/repositories/{REPO}/publish").mock(
        return_value=httpx.Response(400, json=body)
    )
    router.get(url__regex=r".*/revisions.*").mock(
        return_value=httpx.Response(200, json={"revisions": []})
    )
    with make_client() as client, pytest.raises(DraftChanged):
        client.publish(REPO, "h", "m")


def test_a_publish_whose_answer_was_lost_is_not_repeated(
    router: respx.Router, make_client: Any
) -> None:
    revisions: list[dict[str, Any]] = [{"revisionId": "r1", "version": 1, "message": "old"}]

    def publish(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)
        assert sent["deploymentStrategy"] == "Immediate" and sent["draftHash"] == "h1"
        revisions.insert(0, {"revisionId": "r2", "version": 2, "message": sent["message"]})
        raise httpx.ReadTimeout("lost")

    route = router.post(url__regex=r".*/publish").mock(side_effect=publish)
    router.get(url__regex=r".*/revisions.*").mock(
        side_effect=lambda _: httpx.Response(200, json={"revisions": list(revisions)})
    )
    with make_client() as client:
        assert client.publish(REPO, "h1", "commit abc") == 2
    assert route.call_count == 1


def test_an_overwrite_whose_answer_was_lost_is_verified(
    router: respx.Router, make_client: Any
) -> None:
    state = {"hash": "h1", "entries": {}}

    def overwrite(request: httpx.Request) -> httpx.Response:
        state.update(hash="h2", entries={"motd": {"value": "hello"}})
        raise httpx.ReadTimeout("lost")

    route = router.put(url__regex=r".*/draft:overwrite").mock(side_effect=overwrite)
    router.get(url__regex=r".*/draft$").mock(
        side_effect=lambda _: httpx.Response(
            200, json={"draftHash": state["hash"], "entries": state["entries"]}
        )
    )
    contents = ConfigContents({"motd": ConfigEntry("hello")})
    with make_client() as client:
        assert client.overwrite_draft(REPO, contents, draft_hash="h1") == "h2"
    assert route.call_count == 1
