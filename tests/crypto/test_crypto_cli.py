from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest

from dsgit.crypto import (
    DEFAULT_KEY_FILE,
    ENV_KEY,
    Key,
    Keyring,
    decrypt_all,
    encode_key,
    find_encrypted,
    generate_key,
    key_id,
    read_key_file,
)
from dsgit.model.entry import Address
from dsgit.yamlio.document import load_document, to_plain
from support import LOCAL_CONFIG, invoke_cli, run_git

CANARY = "canary-cli-51b9"
ENTRY = f"""\
# Webhook settings. Reviewed by ops.
value:
  url: https://example.test/hook  # public
  token: {CANARY}  # rotate yearly
  players:
    - email: {CANARY}@a
    - name: b
"""
ADDRESS = Address.standard("Config", "webhook")
ENTRY_PATH = "datastores/Config/global/webhook.yaml"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "datastores/Config/global").mkdir(parents=True)
    (repo / "dsgit.yaml").write_text(LOCAL_CONFIG)
    (repo / ".gitignore").write_text(".dsgit/\n")
    (repo / "datastores/Config/_store.yaml").write_text(
        "encrypted:\n  - /token\n  - /players/*/email\n"
    )
    (repo / ENTRY_PATH).write_text(ENTRY)
    run_git(repo, "init", "-q")
    return repo


def run(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return invoke_cli(["-C", str(root), *args], capsys)


@pytest.fixture
def key(root: Path, capsys: pytest.CaptureFixture[str]) -> Keyring:
    code, out, err = run(root, capsys, "secrets", "keygen")
    assert code == 0, err
    keys = read_key_file(root / DEFAULT_KEY_FILE)
    assert key_id(keys[0].material) in out
    assert encode_key(keys[0].material) not in out + err
    return Keyring(tuple(keys))


def _value(root: Path) -> object:
    return to_plain(load_document((root / ENTRY_PATH).read_text(), ENTRY_PATH)["value"])


def test_keygen_refuses_to_overwrite(
    root: Path, key: Keyring, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (root / DEFAULT_KEY_FILE).read_text()
    code, _out, err = run(root, capsys, "secrets", "keygen")
    assert code == 1 and "already exists" in err
    assert (root / DEFAULT_KEY_FILE).read_text() == before
    code, _out, err = run(root, capsys, "secrets", "keygen", "--force")
    assert code == 0
    assert (root / DEFAULT_KEY_FILE).read_text() != before


def test_keygen_refuses_a_file_git_would_track(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(root, capsys, "secrets", "keygen", "--key-file", str(root / "k.key"))
    assert code == 1 and "ignored by git" in err
    assert not (root / "k.key").exists()


def test_encrypt_in_place_keeps_comments(
    root: Path, key: Keyring, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(root, capsys, "secrets", "encrypt")
    assert code == 0, err
    assert "encrypted 2 values in 1 file" in out
    text = (root / ENTRY_PATH).read_text()
    assert CANARY not in text + out + err
    assert text.startswith("# Webhook settings. Reviewed by ops.\nvalue:\n")
    assert "url: https://example.test/hook  # public\n" in text
    assert "]  # rotate yearly\n" in text
    assert find_encrypted(_value(root)) == ["/token", "/players/0/email"]  # type: ignore[arg-type]
    assert decrypt_all(_value(root), key, ADDRESS) == {  # type: ignore[arg-type]
        "url": "https://example.test/hook",
        "token": CANARY,
        "players": [{"email": CANARY + "@a"}, {"name": "b"}],
    }
    # a second run finds nothing to do and leaves the bytes alone
    code, out, _err = run(root, capsys, "secrets", "encrypt", ENTRY_PATH)
    assert code == 0 and "encrypted 0 values in 0 files" in out
    assert (root / ENTRY_PATH).read_text() == text


def test_encrypt_without_key_fails(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(root, capsys, "secrets", "encrypt")
    assert code == 1 and "no encryption key" in err
    assert (root / ENTRY_PATH).read_text() == ENTRY
    assert CANARY not in out + err


def test_decrypt_prints_and_only_writes_when_asked(
    root: Path, key: Keyring, capsys: pytest.CaptureFixture[str]
) -> None:
    run(root, capsys, "secrets", "encrypt")
    encrypted = (root / ENTRY_PATH).read_text()
    code, out, _err = run(root, capsys, "secrets", "decrypt", str(root / ENTRY_PATH))
    assert code == 0
    assert out == ENTRY
    assert (root / ENTRY_PATH).read_text() == encrypted
    code, out, err = run(root, capsys, "secrets", "decrypt", str(root / ENTRY_PATH), "--in-place")
    assert code == 0 and out == "" and "encrypt" in err
    assert (root / ENTRY_PATH).read_text() == ENTRY


def test_wrong_key_and_tampering_fail_cleanly(
    root: Path, key: Keyring, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run(root, capsys, "secrets", "encrypt")
    other = root.parent / "other.key"
    other.write_text(encode_key(generate_key()) + "\n")
    code, out, err = run(root, capsys, "secrets", "decrypt", ENTRY_PATH, "--key-file", str(other))
    assert code == 1
    assert f"{ENTRY_PATH}: Config/global/webhook#/token:" in err
    assert CANARY not in out + err
    # move the token of /token to /players/0/email: authentication fails
    text = (root / ENTRY_PATH).read_text()
    lines = text.splitlines()
    token = next(line for line in lines if "token:" in line).split("token: ")[1].split("  #")[0]
    email = next(line for line in lines if "email:" in line).split("email: ")[1]
    (root / ENTRY_PATH).write_text(text.replace(email, token))
    code, out, err = run(root, capsys, "secrets", "decrypt", ENTRY_PATH)
    assert code == 1 and "/players/0/email" in err and "moved" in err
    assert CANARY not in out + err


def test_rotate(root: Path, key: Keyring, capsys: pytest.CaptureFixture[str]) -> None:
    run(root, capsys, "secrets", "encrypt")
    new_file = root.parent / "new.key"
    new_material = generate_key()
    new_file.write_text(encode_key(new_material) + "\n")
    code, out, err = run(root, capsys, "secrets", "rotate", "--new-key-file", str(new_file))
    assert code == 0, err
    assert "re-encrypted 2 values in 1 file" in out
    text = (root / ENTRY_PATH).read_text()
    assert key_id(new_material) in text and key.primary.kid not in text
    assert "# rotate yearly" in text and CANARY not in text + out + err
    new_ring = Keyring((Key(new_material),))
    assert decrypt_all(_value(root), new_ring, ADDRESS)["token"] == CANARY  # type: ignore[arg-type,call-overload,index]
    # only the new key is needed from now on
    code, out, _err = run(
        root, capsys, "secrets", "decrypt", ENTRY_PATH, "--key-file", str(new_file)
    )
    assert code == 0 and CANARY in out
    code, out, _err = run(root, capsys, "secrets", "rotate", "--new-key-file", str(new_file))
    assert "re-encrypted 0 values" in out


def use_editor(monkeypatch: pytest.MonkeyPatch, folder: Path, old: str, new: str) -> None:
    """Make ``$EDITOR`` a script that replaces ``old`` with ``new`` in the file it is given."""
    script = folder / "editor.py"
    script.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        f"p.write_text(p.read_text().replace({old!r}, {new!r}))\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")


def test_edit_reencrypts_and_keeps_unchanged_tokens(
    root: Path,
    key: Keyring,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    run(root, capsys, "secrets", "encrypt")
    before = (root / ENTRY_PATH).read_text()
    use_editor(monkeypatch, tmp_path, f"{CANARY}@a", f"new-{CANARY}")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    code, out, err = run(root, capsys, "secrets", "edit", ENTRY_PATH)
    assert code == 0, err
    after = (root / ENTRY_PATH).read_text()
    assert CANARY not in after + out + err
    changed = [
        (a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b
    ]
    assert len(changed) == 1 and "email:" in changed[0][0]
    value = decrypt_all(_value(root), key, ADDRESS)  # type: ignore[arg-type]
    assert value["players"][0]["email"] == f"new-{CANARY}"  # type: ignore[call-overload,index]
    assert list(scratch.iterdir()) == []  # the decrypted copy is gone
    assert not any(
        CANARY in p.read_text() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts
    )


def test_env_key_is_used(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    material = generate_key()
    monkeypatch.setenv(ENV_KEY, encode_key(material))
    code, _out, err = run(root, capsys, "secrets", "encrypt")
    assert code == 0, err
    assert key_id(material) in (root / ENTRY_PATH).read_text()


def test_edit_that_breaks_the_file_changes_nothing(
    root: Path,
    key: Keyring,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    run(root, capsys, "secrets", "encrypt")
    before = (root / ENTRY_PATH).read_text()
    use_editor(monkeypatch, tmp_path, "value:", "value: [oops")
    code, out, err = run(root, capsys, "secrets", "edit", ENTRY_PATH)
    assert code == 1 and f"{ENTRY_PATH}:" in err and "invalid YAML" in err
    assert CANARY not in out + err
    assert (root / ENTRY_PATH).read_text() == before


def test_decrypt_refuses_a_file_that_is_not_an_entry(
    root: Path, key: Keyring, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(root, capsys, "secrets", "decrypt", "datastores/Config/_store.yaml")
    assert code == 1 and "not an entry file" in err
    code, _out, err = run(root, capsys, "secrets", "encrypt", "datastores/nope")
    assert code == 1 and "no such file" in err


def test_json_output_and_dry_runs(
    root: Path, key: Keyring, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(root, capsys, "secrets", "encrypt", "--dry-run", "--format", "json")
    assert code == 0
    assert json.loads(out) == {"dry_run": True, "files": [{"path": ENTRY_PATH, "values": 2}]}
    assert (root / ENTRY_PATH).read_text() == ENTRY
    run(root, capsys, "secrets", "encrypt")
    encrypted = (root / ENTRY_PATH).read_text()
    new_file = root.parent / "new.key"
    new_file.write_text(encode_key(generate_key()) + "\n")
    code, out, _err = run(
        root,
        capsys,
        "secrets",
        "rotate",
        "--new-key-file",
        str(new_file),
        "--dry-run",
        "--format",
        "json",
    )
    assert code == 0
    assert json.loads(out)["files"] == [{"path": ENTRY_PATH, "values": 2}]
    assert (root / ENTRY_PATH).read_text() == encrypted


def test_rotate_interrupted_half_way_is_finished_by_running_it_again(
    root: Path, key: Keyring, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    other = "datastores/Config/global/other.yaml"
    (root / other).write_text(ENTRY)
    run(root, capsys, "secrets", "encrypt")
    new_material = generate_key()
    new_file = root.parent / "new.key"
    new_file.write_text(encode_key(new_material) + "\n")
    import dsgit.crypto.files as files

    real_write, calls = files.write_atomic, []

    def write_once_then_fail(path: Path, text: str, **kwargs: object) -> None:
        calls.append(path)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        real_write(path, text)

    monkeypatch.setattr(files, "write_atomic", write_once_then_fail)
    code, out, err = run(root, capsys, "secrets", "rotate", "--new-key-file", str(new_file))
    assert code == 1 and "Traceback" not in err and "internal error" not in err
    assert "No space left on device (1 of 2 file(s) were already rewritten" in err
    assert CANARY not in out + err and encode_key(new_material) not in out + err
    monkeypatch.setattr(files, "write_atomic", real_write)
    texts = [(root / path).read_text() for path in (other, ENTRY_PATH)]
    assert sorted(key_id(new_material) in text for text in texts) == [False, True]
    both = Keyring((Key(new_material), *key.keys))
    for path in (other, ENTRY_PATH):
        value = to_plain(load_document((root / path).read_text(), path)["value"])
        address = Address.standard("Config", path.rsplit("/", 1)[1].removesuffix(".yaml"))
        assert decrypt_all(value, both, address)["token"] == CANARY  # type: ignore[call-overload,index]
    code, out, err = run(root, capsys, "secrets", "rotate", "--new-key-file", str(new_file))
    assert code == 0, err
    assert "re-encrypted 2 values in 1 file" in out
    assert all(key.primary.kid not in (root / p).read_text() for p in (other, ENTRY_PATH))


OVERRIDE_CANARY = "canary-staging-77e1"


def test_an_override_of_an_encrypted_field_is_sealed_rotated_decrypted_and_edited(
    root: Path,
    key: Keyring,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    config = LOCAL_CONFIG + "  staging:\n    universe_id: 2\n    emulator: .dsgit/staging.db\n"
    (root / "dsgit.yaml").write_text(config)
    override = (
        "environments:\n  staging:\n    value:\n"
        f"      token: {OVERRIDE_CANARY}  # staging's own\n      url: null\n"
    )
    (root / ENTRY_PATH).write_text(ENTRY + override)
    code, out, _err = run(root, capsys, "validate")
    assert code == 1 and "DS602" in out and "in environment 'staging'" in out
    assert OVERRIDE_CANARY not in out

    code, out, err = run(root, capsys, "secrets", "encrypt")
    assert code == 0, err
    text = (root / ENTRY_PATH).read_text()
    assert OVERRIDE_CANARY not in text and CANARY not in text
    assert "# staging's own" in text and "url: null" in text  # a removal stays a removal
    assert run(root, capsys, "validate")[0] == 0

    new_file = root.parent / "new.key"
    new_material = generate_key()
    new_file.write_text(encode_key(new_material) + "\n")
    code, out, err = run(root, capsys, "secrets", "rotate", "--new-key-file", str(new_file))
    assert code == 0 and "re-encrypted 3 values in 1 file" in out, out + err
    code, out, _err = run(
        root, capsys, "secrets", "decrypt", ENTRY_PATH, "--key-file", str(new_file)
    )
    assert code == 0 and OVERRIDE_CANARY in out and CANARY in out

    use_editor(monkeypatch, tmp_path, OVERRIDE_CANARY, f"new-{OVERRIDE_CANARY}")
    code, out, err = run(root, capsys, "secrets", "edit", ENTRY_PATH, "--key-file", str(new_file))
    assert code == 0, err
    document = load_document((root / ENTRY_PATH).read_text(), ENTRY_PATH)
    patch = to_plain(document["environments"]["staging"]["value"])
    new_ring = Keyring((Key(new_material),))
    assert decrypt_all(patch, new_ring, ADDRESS) == {"token": f"new-{OVERRIDE_CANARY}", "url": None}
    assert "new-" not in (root / ENTRY_PATH).read_text()
