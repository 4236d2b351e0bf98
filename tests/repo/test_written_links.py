"""Where plan and apply write (``audit/``, ``.dsgit/``, the emulator file) never through a link.

Reproduced from outside: a repository on disk whose ``audit/``, ``audit/ledger.jsonl``,
``audit/preimages`` or ``.dsgit`` is a symlink to a folder outside it, and ``dsgit`` run as a
subprocess. validate reports DS106, apply refuses before writing anything, and the outside
folder is left exactly as it was.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dsgit.apply.journal import journal_path
from dsgit.apply.preimages import PreImageStore
from dsgit.config import Environment
from dsgit.crypto import generate_key, write_key_file
from dsgit.errors import ConfigError, DsgitError
from dsgit.ledger.file import Ledger
from dsgit.ledger.records import ChangeOutcome, ChangeRecord, EntryState
from dsgit.remote.connect import open_client
from dsgit.repo import load_declaration_at, validate_repository
from dsgit.repo.project_file import emulator_path_problem
from dsgit.repo.scaffold import init_repository
from dsgit.yamlio.safe_paths import open_nofollow, safe_path
from support import run_git

DSGIT = str(Path(sys.executable).with_name("dsgit"))


def dsgit(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DSGIT_")}
    return subprocess.run(
        [DSGIT, *args], cwd=root, capture_output=True, text=True, check=False, env=env
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def game(tmp_path: Path) -> Path:
    subprocess.run([DSGIT, "init", str(tmp_path / "game")], check=True, capture_output=True)
    return tmp_path / "game"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "keep.txt").write_text("not dsgit's\n", encoding="utf-8")
    return folder


# --- the module ------------------------------------------------------------------------------


def test_safe_path_refuses_a_link_anywhere_below_the_root(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo/audit").symlink_to(tmp_path / "out")
    with pytest.raises(
        ConfigError, match=r"audit: DS106 a symlink \(to .*out\) where dsgit writes"
    ):
        safe_path(tmp_path / "repo", "audit/ledger.jsonl")
    with pytest.raises(ConfigError, match="audit: DS106 a symlink"):
        safe_path(tmp_path / "repo", tmp_path / "repo/audit/preimages/x", parents=True)
    assert list((tmp_path / "out").iterdir()) == []


def test_safe_path_refuses_paths_leaving_the_root(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="outside the repository"):
        safe_path(tmp_path, "../x")
    with pytest.raises(ConfigError, match="outside the repository"):
        safe_path(tmp_path / "a", tmp_path / "b")


def test_safe_path_makes_missing_folders_and_checks_the_file(tmp_path: Path) -> None:
    target = safe_path(tmp_path, "audit/preimages/run/standard/S/global/k.json", parents=True)
    assert target.parent.is_dir() and not target.exists()
    (tmp_path / "real.json").write_text("{}", encoding="utf-8")
    target.symlink_to(tmp_path / "real.json")
    with pytest.raises(ConfigError, match=re.escape("k.json: DS106 a symlink")):
        safe_path(tmp_path, target)


def test_open_nofollow_refuses_a_final_link(tmp_path: Path) -> None:
    (tmp_path / "victim").write_bytes(b"old\n")
    (tmp_path / "ledger.jsonl").symlink_to(tmp_path / "victim")
    with pytest.raises(ConfigError, match="DS106"):
        open_nofollow(tmp_path / "ledger.jsonl")  # no root: only O_NOFOLLOW stands guard
    assert (tmp_path / "victim").read_bytes() == b"old\n"
    with open_nofollow(tmp_path / "a/b.jsonl", root=tmp_path) as handle:
        handle.write(b"x\n")
    assert (tmp_path / "a/b.jsonl").read_bytes() == b"x\n"


# --- from outside ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("link", ["audit", "audit/ledger", "audit/ledger.jsonl", "audit/preimages"])
def test_apply_refuses_audit_links_before_writing(game: Path, outside: Path, link: str) -> None:
    planned = dsgit(game, "plan", "-o", "plan.json")
    assert planned.returncode == 0, planned.stderr
    target = outside / "ledger.jsonl" if link.endswith(".jsonl") else outside
    if target != outside:
        target.write_bytes(b"")
    (game / link).parent.mkdir(parents=True, exist_ok=True)
    (game / link).symlink_to(target)
    before = snapshot(outside)

    checked = dsgit(game, "validate")
    assert checked.returncode == 1
    assert f"{link}:" in checked.stdout and "DS106" in checked.stdout
    assert "no problems" not in checked.stdout

    replanned = dsgit(game, "plan")
    assert replanned.returncode == 1 and f"{link}: DS106" in replanned.stderr
    applied = dsgit(game, "apply", "plan.json")
    assert applied.returncode == 1
    assert f"{link}: DS106 a symlink where dsgit writes" in applied.stderr
    assert "Traceback" not in applied.stderr
    assert snapshot(outside) == before  # no ledger, pre-image or journal went there

    (game / link).unlink()  # nothing was written live either: the change is still planned
    again = dsgit(game, "plan", "--detailed-exitcode")
    assert again.returncode == 2 and "GameConfig/global/welcome" in again.stdout


@pytest.mark.slow
def test_a_dsgit_link_stops_plan_and_apply(game: Path, outside: Path) -> None:
    planned = dsgit(game, "plan", "-o", "plan.json")
    assert planned.returncode == 0, planned.stderr
    (game / ".dsgit").rename(outside / "moved")  # the emulator database it made
    (game / ".dsgit").symlink_to(outside / "moved")
    before = snapshot(outside)

    checked = dsgit(game, "validate")
    assert checked.returncode == 1 and ".dsgit: DS106" in checked.stdout
    replanned = dsgit(game, "plan")
    assert replanned.returncode == 1 and ".dsgit: DS106" in replanned.stderr
    applied = dsgit(game, "apply", "plan.json")
    assert applied.returncode == 1 and ".dsgit: DS106" in applied.stderr
    assert snapshot(outside) == before


@pytest.mark.slow
def test_a_symlinked_dsgit_folder_is_gitignored(game: Path, outside: Path) -> None:
    run_git(game, "init", "-q")
    (game / ".dsgit").symlink_to(outside)
    assert run_git(game, "check-ignore", ".dsgit") == ".dsgit"
    run_git(game, "add", "-A")
    assert ".dsgit" not in run_git(game, "diff", "--cached", "--name-only").splitlines()


@pytest.mark.slow
@pytest.mark.parametrize("path", ["../outside.db", "/tmp/dsgit-outside.db", "emulator.db"])
def test_an_emulator_path_outside_dsgit_is_refused(game: Path, path: str) -> None:
    config = game / "dsgit.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "emulator: .dsgit/emulator.db", f"emulator: {path}"
        ),
        encoding="utf-8",
    )
    checked = dsgit(game, "validate")
    assert checked.returncode == 1
    assert "dsgit.yaml:8:15: DS106" in checked.stdout and "emulator_anywhere" in checked.stdout
    planned = dsgit(game, "plan")
    assert planned.returncode == 1 and "DS106" in planned.stderr
    assert not (game / path).exists() and not Path("/tmp/dsgit-outside.db").exists()


@pytest.mark.slow
def test_emulator_anywhere_opts_in(game: Path, tmp_path: Path) -> None:
    config = game / "dsgit.yaml"
    outside_db = tmp_path / "state" / "emulator.db"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "emulator: .dsgit/emulator.db", f"emulator: {outside_db}\n    emulator_anywhere: true"
        ),
        encoding="utf-8",
    )
    assert dsgit(game, "validate").returncode == 0
    planned = dsgit(game, "plan")
    assert planned.returncode == 0, planned.stderr
    assert outside_db.is_file()


# --- each write site guards itself (even when no loader ran first) ---------------------------


def _change() -> ChangeRecord:
    return ChangeRecord(
        apply_id="20260101T000000Z-abc",
        address="S/global/k",
        action="update",
        outcome=ChangeOutcome.WRITTEN,
        before=EntryState(True, "e0", "r0", "sha256:" + "1" * 64),
        after=EntryState(True, "e1", "r1", "sha256:" + "2" * 64),
    )


def test_each_write_site_refuses_a_link(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "repo"
    (root / ".dsgit").mkdir(parents=True)
    (root / "audit").mkdir()
    (root / "audit/ledger").symlink_to(outside)
    with pytest.raises(ConfigError, match=re.escape("audit/ledger: DS106 a symlink")):
        Ledger(root).check_appendable()
    with pytest.raises(ConfigError, match="DS106"):
        Ledger(root, environment="local").append([_change()], actor="ci")
    (root / "audit/ledger").unlink()
    (root / "audit/ledger/local").mkdir(parents=True)
    (root / "audit/ledger/local/20260101T000000Z-abc.jsonl").symlink_to(outside / "keep.txt")
    with pytest.raises(DsgitError, match=re.escape("20260101T000000Z-abc.jsonl: DS106 a symlink")):
        Ledger(root, environment="local").append([_change()], actor="ci")
    (root / "audit/preimages").symlink_to(outside)
    with pytest.raises(ConfigError, match=re.escape("audit/preimages: DS106 a symlink")):
        PreImageStore(root, "20260101T000000Z-abc", None)
    (root / ".dsgit/journal").symlink_to(outside)
    with pytest.raises(ConfigError, match=re.escape(".dsgit/journal: DS106 a symlink")):
        journal_path(root, "sha256:" + "a" * 64)
    env = Environment("local", 1, emulator=root / ".dsgit/emulator.db", emulator_root=root)
    (root / ".dsgit/emulator.db-wal").symlink_to(outside / "wal")  # SQLite writes it too
    with pytest.raises(ConfigError, match=re.escape(".dsgit/emulator.db-wal: DS106 a symlink")):
        open_client(env)
    (root / ".dsgit/emulator.db").symlink_to(outside / "emulator.db")
    with pytest.raises(ConfigError, match=re.escape(".dsgit/emulator.db: DS106 a symlink")):
        open_client(env)
    assert snapshot(outside) == {"keep.txt": b"not dsgit's\n"}


def test_keys_and_init_never_write_through_a_symlinked_dsgit(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".gitignore").write_text(".dsgit\n", encoding="utf-8")
    (root / ".dsgit").symlink_to(outside)
    with pytest.raises(ConfigError, match=re.escape(".dsgit: DS106 a symlink")):
        write_key_file(root / ".dsgit/keys/default.key", [generate_key()], root)
    with pytest.raises(ConfigError, match=re.escape(".dsgit: DS106 a symlink")):
        init_repository(root, "obby-tycoon", env={})  # its new key goes to .dsgit/keys/
    assert snapshot(outside) == {"keep.txt": b"not dsgit's\n"}
    assert sorted(path.name for path in root.iterdir()) == [".dsgit", ".gitignore"]
    chosen = tmp_path / "mine/game.key"  # a place the user chose outside the repository
    write_key_file(chosen, [generate_key()], root)
    assert chosen.is_file()


def test_a_commit_that_had_an_audit_link_can_still_be_read(game: Path, outside: Path) -> None:
    """Rollback reads old commits; only the working tree is written, so only it is refused."""
    run_git(game, "init", "-q")
    (game / "audit").symlink_to(outside)
    run_git(game, "add", "-A")
    run_git(game, "commit", "-qm", "with a link")
    commit = run_git(game, "rev-parse", "HEAD")
    (game / "audit").unlink()
    assert validate_repository(game).errors == ()
    assert load_declaration_at(game, commit).stores


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        (".dsgit/emulator.db", None),
        ("./.dsgit/state/e.db", None),
        (".dsgit/../.dsgit/e.db", None),
        ("../../x.db", "leaves the repository"),
        (".dsgit/../../x.db", "leaves the repository"),
        ("..", "leaves the repository"),
        ("/tmp/x.db", "is absolute"),
        ("~/x.db", "is absolute"),
        ("C:\\x.db", "is absolute"),
        ("..\\x.db", "leaves the repository"),
        ("emulator.db", "is not under .dsgit/"),
        (".dsgit", "is not under .dsgit/"),
        ("datastores/e.db", "is not under .dsgit/"),
    ],
)
def test_emulator_paths(path: str, refused: str | None) -> None:
    why = emulator_path_problem(path)
    assert (why is None) if refused is None else (why is not None and refused in why)
