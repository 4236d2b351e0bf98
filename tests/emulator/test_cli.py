"""``dsgit emulator serve`` and its key configuration."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsgit.cli.emulator import _loopback
from dsgit.cli.main import cli
from dsgit.emulator.keys import keys_from_env, keys_from_file_text, parse_key_spec
from dsgit.errors import ConfigError

from .conftest import validated_client
from .helpers import entries_url, entry_url

CANARY = "cli-canary-7f3a9c"


def test_key_specs() -> None:
    assert parse_key_spec("K") == ("K", frozenset({"*"}))
    key, scopes = parse_key_spec("K:universe-datastores.objects:read,universe:write")
    assert key == "K" and scopes == {"universe-datastores.objects:read", "universe:write"}
    with pytest.raises(ValueError, match="not a scope"):
        parse_key_spec(f"{CANARY}:bad scope")
    with pytest.raises(ValueError, match="empty"):
        parse_key_spec(":universe:read")
    assert keys_from_env("A;B:universe:read\nC") == {
        "A": frozenset({"*"}),
        "B": frozenset({"universe:read"}),
        "C": frozenset({"*"}),
    }


def test_keys_file() -> None:
    keys = keys_from_file_text('{"A": ["universe:read"], "B": "*"}', "keys.json")
    assert keys == {"A": frozenset({"universe:read"}), "B": frozenset({"*"})}
    with pytest.raises(ConfigError, match=r"keys\.json") as caught:
        keys_from_file_text(json.dumps({CANARY: [1]}), "keys.json")
    assert CANARY not in str(caught.value)
    with pytest.raises(ConfigError, match="not valid JSON"):
        keys_from_file_text("{", "keys.json")


def test_only_loopback_hosts_are_served_without_a_warning() -> None:
    # `serve` warns when it would accept any key from beyond this machine (tests only ever
    # listen on 127.0.0.1, so the decision is what is tested)
    for host in ("127.0.0.1", "127.3.4.5", "localhost", "::1", "[::1]"):
        assert _loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.20", "example.org", ""):
        assert not _loopback(host), host


def test_bad_options_are_usage_errors() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["emulator", "serve", "--faults", "error=7"])
    assert result.exit_code == 2 and "--faults" in result.output
    result = runner.invoke(cli, ["emulator", "serve", "--api-key", f"{CANARY}:bad scope"])
    assert result.exit_code == 2 and CANARY not in result.output


@pytest.mark.slow
def test_serve_runs_until_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "state" / "emulator.db"
    env = {**os.environ, "DSGIT_EMULATOR_API_KEYS": "other-key"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dsgit",
            "emulator",
            "serve",
            "--port",
            "0",
            "--db",
            str(db),
            "--api-key",
            f"{CANARY}:universe-datastores.objects:create,universe-datastores.objects:read",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline(), process.stdout.readline()]
        url = lines[1].strip().rsplit(" ", 1)[-1]
        assert lines[1].startswith("dsgit emulator listening on http://127.0.0.1:")
        assert "rate limits: on (ccu 0)" in lines[0] and "auth: 2 key(s)" in lines[0]
        with validated_client(base_url=url, **{"x-api-key": CANARY}) as client:
            made = client.post(entries_url("S"), params={"id": "k"}, json={"value": 1})
            assert made.status_code == 200
            assert client.get(entry_url("S", "k")).json()["value"] == 1
            assert client.delete(entry_url("S", "k")).status_code == 403
            unauth = client.get(entry_url("S", "k"), headers={"x-api-key": "nope"})
            assert unauth.status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert CANARY not in out + err + "".join(lines)
    assert db.is_file()


def test_keys_merge_env_file_and_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dsgit.cli.emulator import collect_api_keys

    keys_file = tmp_path / "keys.json"
    keys_file.write_text('{"file-key": ["universe:read"], "shared": "*"}', encoding="utf-8")
    monkeypatch.setenv("DSGIT_EMULATOR_API_KEYS", "env-key:universe:write shared:universe:read")
    keys = collect_api_keys(("flag-key",), keys_file)
    assert keys == {
        "env-key": frozenset({"universe:write"}),
        "shared": frozenset({"*"}),  # the file comes after the variable
        "file-key": frozenset({"universe:read"}),
        "flag-key": frozenset({"*"}),
    }
    monkeypatch.delenv("DSGIT_EMULATOR_API_KEYS")
    assert collect_api_keys((), None) is None
    with pytest.raises(ConfigError, match="cannot read"):
        collect_api_keys((), tmp_path / "missing.json")


def test_a_busy_port_is_a_clear_error() -> None:
    import socket
    import threading

    from dsgit.cli.emulator import serve_until_stopped
    from dsgit.emulator import Emulator

    with socket.socket() as taken, Emulator() as emulator:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            serve_until_stopped(emulator, "127.0.0.1", port, threading.Event())
