"""``dsgit import --configs``: published configs -> configs/<repository>.yaml, idempotent,
comment-keeping, never dropping a rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from configs_fixtures import BRAZIL, PAYERS, publish_live, seed_repository
from dsgit.emulator import Emulator
from dsgit.errors import ConfigError
from dsgit.importer.configs import import_configs
from dsgit.importer.report import FileAction
from dsgit.remote.testing import emulated_client
from dsgit.repo import validate_repository
from support import invoke_cli

FILE = "configs/InExperienceConfig.yaml"


def test_import_writes_values_types_descriptions_and_rules(root: Path) -> None:
    emulator = Emulator(db=":memory:")
    publish_live(emulator)
    with emulated_client(emulator, universe_id=1) as client:
        done = import_configs(client, root)
        again = import_configs(client, root)
    assert done.action is FileAction.CREATED and again.action is FileAction.UNCHANGED
    assert (done.keys, done.conditions, done.version) == (4, 2, 1)
    text = (root / FILE).read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    data = yaml.safe_load(text)
    assert data["repository"] == "InExperienceConfig"
    assert data["publish"] == {"strategy": "Immediate"}
    # conditions in evaluation order, rules exactly as live
    assert data["conditions"] == [
        {"id": "brazil", "rule": BRAZIL},
        {"id": "payers", "rule": PAYERS},
    ]
    price = data["entries"]["shop.sword_price"]
    assert price == {"type": "number", "value": 400, "conditional": {"brazil": 350, "payers": 300}}
    assert data["entries"]["features.double_xp"]["description"] == "Double XP weekend switch"
    assert data["entries"]["shop.bundle"]["type"] == "json"
    assert data["entries"]["motd"] == {"type": "string", "value": "Welcome!"}
    reading = validate_repository(root)
    assert not reading.errors and set(reading.configs) == {"InExperienceConfig"}


def test_reimport_keeps_comments_and_local_fields_and_changes_only_what_changed(
    root: Path,
) -> None:
    emulator = Emulator(db=":memory:")
    publish_live(emulator)
    with emulated_client(emulator, universe_id=1) as client:
        import_configs(client, root)
        text = (root / FILE).read_text()
        text = text.replace("  motd:\n", "  # shown on the lobby board\n  motd:\n")
        text = text.replace("    value: Welcome!\n", "    value: Welcome!  # keep it short\n")
        text = text.replace("  strategy: Immediate", "  strategy: GradualRollout")
        text += "  local.only:\n    type: boolean\n    value: true\n"
        (root / FILE).write_text(text)
        publish_live(emulator, entries={"motd": "Hello", "features.double_xp": True}, rules={})
        done = import_configs(client, root)
    assert done.action is FileAction.UPDATED
    updated = (root / FILE).read_text()
    assert "# shown on the lobby board" in updated and "# keep it short" in updated
    data = yaml.safe_load(updated)
    assert data["publish"]["strategy"] == "GradualRollout"  # the file's choice is kept
    assert data["conditions"] == []
    assert data["entries"]["motd"]["value"] == "Hello"
    assert data["entries"]["features.double_xp"]["value"] is True
    # keys that are not published any more are kept (import never deletes) and reported
    assert data["entries"]["local.only"] == {"type": "boolean", "value": True}
    assert "shop.sword_price" in data["entries"]
    assert set(done.kept) == {"shop.sword_price", "shop.bundle", "local.only"}
    assert any("not published" in note for note in done.notes)


def test_a_staged_draft_is_noted_and_not_imported(root: Path) -> None:
    emulator = Emulator(db=":memory:")
    publish_live(emulator)
    emulator.configs.stage_from_creator_hub(1, "InExperienceConfig", {"entries": {"motd": "x"}})
    with emulated_client(emulator, universe_id=1) as client:
        done = import_configs(client, root)
    assert done.draft_staged and any("staged draft" in note for note in done.notes)
    assert yaml.safe_load((root / FILE).read_text())["entries"]["motd"]["value"] == "Welcome!"


def test_data_stores_config_is_refused(root: Path) -> None:
    with (
        emulated_client(Emulator(db=":memory:"), universe_id=1) as client,
        pytest.raises(ConfigError, match="erasure"),
    ):
        import_configs(client, root, "DataStoresConfig")


def test_the_command(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_repository(root)
    code, out, err = invoke_cli(["-C", str(root), "import", "--configs", "--dry-run"], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == f"create   {FILE}"
    assert "Dry run, nothing written" in out and not (root / FILE).exists()
    code, out, err = invoke_cli(["-C", str(root), "import", "--configs"], capsys)
    assert code == 0 and out.splitlines()[0] == f"created  {FILE}"
    code, out, err = invoke_cli(
        ["-C", str(root), "import", "--configs", "--format", "json"], capsys
    )
    payload = json.loads(out)
    assert payload["action"] == "unchanged" and payload["keys"] == 4
    assert payload["conditions"] == 2 and payload["config_version"] == 1
    code, out, err = invoke_cli(
        ["-C", str(root), "import", "--configs", "--repository", "Nope"], capsys
    )
    assert code != 0 and "InExperienceConfig" in err
