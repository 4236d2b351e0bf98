"""``dsgit ls --configs``, ``get --config KEY``, ``history --configs``: browse live configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from configs_fixtures import BRAZIL, ENTRIES, publish_live, seed_repository, start_experiment
from dsgit.emulator import Emulator
from support import LOCAL_CONFIG, invoke_cli


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "dsgit.yaml").write_text(LOCAL_CONFIG)
    seed_repository(tmp_path, message="first")
    with Emulator(db=tmp_path / ".dsgit/emulator.db") as emulator:
        publish_live(emulator, entries={**ENTRIES, "motd": "Hello"}, message="second")
        emulator.configs.stage_from_creator_hub(1, "InExperienceConfig", {"entries": {"motd": "x"}})
        start_experiment(emulator, "shop.sword_price", 1, name="CheapSword")
    return tmp_path


def run(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return invoke_cli(["-C", str(root), *args], capsys)


def test_ls_configs(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(root, capsys, "ls", "--configs")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("InExperienceConfig: configVersion 2, 4 keys, 2 conditions")
    assert lines[0].endswith("a draft is staged (1 key changed)")
    assert lines[1].split() == ["KEY", "TYPE", "VALUE", "CONDITIONAL", "NOTE"]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert "changed in the staged draft" in rows["motd"]
    assert "locked by experiment 'CheapSword'" in rows["shop.sword_price"]
    assert rows["shop.sword_price"].split()[1:4] == ["number", "400", "2"]
    code, out, _ = run(root, capsys, "ls", "--configs", "--format", "json")
    data = json.loads(out)
    assert data["config_version"] == 2 and data["draft_staged"] is True
    assert [c["id"] for c in data["conditions"]] == ["brazil", "payers"]
    assert data["conditions"][0]["rule"] == BRAZIL
    price = next(e for e in data["entries"] if e["key"] == "shop.sword_price")
    assert price["conditional"] == [
        {"condition": "brazil", "value": 350},
        {"condition": "payers", "value": 300},
    ]
    assert price["locked_by"]["name"] == "CheapSword"
    code, _, err = run(root, capsys, "ls", "PlayerData", "--configs")
    assert code == 1 and "--configs" in err


def test_get_config(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(root, capsys, "get", "--config", "features.double_xp")
    assert code == 0, err
    assert out.splitlines()[:4] == [
        "InExperienceConfig/features.double_xp",
        "type: boolean",
        "value: false",
        "description: Double XP weekend switch",
    ]
    code, out, _ = run(root, capsys, "get", "--config", "shop.sword_price", "--format", "json")
    data = json.loads(out)
    assert data["value"] == 400 and data["type"] == "number"
    assert data["locked_by"]["name"] == "CheapSword" and data["staged_in_draft"] is False
    code, out, err = run(root, capsys, "get", "--config", "nope")
    assert code == 1 and "no published key 'nope'" in err
    code, _, err = run(root, capsys, "get")
    assert code != 0 and "STORE and KEY" in err


def test_history_configs(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(root, capsys, "history", "--configs")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["VERSION", "TIME", "CHANGES", "MESSAGE"]
    assert [line.split()[0] for line in lines[1:]] == ["2", "1"]
    assert lines[1].endswith("second") and lines[2].endswith("first")
    code, out, _ = run(root, capsys, "history", "--configs", "--config", "motd")
    assert '  motd: "Welcome!" -> "Hello"' in out.splitlines()
    code, out, _ = run(root, capsys, "history", "--configs", "--format", "json")
    data = json.loads(out)
    assert data[0]["changes"] == {"motd": {"before": "Welcome!", "after": "Hello"}}
    assert data[1]["conditionalRulesChanges"]["rulesOrder"]["after"] == ["brazil", "payers"]
    code, _, err = run(root, capsys, "history", "--config", "motd")
    assert code == 1 and "add --configs" in err
