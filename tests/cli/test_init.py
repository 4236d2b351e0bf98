"""``dsgit init``: a minimal repository or a complete example, never overwriting anything."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from dsgit.config import load_project_config
from dsgit.crypto import load_keyring
from dsgit.repo import load_declaration, validate_repository
from dsgit.repo.scaffold import available_examples
from support import invoke_cli

KEY = base64.b64encode(bytes(range(32))).decode()
PLAINTEXT_SECRETS = (
    "demo-not-a-real-token",
    "demo-analytics-key-0000-not-real",
)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return invoke_cli(args, capsys)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_minimal_repository_works_against_local(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "-C", str(tmp_path), "init", "game")
    assert code == 0 and "Created a new repository" in out
    root = tmp_path / "game"
    assert (root / ".gitignore").read_text().splitlines()[-1] == ".dsgit"
    config = load_project_config(root)
    local = config.environment()
    assert config.default_environment == "local" and local.is_embedded
    assert local.emulator == root / ".dsgit/emulator.db"
    reading = validate_repository(root)
    assert reading.problems == () and reading.entries == 1
    assert load_declaration(root).stores
    first_line = (root / "datastores/GameConfig/global/welcome.yaml").read_text().splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../../../schemas/dsgit/entry.schema.json"
    assert (root / "schemas/dsgit/entry.schema.json").is_file()
    code, out, _ = run(capsys, "-C", str(root), "validate")
    assert code == 0


def test_editor_schema_paths_resolve(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "-C", str(tmp_path), "init", "--example", "obby-tycoon")
    for path in tmp_path.rglob("*.yaml"):
        first = path.read_text().splitlines()[0]
        if first.startswith("# yaml-language-server: $schema="):
            target = path.parent / first.split("=", 1)[1]
            assert target.is_file(), path


def test_example_is_encrypted_and_validates_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "-C", str(tmp_path), "init", "--example", "obby-tycoon")
    assert code == 0, err
    assert "Encrypted 2 example value(s)" in out and ".dsgit/keys/default.key" in out
    key_file = tmp_path / ".dsgit/keys/default.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    text = "\n".join(p.read_text() for p in tmp_path.rglob("*.yaml"))
    for secret in PLAINTEXT_SECRETS:
        assert secret not in text
    assert secret not in out + err
    keyring = load_keyring(tmp_path)
    assert keyring is not None
    reading = validate_repository(tmp_path, keyring=keyring)
    assert reading.problems == ()
    assert reading.entries >= 25
    code, out, _ = run(capsys, "-C", str(tmp_path), "validate")
    assert code == 0 and "no problems" in out


def test_example_uses_the_key_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSGIT_ENCRYPTION_KEY", KEY)
    code, out, _ = run(capsys, "-C", str(tmp_path), "init", "--example", "obby-tycoon")
    assert code == 0
    assert not (tmp_path / ".dsgit").exists()
    assert "New encryption key" not in out
    code, out, _ = run(capsys, "-C", str(tmp_path), "validate")
    assert code == 0 and "no problems" in out


def test_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "dsgit.yaml").write_text("# mine\n")
    (tmp_path / "notes.txt").write_text("keep\n")
    before = tree(tmp_path)
    code, _, err = run(capsys, "-C", str(tmp_path), "init", "--example", "obby-tycoon")
    assert code == 1
    assert "refusing to overwrite existing files: dsgit.yaml" in err
    assert "Traceback" not in err
    assert tree(tmp_path) == before
    assert not (tmp_path / ".dsgit").exists()


def test_second_init_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "-C", str(tmp_path), "init")[0] == 0
    before = tree(tmp_path)
    code, _, err = run(capsys, "-C", str(tmp_path), "init")
    assert code == 1 and "refusing to overwrite" in err
    assert tree(tmp_path) == before


def test_unknown_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "-C", str(tmp_path), "init", "--example", "nope")
    assert code == 1
    assert "unknown example 'nope' (available: obby-tycoon)" in err
    assert list(tmp_path.iterdir()) == []


def test_examples_are_listed() -> None:
    assert "obby-tycoon" in available_examples()


def test_existing_gitignore_that_keeps_dsgit_out_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/\n.dsgit/\n")
    code, _, _ = run(capsys, "-C", str(tmp_path), "init", "--example", "obby-tycoon")
    assert code == 0
    assert (tmp_path / ".gitignore").read_text() == "node_modules/\n.dsgit/\n"
    assert (tmp_path / ".dsgit/keys/default.key").is_file()


def test_target_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "game").write_text("x")
    code, _, err = run(capsys, "-C", str(tmp_path), "init", "game")
    assert code == 1 and "Traceback" not in err
    assert "exists and is not a folder" in err or "'game' is a file" in err


def test_write_failure_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "datastores").write_text("a file where a folder must go")
    code, _, err = run(capsys, "-C", str(tmp_path), "init")
    assert code == 1 and "cannot write" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["datastores"]


def test_failure_removes_the_folders_it_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "game").mkdir()
    (tmp_path / "game" / "schemas").write_text("a file where a folder must go")
    code, _, err = run(capsys, "-C", str(tmp_path), "init", "game", "--example", "obby-tycoon")
    assert code == 1 and "cannot write" in err
    assert sorted(p.name for p in (tmp_path / "game").iterdir()) == ["schemas"]


_DOCS = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("page", "example"),
    [
        ("README.md", None),
        ("docs/quickstart.md", "obby-tycoon"),
        ("docs/commands.md", "obby-tycoon"),
    ],
)
def test_the_documented_file_counts_are_what_init_and_validate_print(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], page: str, example: str | None
) -> None:
    """The console examples quote `init`'s and `validate`'s counts: they must be the real ones."""
    import re

    text = (_DOCS / page).read_text(encoding="utf-8")
    game = tmp_path / "game"
    code, out, err = run(capsys, "init", str(game), *(["--example", example] if example else []))
    assert code == 0, err
    created = re.search(r"\((\d+) files\)\.", out)
    assert created is not None and f"({created.group(1)} files)." in text
    code, out, err = run(capsys, "-C", str(game), "validate")
    assert code == 0, err
    counts = out.strip().splitlines()[-1].split(": ")[0]  # "40 files, 26 entries"
    documented = re.findall(r"^(\d+ files, \d+ entr(?:y|ies)): no problems$", text, re.M)
    assert documented and set(documented) == {counts}
