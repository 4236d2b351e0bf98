"""Plain ``dsgit import --configs`` imports DataStoresConfig's erasure templates too (into
``policies/erasure.yaml``, comments kept) when the repository has that file or the universe
publishes templates; ``--repository NAME`` imports that one repository only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from configs_fixtures import seed_repository
from dsgit.emulator import Emulator
from dsgit.repo import validate_repository
from support import invoke_cli

ERASURE = "policies/erasure.yaml"
CONFIGS = "configs/InExperienceConfig.yaml"
PLAYER = {
    "key_template": {
        "data_store_type": "STANDARD",
        "data_store_name": "PlayerData",
        "key_pattern": "Player_{UserId}",
    }
}
BOARD = {
    "key_template": {
        "data_store_type": "ORDERED",
        "data_store_name": "Leaderboard",
        "key_pattern": "{UserId}",
    }
}
POLICY = """\
version: 1
# reviewed by legal, 2026-11
user_data_templates:
  - key_template: {data_store_type: STANDARD, data_store_name: PlayerData,
                   key_pattern: "Player_{UserId}"}
rules:   # run by dsgit
  - {name: tagged, store: "*", users_metadata: true, action: delete}
"""


def _publish_templates(root: Path, templates: list[Any]) -> None:
    """Publish DataStoresConfig in the embedded emulator, as Creator Hub would."""
    with Emulator(db=root / ".dsgit/emulator.db") as emulator:
        configs = emulator.configs
        staged = configs.stage_from_creator_hub(
            1, "DataStoresConfig", {"entries": {"user_data_templates": templates}}
        )
        configs.publish(1, "DataStoresConfig", staged, "hub", "Immediate", emulator.now_ticks())


def _run(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = invoke_cli(["-C", str(root), "import", "--configs", *args], capsys)
    assert code == 0, err
    return out


def test_plain_import_also_imports_the_templates_keeping_comments(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_repository(root)
    _publish_templates(root, [PLAYER, BOARD])
    (root / "policies").mkdir()
    (root / ERASURE).write_text(POLICY)
    out = _run(root, capsys, "--dry-run")
    assert "would import 2 templates of DataStoresConfig" in out
    assert f"update   {ERASURE}" in out and f"create   {CONFIGS}" in out
    assert (root / ERASURE).read_text() == POLICY and not (root / CONFIGS).exists()

    out = _run(root, capsys)
    lines = out.splitlines()
    assert lines[0] == f"created  {CONFIGS}"
    assert f"updated  {ERASURE}" in lines
    assert any(
        line.startswith("Imported 2 templates of DataStoresConfig (configVersion 1)")
        for line in lines
    )
    text = (root / ERASURE).read_text()
    assert "# reviewed by legal, 2026-11" in text and "rules:   # run by dsgit" in text
    assert yaml.safe_load(text)["user_data_templates"] == [PLAYER, BOARD]
    assert yaml.safe_load(text)["rules"][0]["name"] == "tagged"
    assert (root / CONFIGS).exists()
    assert not [p for p in validate_repository(root).problems if p.is_error]

    payload = json.loads(_run(root, capsys, "--format", "json"))
    assert payload["repository"] == "InExperienceConfig" and payload["action"] == "unchanged"
    templates = payload["erasure_templates"]
    assert templates["action"] == "unchanged" and templates["templates"] == 2
    assert templates["file"] == ERASURE and templates["repository"] == "DataStoresConfig"


def test_live_templates_create_the_policy(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_repository(root)
    _publish_templates(root, [PLAYER])
    out = _run(root, capsys)
    assert f"created  {ERASURE}" in out.splitlines()
    assert yaml.safe_load((root / ERASURE).read_text()) == {
        "version": 1,
        "user_data_templates": [PLAYER],
    }


def test_without_the_file_or_live_templates_nothing_is_said_or_written(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_repository(root)
    out = _run(root, capsys)
    assert "DataStoresConfig" not in out and not (root / ERASURE).exists()
    assert "erasure_templates" not in json.loads(_run(root, capsys, "--format", "json"))


def test_a_policy_without_live_templates_is_left_alone_and_says_so(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_repository(root)
    (root / "policies").mkdir()
    (root / ERASURE).write_text(POLICY)
    out = _run(root, capsys)
    assert "DataStoresConfig publishes no user_data_templates" in out
    assert (root / ERASURE).read_text() == POLICY


def test_an_explicit_repository_imports_that_one_only(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_repository(root)
    _publish_templates(root, [PLAYER])
    out = _run(root, capsys, "--repository", "InExperienceConfig")
    assert "DataStoresConfig" not in out and not (root / ERASURE).exists()
    out = _run(root, capsys, "--repository", "DataStoresConfig")
    assert out.splitlines()[0] == f"created  {ERASURE}"
    assert "InExperienceConfig" not in out


def test_several_environments_are_named_when_the_templates_change(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (root / "dsgit.yaml").write_text(
        "version: 1\ndefault_environment: local\nenvironments:\n"
        "  local:\n    universe_id: 1\n    emulator: .dsgit/emulator.db\n"
        "  other:\n    universe_id: 2\n    emulator: .dsgit/emulator.db\n"
    )
    seed_repository(root)
    _publish_templates(root, [PLAYER])
    out = _run(root, capsys)
    assert "published to every environment: `dsgit plan -e other`" in out
    assert "published to every environment" not in _run(root, capsys)  # unchanged: no note
