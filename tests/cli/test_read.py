"""``dsgit ls``, ``get`` and ``history`` on a temporary repository with an embedded emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dsgit.cli.main import cli, main
from dsgit.config import load_project_config
from dsgit.errors import ConfigError, DsgitError
from dsgit.model.entry import EntryData
from dsgit.remote.connect import open_client
from support import LOCAL_CONFIG

CONFIG = (
    LOCAL_CONFIG
    + """\
  other:
    universe_id: 2
    emulator: .dsgit/emulator.db
  prod:
    universe_id: 3
    url: https://apis.roblox.com
    api_key_env: DSGIT_TEST_KEY
"""
)


@pytest.fixture
def repo(repo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DSGIT_EMULATOR_VERSIONS", "all")  # history counts every write
    repo_dir.mkdir()
    (repo_dir / "dsgit.yaml").write_text(CONFIG, encoding="utf-8")
    env = load_project_config(repo_dir).environment("local")
    with open_client(env) as client:
        client.create_entry("PlayerData", "Player_1", EntryData({"Coins": 10}, {"v": 1}, (7,)))
        client.update_entry("PlayerData", "Player_1", EntryData({"Coins": 20}, {}, (7,)))
        client.create_entry("PlayerData", "Player_2", EntryData({"Coins": 5}))
        client.create_entry("PlayerData", "old", EntryData(0), scope="season1")
        client.create_entry("DATA/12345", "1", EntryData({"coins": 1}))
        client.create_entry("Bans", "mail@example", EntryData(True))
        client.create_ordered("Wins", "alice", 9)
        client.create_ordered("Wins", "bob", 3)
    assert (repo_dir / ".dsgit" / "emulator.db").is_file()
    yield repo_dir


def run(repo: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(repo), *args], catch_exceptions=True)


def ok(repo: Path, *args: str) -> str:
    result = run(repo, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_ls_lists_data_stores(repo: Path) -> None:
    assert ok(repo, "ls").splitlines() == ["Bans", "DATA/12345", "PlayerData"]
    listed = json.loads(ok(repo, "ls", "--format", "json", "--prefix", "DATA"))
    assert [(item["id"], item["state"]) for item in listed] == [("DATA/12345", "ACTIVE")]


def test_ls_deleted_stores(repo: Path) -> None:
    env = load_project_config(repo).environment("local")
    with open_client(env) as client:
        client.delete_data_store("Bans")
    assert ok(repo, "ls").splitlines() == ["DATA/12345", "PlayerData"]
    lines = ok(repo, "ls", "--deleted").splitlines()
    assert lines[0].startswith("Bans\t(deleted, purged at ")
    states = {
        i["id"]: i["state"] for i in json.loads(ok(repo, "ls", "--deleted", "--format", "json"))
    }
    assert states == {"Bans": "DELETED", "DATA/12345": "ACTIVE", "PlayerData": "ACTIVE"}


def test_ls_other_environment_is_another_universe(repo: Path) -> None:
    assert ok(repo, "ls", "-e", "other") == ""
    assert json.loads(ok(repo, "ls", "-e", "other", "--format", "json")) == []


def test_ls_store_lists_keys(repo: Path) -> None:
    assert ok(repo, "ls", "PlayerData").splitlines() == ["Player_1", "Player_2"]
    assert ok(repo, "ls", "PlayerData", "--scope", "season1").splitlines() == ["old"]
    assert ok(repo, "ls", "PlayerData", "--prefix", "Player_2").splitlines() == ["Player_2"]
    lines = ok(repo, "ls", "PlayerData", "--all-scopes").splitlines()
    assert sorted(lines) == ["global\tPlayer_1", "global\tPlayer_2", "season1\told"]
    keys = json.loads(ok(repo, "ls", "PlayerData", "--all-scopes", "--format", "json"))
    assert {(k["scope"], k["key"]) for k in keys} == {
        ("global", "Player_1"),
        ("global", "Player_2"),
        ("season1", "old"),
    }


def test_ls_ordered(repo: Path) -> None:
    assert ok(repo, "ls", "Wins", "--ordered").splitlines() == ["bob\t3", "alice\t9"]
    assert ok(repo, "ls", "Wins", "--ordered", "--descending").splitlines() == [
        "alice\t9",
        "bob\t3",
    ]
    assert json.loads(ok(repo, "ls", "Wins", "--ordered", "--format", "json")) == [
        {"scope": "global", "key": "bob", "value": 3},
        {"scope": "global", "key": "alice", "value": 9},
    ]


def test_get_shows_value_and_metadata(repo: Path) -> None:
    text = ok(repo, "get", "PlayerData", "Player_1")
    assert "PlayerData/global/Player_1" in text
    assert '"Coins": 20' in text
    assert "users      7" in text
    assert "\x1b[" not in text  # plain when not a terminal
    entry = json.loads(ok(repo, "get", "PlayerData", "Player_1", "--format", "json"))
    assert entry["value"] == {"Coins": 20}
    assert entry["users"] == [7]
    assert entry["store"] == "PlayerData" and entry["scope"] == "global"
    assert set(entry) >= {"etag", "revisionId", "revisionCreateTime", "createTime", "state"}


def test_get_special_keys_and_stores(repo: Path) -> None:
    assert json.loads(ok(repo, "get", "Bans", "mail@example", "--format", "json"))["value"] is True
    assert json.loads(ok(repo, "get", "DATA/12345", "1", "--format", "json"))["value"] == {
        "coins": 1
    }


def test_get_ordered(repo: Path) -> None:
    assert ok(repo, "get", "Wins", "alice", "--ordered").splitlines()[-1] == "9"
    body = json.loads(ok(repo, "get", "Wins", "alice", "--ordered", "--format", "json"))
    assert body == {"store": "Wins", "scope": "global", "key": "alice", "value": 9}


def test_history_and_get_revision(repo: Path) -> None:
    revisions = json.loads(ok(repo, "history", "PlayerData", "Player_1", "--format", "json"))
    assert len(revisions) == 2
    values = {
        json.dumps(
            json.loads(
                ok(
                    repo,
                    "get",
                    "PlayerData",
                    "Player_1",
                    "--revision",
                    item["revisionId"],
                    "--format",
                    "json",
                )
            )["value"]
        )
        for item in revisions
    }
    assert values == {'{"Coins": 10}', '{"Coins": 20}'}
    text = ok(repo, "history", "PlayerData", "Player_1")
    assert text.splitlines()[0].startswith("REVISION")
    assert all(item["revisionId"] in text for item in revisions)


def test_history_time_window(repo: Path) -> None:
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (
        json.loads(
            ok(repo, "history", "PlayerData", "Player_1", "--since", future, "--format", "json")
        )
        == []
    )
    assert (
        len(
            json.loads(
                ok(repo, "history", "PlayerData", "Player_1", "--until", future, "--format", "json")
            )
        )
        == 2
    )


def test_get_at_time(repo: Path) -> None:
    soon = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    entry = json.loads(ok(repo, "get", "PlayerData", "Player_1", "--at", soon, "--format", "json"))
    assert entry["value"] == {"Coins": 20}
    result = run(repo, "get", "PlayerData", "Player_1", "--at", "2001-01-01")
    assert isinstance(result.exception, DsgitError)
    assert "no entry PlayerData/global/Player_1 at 2001-01-01" in str(result.exception)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["get", "PlayerData", "nobody"], "no entry PlayerData/global/nobody"),
        (["get", "Wins", "carol", "--ordered"], "no ordered entry ordered:Wins/global/carol"),
        (["get", "S", "k", "--revision", "r", "--at", "2024-01-01"], "either --revision or --at"),
        (["get", "S", "k", "--ordered", "--revision", "r"], "keep no revisions"),
        (["get", "S", "k", "--at", "yesterday"], "bad time 'yesterday'"),
        (["ls", "--ordered"], "need a STORE"),
        (["ls", "S", "--scope", "a", "--all-scopes"], "either --scope or --all-scopes"),
        (["ls", "S", "--descending"], "--descending applies to ordered"),
        (["history", "S", "k", "--since", "2024-02-01", "--until", "2024-01-01"], "--since"),
        (["ls", "-e", "nope"], "unknown environment 'nope'"),
    ],
)
def test_bad_usage_is_one_clear_error(
    repo: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["-C", str(repo), *args])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_history_of_a_missing_entry_names_the_request(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["-C", str(repo), "history", "PlayerData", "nobody"])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "GET /cloud/v2/universes/1/data-stores/PlayerData/scopes/global/entries/nobody" in err
    assert "404" in err


def test_remote_environment_without_key_is_a_config_error(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSGIT_TEST_KEY", "")
    result = run(repo, "ls", "-e", "prod")
    assert isinstance(result.exception, ConfigError)
    assert "DSGIT_TEST_KEY" in str(result.exception)


def test_no_color_even_on_a_terminal(repo: Path) -> None:
    result = CliRunner().invoke(cli, ["-C", str(repo), "get", "Bans", "mail@example"], color=True)
    assert result.exit_code == 0
    assert "\x1b[" not in result.output  # NO_COLOR is set by the hermetic fixture


def test_help_everywhere() -> None:
    for command in ("ls", "get", "history"):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert result.exit_code == 0
        assert "--env" in result.output and "--format" in result.output


def test_get_masks_sensitive_pointers(repo: Path) -> None:
    env = load_project_config(repo).environment("local")
    secret_value = {"Email": "canary-secret@example.com", "Coins": 3, "Codes": ["c-1", "c-2"]}
    with open_client(env) as client:
        client.create_entry("Accounts", "u1", EntryData(secret_value))
        client.create_entry("Accounts", "vip_1", EntryData(secret_value))
    store_dir = repo / "datastores" / "Accounts"
    store_dir.mkdir(parents=True)
    (store_dir / "_store.yaml").write_text(
        "sensitive: [/Email]\noverrides:\n  - keys: 'vip_*'\n    sensitive: [/Email, /Codes/*]\n",
        encoding="utf-8",
    )
    text = ok(repo, "get", "Accounts", "u1")
    assert "canary-secret" not in text and '"Email": "(sensitive)"' in text
    assert '"c-1"' in text
    body = json.loads(ok(repo, "get", "Accounts", "vip_1", "--format", "json"))
    assert body["value"] == {"Email": "(sensitive)", "Coins": 3, "Codes": ["(sensitive)"] * 2}


def test_get_masks_encrypted_pointers_too(repo: Path) -> None:
    # `encrypted` values are ciphertext in git but plaintext live: `get` must not show them
    env = load_project_config(repo).environment("local")
    value = {"webhook": "https://canary-hook.example/secret", "token": "canary-tok", "on": True}
    with open_client(env) as client:
        client.create_entry("Hooks", "discord", EntryData(value))
        client.create_entry("Hooks", "slack", EntryData(value))
    store_dir = repo / "datastores" / "Hooks"
    store_dir.mkdir(parents=True)
    (store_dir / "_store.yaml").write_text(
        "encrypted: [/webhook]\noverrides:\n  - keys: 'slack'\n    encrypted: [/webhook, /token]\n",
        encoding="utf-8",
    )
    text = ok(repo, "get", "Hooks", "discord")
    assert "canary-hook" not in text and '"webhook": "(sensitive)"' in text
    assert "canary-tok" in text  # only the store's pointers are masked
    body = json.loads(ok(repo, "get", "Hooks", "slack", "--format", "json"))
    assert body["value"] == {"webhook": "(sensitive)", "token": "(sensitive)", "on": True}


def test_get_refuses_to_show_values_when_store_settings_are_unreadable(repo: Path) -> None:
    store_dir = repo / "datastores" / "PlayerData"
    store_dir.mkdir(parents=True)
    (store_dir / "_store.yaml").write_text("sensitive: /not-a-list\n", encoding="utf-8")
    result = run(repo, "get", "PlayerData", "Player_1")
    assert isinstance(result.exception, ConfigError)
    assert "_store.yaml" in str(result.exception) and "sensitive" in str(result.exception)
    assert "Coins" not in result.output


def test_history_is_oldest_first_whatever_the_fraction_digits() -> None:
    from dsgit.remote.api import RevisionInfo
    from dsgit.remote.browse import entry_history

    class Api:
        def list_revisions(self, *args: object, **kw: object) -> list[RevisionInfo]:
            return [
                RevisionInfo("b", "2024-07-22T19:40:35.12Z", None, "ACTIVE"),
                RevisionInfo("a", "2024-07-22T19:40:35.1Z", None, "ACTIVE"),
                RevisionInfo("c", "2024-07-22T19:40:36Z", None, "DELETED"),
            ]

    ordered = entry_history(Api(), "S", "k")  # type: ignore[arg-type]
    assert [item.revision_id for item in ordered] == ["a", "b", "c"]


def test_read_commands_against_a_served_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsgit.emulator import Emulator

    emulator = Emulator(
        db=":memory:",
        ccu=100,
        api_keys={
            "k-123": frozenset(
                {
                    "universe-datastores.objects:list",
                    "universe-datastores.objects:read",
                    "universe-datastores.control:list",
                    "universe-datastores.versions:list",
                }
            )
        },
    )
    monkeypatch.setenv("DSGIT_SERVED_KEY", "k-123")
    with emulator.serve(host="127.0.0.1", port=0) as server:
        root = tmp_path / "served-repo"
        root.mkdir()
        (root / "dsgit.yaml").write_text(
            "version: 1\ndefault_environment: served\nenvironments:\n  served:\n"
            f"    universe_id: 5\n    url: {server.url}\n    api_key_env: DSGIT_SERVED_KEY\n"
            "    budget: {ccu: 100, share: 0.5}\n",
            encoding="utf-8",
        )
        assert ok(root, "ls") == ""
        result = run(root, "get", "S", "k")
        assert isinstance(result.exception, DsgitError)
        assert "no entry S/global/k" in str(result.exception)
        monkeypatch.setenv("DSGIT_SERVED_KEY", "not-the-key")
        result = run(root, "ls")
        assert isinstance(result.exception, DsgitError)
        assert "HTTP 401" in str(result.exception) and "not-the-key" not in str(result.exception)
