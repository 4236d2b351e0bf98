"""Configs end to end against a served emulator: a Creator Hub edit and an experiment made over
HTTP, then `dsgit import --configs`, `ls --configs`, `get --config` and the client's own calls,
with API key scopes and the configs rate limits on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from configs_fixtures import ENTRIES, RULES
from dsgit.emulator import Emulator
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.configs_api import ConfigContents, ConfigEntry, DraftChanged
from support import invoke_cli

pytestmark = pytest.mark.slow  # a real HTTP server

KEY = "served-configs-key"
BASE = "/creator-configs-public-api/v1"
REPO = f"{BASE}/configs/universes/5/repositories/InExperienceConfig"
EXPERIMENTS = f"{BASE}/experimentation/universes/5/experiments"
HUB = "/_emulator/creator-hub/universes/5/repositories/InExperienceConfig/draft"


def _experiment(key: str) -> dict[str, Any]:
    variants = [
        {"variantMeta": {"label": "Control", "isBaseline": True}, "configEntry": {"key": key}},
        {"variantMeta": {"label": "Cheap"}, "configEntry": {"key": key, "entryValue": 1}},
    ]
    return {
        "name": "CheapSword",
        "experimentConfiguration": {
            "productType": "EXPERIMENT_PRODUCT_TYPE_IN_GAME_CONFIGS",
            "inGameConfigExperimentConfiguration": {"variants": variants},
        },
    }


def test_served_configs_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = Emulator(ccu=0, api_keys={KEY: frozenset({"universe:read", "universe:write"})})
    monkeypatch.setenv("DSGIT_SERVED_KEY", KEY)
    with emulator.serve(host="127.0.0.1", port=0) as server:
        http = httpx.Client(base_url=server.url, headers={"x-api-key": KEY}, timeout=10)
        body = {"entries": ENTRIES, "conditionalRules": RULES, "descriptions": {"motd": "Hi"}}
        staged = http.post(HUB, json=body)
        assert staged.status_code == 200, staged.text
        published = http.post(
            f"{REPO}/publish", json={"draftHash": staged.json()["draftHash"], "message": "hub"}
        )
        assert published.json() == {"configVersion": 1}
        created = http.post(EXPERIMENTS, json=_experiment("shop.sword_price")).json()
        ident = created["operation"]["experiment"]["id"]
        assert http.post(f"{EXPERIMENTS}/{ident}:start").status_code == 200
        assert http.post(HUB, json=body, headers={"x-api-key": "wrong"}).status_code == 401

        root = tmp_path / "repo"
        root.mkdir()
        (root / "dsgit.yaml").write_text(
            "version: 1\ndefault_environment: served\nenvironments:\n  served:\n"
            f"    universe_id: 5\n    url: {server.url}\n    api_key_env: DSGIT_SERVED_KEY\n",
            encoding="utf-8",
        )
        code, out, err = invoke_cli(["-C", str(root), "import", "--configs"], capsys)
        assert code == 0, err
        data = yaml.safe_load((root / "configs/InExperienceConfig.yaml").read_text())
        assert [c["id"] for c in data["conditions"]] == ["brazil", "payers"]
        assert data["entries"]["motd"]["description"] == "Hi"
        code, out, err = invoke_cli(["-C", str(root), "ls", "--configs"], capsys)
        assert code == 0 and "locked by experiment 'CheapSword'" in out
        code, out, err = invoke_cli(
            ["-C", str(root), "get", "--config", "shop.sword_price"], capsys
        )
        assert code == 0 and "locked: experiment 'CheapSword'" in out

        with OpenCloudClient(5, base_url=server.url, api_key=KEY) as client:
            assert set(client.locked_keys()) == {"shop.sword_price"}
            current = client.read_published("InExperienceConfig").contents
            changed = ConfigContents(
                {**current.entries, "motd": ConfigEntry("Hello")}, current.rules
            )
            old = client.read_draft("InExperienceConfig").draft_hash
            new = client.overwrite_draft("InExperienceConfig", changed, draft_hash=old)
            with pytest.raises(DraftChanged) as caught:
                client.publish("InExperienceConfig", old, "stale")
            assert "127.0.0.1" in str(caught.value) and "motd" not in str(caught.value)
            assert client.publish("InExperienceConfig", new, "commit abc") == 2
            after = client.read_published("InExperienceConfig").contents
            assert after.rules == current.rules  # the rules survived byte for byte
            assert after.entries["motd"].value == "Hello"
        http.close()
    emulator.close()
