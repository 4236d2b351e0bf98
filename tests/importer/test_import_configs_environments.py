"""``dsgit import --configs -e ENV`` into a file serving two environments: the declared value
stays, ENV's difference becomes a merge patch under the key's ``environments:``, and each
environment's effective value is its live one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from configs_fixtures import ENTRIES, publish_live
from dsgit.emulator import Emulator
from dsgit.model.overrides import effective_key_value
from dsgit.repo import validate_repository
from support import invoke_cli, write_files

from .test_import_environments import CONFIG  # staging (universe 2), production (3)

FILE = "configs/InExperienceConfig.yaml"
PRODUCTION: dict[str, Any] = {
    **ENTRIES,
    "motd": "Hello, players",
    "shop.bundle": {"items": ["sword"], "discount": 0.25},
    "shop.sword_price.RBX.conditional.payers": 250,
}
LIVE = {
    "staging": {key: value for key, value in ENTRIES.items() if ".RBX." not in key},
    "production": {key: value for key, value in PRODUCTION.items() if ".RBX." not in key},
}


@pytest.fixture
def repo(repo_dir: Path) -> Path:
    root = write_files(repo_dir, {"dsgit.yaml": CONFIG, ".gitignore": ".dsgit/\n"})
    (root / ".dsgit").mkdir()
    with Emulator(db=root / ".dsgit/staging.db") as emulator:
        publish_live(emulator, universe=2)
    with Emulator(db=root / ".dsgit/production.db") as emulator:
        publish_live(emulator, universe=3, entries=PRODUCTION)
    return root


def run(root: Path, capsys: pytest.CaptureFixture[str], env: str) -> dict[str, Any]:
    args = ["-C", str(root), "import", "--configs", "-e", env, "--format", "json"]
    code, out, err = invoke_cli(args, capsys)
    assert code == 0, out + err
    result: dict[str, Any] = json.loads(out)
    return result


def test_a_second_environment_becomes_merge_patches_and_reimports_change_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(repo, capsys, "staging")["action"] == "created"
    second = run(repo, capsys, "production")
    assert second["action"] == "updated"
    entries = yaml.safe_load((repo / FILE).read_text())["entries"]
    # the file keeps staging's values; production's differences are patches
    assert entries["motd"] == {
        "type": "string",
        "value": "Welcome!",
        "environments": {"production": "Hello, players"},
    }
    assert entries["shop.bundle"]["value"] == ENTRIES["shop.bundle"]
    assert entries["shop.bundle"]["environments"] == {"production": {"items": ["sword"]}}
    assert "environments" not in entries["features.double_xp"]
    # a conditional value has no per-environment form: the file's stays, a note says so
    assert entries["shop.sword_price"]["conditional"] == {"brazil": 350, "payers": 300}
    assert any(
        "entries.shop.sword_price" in note and "conditional" in note for note in second["notes"]
    )
    for env in ("staging", "production", "staging"):
        assert run(repo, capsys, env)["action"] == "unchanged"
    reading = validate_repository(repo)
    assert not reading.errors, reading.errors
    for env, live in LIVE.items():
        for key, value in live.items():
            node = entries[key]
            assert effective_key_value(node["value"], node.get("environments", {}), env) == value


def test_a_value_no_other_environment_sees_becomes_the_declared_one(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(repo, capsys, "staging")
    run(repo, capsys, "production")
    # staging changes live: its new value is patched against the declared one, which
    # production still sees as it is (features.double_xp) ...
    with Emulator(db=repo / ".dsgit/staging.db") as emulator:
        publish_live(emulator, universe=2, entries={**ENTRIES, "features.double_xp": True})
    run(repo, capsys, "staging")
    entries = yaml.safe_load((repo / FILE).read_text())["entries"]
    assert entries["features.double_xp"]["value"] is False
    assert entries["features.double_xp"]["environments"] == {"staging": True}
    # ... and when production patches it too, the declared value becomes production's live
    # one and staging's patch is rewritten so it still sees its own
    with Emulator(db=repo / ".dsgit/production.db") as emulator:
        publish_live(emulator, universe=3, entries={**PRODUCTION, "motd": "Bom dia"})
    with Emulator(db=repo / ".dsgit/staging.db") as emulator:
        publish_live(
            emulator, universe=2, entries={**ENTRIES, "features.double_xp": True, "motd": "Oi"}
        )
    run(repo, capsys, "staging")
    motd = yaml.safe_load((repo / FILE).read_text())["entries"]["motd"]
    assert motd == {
        "type": "string",
        "value": "Oi",
        "environments": {"production": "Hello, players"},
    }
    run(repo, capsys, "production")
    motd = yaml.safe_load((repo / FILE).read_text())["entries"]["motd"]
    assert motd == {"type": "string", "value": "Oi", "environments": {"production": "Bom dia"}}
    assert not validate_repository(repo).errors
