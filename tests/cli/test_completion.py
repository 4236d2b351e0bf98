"""``dsgit completion``: the scripts, and the candidates click's completion protocol answers.

The protocol is click's (https://click.palletsprojects.com/en/stable/shell-completion/): the
shell runs the program with ``_DSGIT_COMPLETE=<shell>_complete``, ``COMP_WORDS`` (the line) and
``COMP_CWORD`` (bash, zsh: the index of the word being completed; fish: that word itself).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dsgit.cli.completion import COMPLETE_VAR
from support import invoke_cli, write_files

DSGIT_YAML = """\
version: 1
default_environment: local
environments:
  local:
    description: Embedded emulator
    universe_id: 1
    emulator: .dsgit/emulator.db
  staging:
    universe_id: 2
    url: https://apis.roblox.com
    api_key_env: STAGING_KEY
  production:
    universe_id: 3
    url: https://apis.roblox.com
    api_key_env: PROD_KEY
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = write_files(
        tmp_path / "game",
        {
            "dsgit.yaml": DSGIT_YAML,
            "datastores/GameConfig/global/welcome.yaml": "value: 1\n",
            "datastores/GameConfig/global/shop.yaml": "value: 2\n",
            "datastores/GameConfig/_store.yaml": "ownership: owned\n",
            "datastores/PlayerData/global/Player_1.yaml": "value: {}\n",
            "datastores/DATA%2F123/global/x.yaml": "value: 1\n",
            "ordered/Leaderboard/global.yaml": "alice: 10\nbob: 20\n",
            "datastores/GameConfig/event%20scope/party.yaml": "value: 3\n",
            "audit/preimages/20261201T100000Z-aaaa/standard/x.json": "{}\n",
            "audit/preimages/20261202T100000Z-bbbb/standard/x.json": "{}\n",
            "plans/staging.json": "{}\n",
            "plans/notes.txt": "not a plan\n",
            "plan.json": "{}\n",
            "migrations/save-v2.yaml": "version: 1\n",
            "migrations/coins-to-int.yml": "version: 1\n",
            "migrations/README.md": "notes\n",
        },
    )
    return root


def complete(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    line: str,
    shell: str = "bash",
) -> list[tuple[str, str]]:
    """The (type, value) candidates for the last word of ``line`` (empty after a space)."""
    words = line.split(" ")
    monkeypatch.setenv(COMPLETE_VAR, f"{shell}_complete")
    monkeypatch.setenv("COMP_WORDS", line)
    monkeypatch.setenv("COMP_CWORD", words[-1] if shell == "fish" else str(len(words) - 1))
    code, out, err = invoke_cli([], capsys)
    assert code == 0, err
    rows = [row for row in out.splitlines() if row]
    if shell in ("bash", "fish"):  # type,value per line
        return [(row.split(",", 1)[0], row.split(",", 1)[1]) for row in rows]
    # zsh: type, value and help ("_" for none), one line each
    return [(rows[i], rows[i + 1]) for i in range(0, len(rows), 3)]


def values(candidates: list[tuple[str, str]]) -> list[str]:
    return [value for _kind, value in candidates]


def test_commands_and_options_complete(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    assert values(complete(capsys, monkeypatch, "dsgit re")) == [
        "report",
        "restore",
        "retention",
        "revert",
    ]
    assert "completion" in values(complete(capsys, monkeypatch, "dsgit co"))
    options = values(complete(capsys, monkeypatch, "dsgit plan --d"))
    assert options == ["--detailed-exitcode"]
    assert values(complete(capsys, monkeypatch, "dsgit completion ")) == ["bash", "zsh", "fish"]


def test_environment_names_complete_from_dsgit_yaml(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo / "datastores")  # below the root, as commands find it
    assert values(complete(capsys, monkeypatch, "dsgit plan -e ")) == [
        "local",
        "staging",
        "production",
    ]
    assert values(complete(capsys, monkeypatch, "dsgit drift --env st")) == ["staging"]
    assert values(complete(capsys, monkeypatch, "dsgit apply plan.json -e p")) == ["production"]
    assert values(complete(capsys, monkeypatch, "dsgit ls -e l")) == ["local"]
    zsh = complete(capsys, monkeypatch, "dsgit rollback -e lo", shell="zsh")
    assert zsh == [("plain", "local")]


def test_zsh_shows_an_environments_description(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    monkeypatch.setenv(COMPLETE_VAR, "zsh_complete")
    monkeypatch.setenv("COMP_WORDS", "dsgit plan -e lo")
    monkeypatch.setenv("COMP_CWORD", "3")
    _code, out, _err = invoke_cli([], capsys)
    assert out.splitlines() == ["plain", "local", "Embedded emulator"]


def test_chdir_option_is_honoured(
    repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # not a repository
    assert complete(capsys, monkeypatch, "dsgit plan -e ") == []
    found = values(complete(capsys, monkeypatch, f"dsgit -C {repo} plan -e s"))
    assert found == ["staging"]


def test_plan_files_complete_json_and_folders(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    assert values(complete(capsys, monkeypatch, "dsgit apply pl")) == ["plan.json", "plans/"]
    assert values(complete(capsys, monkeypatch, "dsgit apply plans/")) == ["plans/staging.json"]
    assert values(complete(capsys, monkeypatch, "dsgit show plans/s")) == ["plans/staging.json"]
    assert values(complete(capsys, monkeypatch, "dsgit plan -o plans/")) == ["plans/staging.json"]
    assert values(complete(capsys, monkeypatch, "dsgit approve plans/")) == ["plans/staging.json"]
    found = values(complete(capsys, monkeypatch, "dsgit approvals check plans/"))
    assert found == ["plans/staging.json"]
    fish = complete(capsys, monkeypatch, "dsgit apply plans/st", shell="fish")
    assert fish == [("plain", "plans/staging.json")]


def test_store_names_complete_from_the_declaration(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    assert values(complete(capsys, monkeypatch, "dsgit ls ")) == [
        "DATA/123",
        "GameConfig",
        "PlayerData",
    ]
    assert values(complete(capsys, monkeypatch, "dsgit ls --ordered ")) == ["Leaderboard"]
    assert values(complete(capsys, monkeypatch, "dsgit get P")) == ["PlayerData"]
    assert values(complete(capsys, monkeypatch, "dsgit import --store ")) == [
        "DATA/123",
        "GameConfig",
        "Leaderboard",
        "PlayerData",
    ]
    ordered_only = values(complete(capsys, monkeypatch, "dsgit import --ordered-only --store "))
    assert ordered_only == ["Leaderboard"]


def test_keys_scopes_and_apply_ids_complete(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    assert values(complete(capsys, monkeypatch, "dsgit get GameConfig ")) == ["shop", "welcome"]
    assert values(complete(capsys, monkeypatch, "dsgit history GameConfig w")) == ["welcome"]
    scopes = values(complete(capsys, monkeypatch, "dsgit get GameConfig x --scope "))
    assert scopes == ["event scope", "global"]  # decoded: get takes names, not file names
    keys = values(complete(capsys, monkeypatch, "dsgit get GameConfig --scope 'event scope' "))
    assert keys == ["party"]
    ordered = values(complete(capsys, monkeypatch, "dsgit get --ordered Leaderboard "))
    assert ordered == ["alice", "bob"]
    assert values(complete(capsys, monkeypatch, "dsgit ls GameConfig --scope g")) == ["global"]
    assert values(complete(capsys, monkeypatch, "dsgit revert ")) == [
        "20261202T100000Z-bbbb",
        "20261201T100000Z-aaaa",
    ]  # newest first
    assert values(complete(capsys, monkeypatch, "dsgit migrate plan ")) == [
        "coins-to-int",
        "save-v2",
    ]
    assert values(complete(capsys, monkeypatch, "dsgit migrate show s")) == ["save-v2"]


def test_targets_complete_one_level_at_a_time(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    assert values(complete(capsys, monkeypatch, "dsgit plan --target ")) == [
        "DATA%2F123/",
        "GameConfig/",
        "PlayerData/",
        "ordered:Leaderboard/",
    ]
    assert values(complete(capsys, monkeypatch, "dsgit plan --target Game")) == ["GameConfig/"]
    assert values(complete(capsys, monkeypatch, "dsgit plan --target GameConfig/")) == [
        "GameConfig/event%20scope/",
        "GameConfig/global/",
    ]
    keys = values(complete(capsys, monkeypatch, "dsgit plan --exclude GameConfig/global/"))
    assert keys == ["GameConfig/global/shop", "GameConfig/global/welcome"]
    ordered = values(complete(capsys, monkeypatch, "dsgit plan --target ordered:Leaderboard/"))
    assert ordered == ["ordered:Leaderboard/global/"]
    ordered = values(
        complete(capsys, monkeypatch, "dsgit plan --target ordered:Leaderboard/global/")
    )
    assert ordered == ["ordered:Leaderboard/global/alice", "ordered:Leaderboard/global/bob"]


def test_broken_dsgit_yaml_completes_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "dsgit.yaml").write_text("environments: [oops\n", encoding="utf-8")
    monkeypatch.chdir(repo)
    assert complete(capsys, monkeypatch, "dsgit plan -e ") == []


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _dsgit_completion dsgit"),
        ("zsh", "#compdef dsgit"),
        ("fish", "complete --no-files --command dsgit"),
    ],
)
def test_scripts_are_generated(shell: str, marker: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke_cli(["completion", shell], capsys)
    assert code == 0
    assert marker in out and "_DSGIT_COMPLETE" in out and f"{shell}_complete" in out


def test_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = invoke_cli(["completion", "powershell"], capsys)
    assert code == 1 and "powershell" in err


@pytest.mark.slow
def test_bash_script_completes_through_a_real_bash(repo: Path, tmp_path: Path) -> None:
    """The generated script, sourced in bash, fills COMPREPLY by running the installed dsgit."""
    bash = "/bin/bash"
    dsgit = Path(sys.executable).with_name("dsgit")
    script = subprocess.run(
        [str(dsgit), "completion", "bash"], capture_output=True, text=True, check=True
    ).stdout
    probe = (
        f"{script}\n"
        "COMP_WORDS=(dsgit plan -e st); COMP_CWORD=3\n"
        "_dsgit_completion dsgit 2>/dev/null\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", probe],
        capture_output=True,
        text=True,
        cwd=repo,
        env={"PATH": f"{dsgit.parent}:/usr/bin:/bin", "HOME": str(tmp_path)},
        check=True,
    )
    assert result.stdout.split() == ["staging"]


def test_an_alias_bomb_in_dsgit_yaml_completes_nothing_at_once(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tab must never expand a billion laughs: files with aliases are not loaded at all."""
    rows = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    rows += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 12)]
    (repo / "dsgit.yaml").write_text(
        "\n".join(rows) + "\nversion: 1\nenvironments: {local: {universe_id: 1}}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(repo)
    assert complete(capsys, monkeypatch, "dsgit plan -e ") == []
