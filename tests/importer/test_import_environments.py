"""``dsgit import`` of a second environment: the declared value stays, differences become a
merge patch under that environment, and every environment then plans nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsgit.config import load_project_config
from dsgit.model.entry import Address, EntryData
from dsgit.model.overrides import for_environment
from dsgit.remote.connect import open_client
from dsgit.repo import load_declaration
from support import invoke_cli, write_files

KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
CONFIG = """\
version: 1
default_environment: staging
environments:
  staging:
    universe_id: 2
    emulator: .dsgit/staging.db
  production:
    universe_id: 3
    emulator: .dsgit/production.db
"""


@pytest.fixture
def repo(repo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DSGIT_ENCRYPTION_KEY", KEY)
    return write_files(
        repo_dir,
        {
            "dsgit.yaml": CONFIG,
            "datastores/Vault/_store.yaml": "ownership: owned\nencrypted: [/token]\n",
        },
    )


def seed(repo: Path, env: str, entries: dict[tuple[str, str], EntryData]) -> None:
    with open_client(load_project_config(repo).environment(env)) as client:
        for (store, key), data in entries.items():
            client.update_entry(store, key, data, allow_missing=True)


def cli(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code, out, err = invoke_cli(["-C", str(repo), *args], capsys)
    return code, out + err


def plans_nothing(repo: Path, capsys: pytest.CaptureFixture[str], env: str) -> None:
    code, out = cli(repo, capsys, "plan", "-e", env, "--detailed-exitcode")
    assert code == 0, out


def test_a_second_environment_is_imported_as_overrides(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(
        repo,
        "staging",
        {
            ("Shop", "sword"): EntryData({"price": 250, "currency": "coins"}, {"tier": "a"}),
            ("Shop", "shield"): EntryData({"price": 100}),
            ("Vault", "discord"): EntryData({"token": "CANARY-staging-1", "name": "bot"}),
        },
    )
    seed(
        repo,
        "production",
        {
            ("Shop", "sword"): EntryData({"price": 300, "currency": "coins"}, {"tier": "a"}, (5,)),
            ("Shop", "shield"): EntryData({"price": 100}),
            ("Vault", "discord"): EntryData({"token": "CANARY-production-1", "name": "bot"}),
        },
    )
    assert cli(repo, capsys, "import", "-e", "staging", "--ownership", "owned")[0] == 0
    sword = repo / "datastores/Shop/global/sword.yaml"
    sword.write_text("# the shop's best item\n" + sword.read_text(encoding="utf-8"))
    assert cli(repo, capsys, "import", "-e", "production")[0] == 0

    text = sword.read_text(encoding="utf-8")
    assert text.startswith("# the shop's best item\n")
    declaration = load_declaration(repo)
    entry = declaration.entry(Address.standard("Shop", "sword"))
    assert entry is not None
    assert entry.data == EntryData({"price": 250, "currency": "coins"}, {"tier": "a"})
    production = entry.environments["production"]
    assert production.patch == {"price": 300} and production.users == (5,)
    assert production.attributes is None  # the same as declared: no override
    shield = declaration.entry(Address.standard("Shop", "shield"))
    assert shield is not None and not shield.environments  # identical: nothing to override
    vault = (repo / "datastores/Vault/global/discord.yaml").read_text(encoding="utf-8")
    assert "CANARY" not in vault and vault.count("ENC[") == 2  # the override is sealed too
    assert cli(repo, capsys, "validate")[0] == 0
    for env in ("staging", "production"):
        plans_nothing(repo, capsys, env)
    effective = for_environment(load_declaration(repo), "production")
    assert effective.data(Address.standard("Shop", "sword")) == EntryData(
        {"price": 300, "currency": "coins"}, {"tier": "a"}, (5,)
    )

    # Re-importing an environment changes only what it sees.
    seed(repo, "staging", {("Shop", "sword"): EntryData({"price": 260, "currency": "coins"})})
    assert cli(repo, capsys, "import", "-e", "staging")[0] == 0
    for env in ("staging", "production"):
        plans_nothing(repo, capsys, env)
    # production patched the value, so the declared value became staging's again
    entry = load_declaration(repo).entry(Address.standard("Shop", "sword"))
    assert entry is not None and entry.data.value == {"price": 260, "currency": "coins"}
    assert entry.environments["production"].patch == {"price": 300}
    # production still sees the declared attributes: staging's differ, so they are its own
    assert entry.data.attributes == {"tier": "a"} and entry.environments["staging"].attributes == {}

    # Back to the declared value: the override goes away again.
    seed(
        repo,
        "production",
        {("Shop", "sword"): EntryData({"price": 260, "currency": "coins"}, {"tier": "a"})},
    )
    assert cli(repo, capsys, "import", "-e", "production")[0] == 0
    entry = load_declaration(repo).entry(Address.standard("Shop", "sword"))
    assert entry is not None and "production" not in entry.environments
    for env in ("staging", "production"):
        plans_nothing(repo, capsys, env)


def test_a_store_of_other_environments_is_not_imported(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(
        repo, {"datastores/Beta/_store.yaml": "ownership: owned\nenvironments: [staging]\n"}
    )
    seed(repo, "production", {("Beta", "flag"): EntryData(True)})
    code, out = cli(repo, capsys, "import", "-e", "production", "--store", "Beta")
    assert code == 0, out
    assert "exists only in staging" in out
    assert not (repo / "datastores/Beta/global").exists()


def test_ordered_values_of_another_environment_are_kept(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_project_config(repo)
    for env, wins in (("staging", {"alice": 9}), ("production", {"alice": 12, "bob": 4})):
        with open_client(config.environment(env)) as client:
            for key, number in wins.items():
                client.update_ordered("Wins", key, number, allow_missing=True)
    args = ("import", "--store", "Wins", "--ordered-only", "--ownership", "seed")
    assert cli(repo, capsys, *args, "-e", "staging")[0] == 0
    code, out = cli(repo, capsys, *args, "-e", "production")
    assert code == 0, out
    assert "kept the declared values of 'alice'" in out and "staging use the same file" in out
    text = (repo / "ordered/Wins/global.yaml").read_text(encoding="utf-8")
    assert "alice: 9" in text and "bob: 4" in text
