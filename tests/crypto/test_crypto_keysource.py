from __future__ import annotations

import stat
from pathlib import Path

import pytest

from dsgit.crypto import (
    DEFAULT_KEY_FILE,
    ENV_KEY,
    ENV_KEY_FILE,
    ENV_KEYS,
    KeyFileError,
    encode_key,
    generate_key,
    key_id,
    load_keyring,
    read_key_file,
    write_key_file,
)
from support import run_git


def test_no_keys_is_none(tmp_path: Path) -> None:
    assert load_keyring(tmp_path, {}) is None


def test_env_keys_in_order(tmp_path: Path) -> None:
    a, b, c = generate_key(), generate_key(), generate_key()
    env = {ENV_KEY: encode_key(a), ENV_KEYS: f"{encode_key(b)}, {encode_key(c)}\n{encode_key(a)}"}
    ring = load_keyring(tmp_path, env)
    assert ring is not None
    assert ring.kids == (key_id(a), key_id(b), key_id(c))
    assert ring.primary.material == a


def test_bad_env_key_names_variable_not_value(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError) as info:
        load_keyring(tmp_path, {ENV_KEY: "c2VjcmV0LXNob3J0"})
    assert ENV_KEY in str(info.value)
    assert "c2VjcmV0LXNob3J0" not in str(info.value)
    with pytest.raises(KeyFileError):
        load_keyring(tmp_path, {ENV_KEY: "not base64 !!"})


def test_key_file_round_trip_and_mode(tmp_path: Path) -> None:
    a, b = generate_key(), generate_key()
    path = tmp_path / "keys" / "k.key"
    write_key_file(path, [a, b])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keys = read_key_file(path)
    assert [key.material for key in keys] == [a, b]


def test_default_key_file_and_explicit_file(tmp_path: Path) -> None:
    default, explicit, from_env = generate_key(), generate_key(), generate_key()
    write_key_file(tmp_path / DEFAULT_KEY_FILE, [default])
    write_key_file(tmp_path / "elsewhere.key", [explicit])
    write_key_file(tmp_path / "env.key", [from_env])
    ring = load_keyring(tmp_path, {})
    assert ring is not None and ring.kids == (key_id(default),)
    ring = load_keyring(tmp_path, {}, key_file=tmp_path / "elsewhere.key")
    assert ring is not None and ring.kids == (key_id(explicit),)
    ring = load_keyring(tmp_path, {ENV_KEY_FILE: str(tmp_path / "env.key")})
    assert ring is not None and ring.kids == (key_id(from_env), key_id(default))


def test_missing_explicit_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="not found"):
        load_keyring(tmp_path, {}, key_file=tmp_path / "nope.key")
    with pytest.raises(KeyFileError, match="not found"):
        load_keyring(tmp_path, {ENV_KEY_FILE: str(tmp_path / "nope.key")})


def test_malformed_key_file_names_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.key"
    path.write_text("# comment\n\nAAAA\n")
    with pytest.raises(KeyFileError, match=r"bad.key:3"):
        read_key_file(path)
    path.write_text("# only a comment\n")
    with pytest.raises(KeyFileError, match="holds no key"):
        read_key_file(path)


def test_tracked_key_file_is_refused(tmp_path: Path) -> None:
    run_git(tmp_path, "init", "-q")
    path = tmp_path / "secrets" / "team.key"
    path.parent.mkdir()
    path.write_text(encode_key(generate_key()) + "\n")
    assert load_keyring(tmp_path, {}, key_file=path) is not None
    run_git(tmp_path, "add", "secrets/team.key")
    with pytest.raises(KeyFileError, match="tracked by git") as info:
        load_keyring(tmp_path, {}, key_file=path)
    assert path.read_text().strip() not in str(info.value)


def test_new_key_file_must_be_ignored(tmp_path: Path) -> None:
    run_git(tmp_path, "init", "-q")
    with pytest.raises(KeyFileError, match="not be ignored"):
        write_key_file(tmp_path / "team.key", [generate_key()], tmp_path)
    assert not (tmp_path / "team.key").exists()
    (tmp_path / ".gitignore").write_text(".dsgit/\n")
    write_key_file(tmp_path / DEFAULT_KEY_FILE, [generate_key()], tmp_path)
    assert load_keyring(tmp_path, {}) is not None
    outside = tmp_path.parent / f"{tmp_path.name}-outside.key"
    write_key_file(outside, [generate_key()], tmp_path)
    outside.unlink()
