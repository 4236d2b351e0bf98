from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.crypto import ENV_KEY, encode_key, generate_key
from dsgit.emulator import Emulator
from dsgit.model.entry import EntryData
from dsgit.remote.testing import emulated_client
from support import invoke_cli

CANARY = "canary-import-cli-0d3a"


def run(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return invoke_cli(["-C", str(root), *args], capsys)


def seed(root: Path) -> None:
    """Live data in the repository's embedded emulator (the `local` environment)."""
    (root / ".dsgit").mkdir(exist_ok=True)
    with (
        Emulator(db=root / ".dsgit/emulator.db") as emulator,
        emulated_client(emulator, universe_id=1) as client,
    ):
        client.update_entry(
            "PlayerData", "Player_1", EntryData({"coins": 5, "name": "yes"}), allow_missing=True
        )
        client.update_entry(
            "Config", "webhook", EntryData({"token": CANARY, "on": True}), allow_missing=True
        )
        client.update_ordered("Wins", "Player_1", 7, allow_missing=True)


def test_import_command(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed(root)
    code, out, err = run(root, capsys, "import", "--store", "PlayerData", "--store", "Wins")
    assert code == 0, err
    assert out.splitlines() == [
        "created  datastores/PlayerData/global/Player_1.yaml",
        "created  ordered/Wins/global.yaml",
        "Imported: 2 created, 0 updated, 0 unchanged (2 entries) from local (universe 1).",
        "note: ordered store 'Wins': Open Cloud cannot list its scopes, so only 'global' were "
        "read; name others with --scope or `scopes:` in its _store.yaml",
    ]
    assert "name: 'yes'" in (root / "datastores/PlayerData/global/Player_1.yaml").read_text()
    code, out, err = run(root, capsys, "import", "--format", "json", "--standard-only")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["summary"] == {"created": 1, "updated": 0, "unchanged": 1, "entries": 2}
    assert payload["environment"] == "local" and payload["universe_id"] == 1
    assert payload["files"][0]["path"] == "datastores/Config/global/webhook.yaml"


def test_dry_run_writes_nothing(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed(root)
    code, out, _err = run(root, capsys, "import", "--dry-run", "--store", "PlayerData")
    assert code == 0
    assert out.splitlines()[0] == "create   datastores/PlayerData/global/Player_1.yaml"
    assert "Dry run, nothing written" in out
    assert not (root / "datastores").exists()


def test_encrypted_store_needs_a_key(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(root)
    (root / "datastores/Config").mkdir(parents=True)
    (root / "datastores/Config/_store.yaml").write_text("encrypted: [/token]\n")
    code, out, err = run(root, capsys, "import", "--store", "Config")
    assert code == 1
    assert "Config/global/webhook#/token" in err and "no encryption key" in err
    assert CANARY not in out + err
    assert not (root / "datastores/Config/global").exists()
    monkeypatch.setenv(ENV_KEY, encode_key(generate_key()))
    code, out, err = run(root, capsys, "import", "--store", "Config")
    assert code == 0, err
    text = (root / "datastores/Config/global/webhook.yaml").read_text()
    assert "token: ENC[AES256_GCM," in text and "'on': true" in text
    assert CANARY not in text + out + err
