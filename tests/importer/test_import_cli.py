from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from dsgit.cli import importing
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
        "created  datastores/PlayerData/_store.yaml",
        "created  datastores/PlayerData/global/Player_1.yaml",
        "created  ordered/Wins/_store.yaml",
        "created  ordered/Wins/global.yaml",
        "Ownership of the stores imported into:",
        "  PlayerData    observed  new _store.yaml: the key 'Player_1' embeds a user id",
        "  ordered:Wins  observed  new _store.yaml: the key 'Player_1' embeds a user id",
        "Imported 2 entries from local (universe 1) into 2 files (2 created, 0 updated, "
        "0 unchanged), 2 new _store.yaml files.",
        "note: ordered store 'Wins': Open Cloud cannot list its scopes, so only 'global' were "
        "read; name others with --scope or `scopes:` in its _store.yaml",
    ]
    assert "name: 'yes'" in (root / "datastores/PlayerData/global/Player_1.yaml").read_text()
    settings = (root / "datastores/PlayerData/_store.yaml").read_text()
    assert settings.endswith("ownership: observed\n")
    assert "# Written by `dsgit import`: the key 'Player_1' embeds a user id." in settings
    # Config is new and does not look like player data: not on a terminal, no --ownership.
    code, out, err = run(root, capsys, "import", "--format", "json", "--standard-only")
    assert code == 1
    refusal = json.loads(out)["error"]
    assert refusal["kind"] == "ConfigError" and refusal["exit_code"] == 1
    message = refusal["message"]
    assert "Config (1 entry)" in message and "--ownership owned|seed|observed" in message
    assert "Nothing was written" in message and CANARY not in out + err
    assert not (root / "datastores/Config").exists()
    code, out, err = run(
        root, capsys, "import", "--format", "json", "--standard-only", "--ownership", "seed"
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["summary"] == {
        "entries": 2,
        "files": 2,
        "created": 1,
        "updated": 0,
        "unchanged": 1,
        "store_files_created": 1,
    }
    assert payload["environment"] == "local" and payload["universe_id"] == 1
    assert payload["files"][0]["path"] == "datastores/Config/global/webhook.yaml"
    assert payload["stores"] == [
        {
            "kind": "standard",
            "store": "Config",
            "ownership": "seed",
            "source": "flag",
            "reason": "--ownership seed",
            "settings_file": "datastores/Config/_store.yaml",
            "settings_written": True,
            "entries": 1,
        },
        {
            "kind": "standard",
            "store": "PlayerData",
            "ownership": "observed",
            "source": "existing",
            "reason": "its _store.yaml, kept as it is",
            "settings_file": "datastores/PlayerData/_store.yaml",
            "settings_written": False,
            "entries": 1,
        },
    ]
    assert (root / "datastores/Config/_store.yaml").read_text().endswith("ownership: seed\n")


def test_a_terminal_is_asked_per_new_store(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(root)
    monkeypatch.setattr(importing, "_is_interactive", lambda: True)
    monkeypatch.setattr("sys.stdin", io.StringIO("bogus\nowned\n"))
    code, out, err = run(root, capsys, "import", "--store", "Config", "--standard-only")
    assert code == 0, err
    assert "New store Config (1 entry) does not look like player data" in err
    assert "Ownership of Config (owned, seed, observed)" in err
    assert "  Config  owned     new _store.yaml: chosen at the prompt" in out
    text = (root / "datastores/Config/_store.yaml").read_text()
    assert "# Written by `dsgit import`: chosen at import." in text
    assert text.endswith("ownership: owned\n")


def test_dry_run_reports_undecided_stores(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed(root)
    code, out, err = run(root, capsys, "import", "--dry-run", "--standard-only")
    assert code == 0, err
    assert out.splitlines() == [
        "create   datastores/Config/global/webhook.yaml",
        "create   datastores/PlayerData/_store.yaml",
        "create   datastores/PlayerData/global/Player_1.yaml",
        "Ownership of the stores imported into:",
        "  Config      ?         new store, needs --ownership owned|seed|observed",
        "  PlayerData  observed  new _store.yaml: the key 'Player_1' embeds a user id",
        "Dry run, nothing written: would import 2 entries from local (universe 1) into 2 files "
        "(2 created, 0 updated, 0 unchanged), 1 new _store.yaml.",
    ]
    assert not (root / "datastores").exists()


def test_dry_run_writes_nothing(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed(root)
    code, out, _err = run(root, capsys, "import", "--dry-run", "--store", "PlayerData")
    assert out.splitlines()[0] == "create   datastores/PlayerData/_store.yaml"
    out = "\n".join(out.splitlines()[1:])
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
