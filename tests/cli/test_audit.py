from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.config import load_project_config
from dsgit.ledger import ChangeOutcome, ChangeRecord, EntryState, Ledger, user_digest
from dsgit.ledger.layout import ARCHIVE_FILE, LEGACY_FILE, batch_path
from dsgit.ledger.signing import KEY_FILE_ENV, load_signer
from dsgit.remote.connect import open_client
from support import invoke_cli

FILE = str(batch_path(Path(), "local", "A1"))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "dsgit.yaml").write_text(
        "version: 1\nenvironments:\n  local:\n    universe_id: 1\n    emulator: .dsgit/e.db\n"
    )
    return root


def local(root: Path, signer: object = None) -> Ledger:
    return Ledger(root, signer, environment="local")  # type: ignore[arg-type]


def change(address: str, users: tuple[int, ...] = (), apply_id: str = "A1") -> ChangeRecord:
    return ChangeRecord(
        apply_id=apply_id,
        address=address,
        action="update",
        outcome=ChangeOutcome.WRITTEN,
        before=EntryState(True, "e1", "r1"),
        after=EntryState(True, "e2", "r2"),
        users=tuple(user_digest(u) for u in users),
    )


def run(root: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return invoke_cli(["-C", str(root), *args], capsys)


def test_verify_names_the_edited_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    local(repo).append([change("S/global/a"), change("S/global/b")], actor="ci")
    code, out, _ = run(repo, "audit", "verify", capsys=capsys)
    assert code == 0 and "2 record(s) (seq 0-1), 0 signed" in out and "valid" in out
    path = repo / FILE
    path.write_text(path.read_text().replace('"actor":"ci"', '"actor":"eve"', 1))
    code, out, err = run(repo, "audit", "verify", capsys=capsys)
    assert code == 1
    assert f"{FILE}:1: record seq 0 was edited" in out and "INVALID: 1 problem" in out
    assert "failed verification" in err
    code, out, _ = run(repo, "audit", "verify", "--format", "json", capsys=capsys)
    body = json.loads(out)
    assert code == 1 and body["ok"] is False and body["problems"][0]["line"] == 1
    assert body["problems"][0]["kind"] == "edited" and body["problems"][0]["file"] == FILE


def test_verify_reports_missing_records_apart(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local(repo).append(
        [change("S/global/a"), change("S/global/b"), change("S/global/c")], actor="ci"
    )
    path = repo / FILE
    texts = path.read_text().splitlines()
    path.write_text(texts[0] + "\n" + texts[2] + "\n")
    code, out, _ = run(repo, "audit", "verify", capsys=capsys)
    assert code == 1 and "missing 1 record(s), seq 1" in out
    assert "INCOMPLETE: 1 record(s) missing from this checkout, none tampered" in out
    code, out, _ = run(repo, "audit", "verify", "--allow-missing", capsys=capsys)
    assert code == 0 and "incomplete (allowed)" in out
    code, out, _ = run(repo, "audit", "verify", "--format", "json", capsys=capsys)
    body = json.loads(out)
    assert body["intact"] is True and body["missing"] == [
        {"chain": "local", "first": 1, "last": 1, "applies": []}
    ]


def test_verify_against_the_live_head(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = load_project_config(repo).environment("local")
    with open_client(env) as api:
        book = Ledger.of_universe(repo, "local", api)
        book.append([change("S/global/a", apply_id="A1")], actor="ci")
        book.append([change("S/global/b", apply_id="A2")], actor="ci")
    code, out, _ = run(repo, "audit", "verify", "--against", "local", capsys=capsys)
    assert code == 0 and "the universe's head is seq 1" in out
    batch_path(repo, "local", "A2").unlink()  # records cut off the end
    code, out, _ = run(repo, "audit", "verify", capsys=capsys)
    assert code == 0  # nothing local can tell...
    code, out, _ = run(repo, "audit", "verify", "--against", "local", capsys=capsys)
    assert code == 1 and "missing 1 record(s), seq 1 (apply A2)" in out  # ...the universe can


def test_migrate_moves_a_verified_single_file_ledger(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy = repo / LEGACY_FILE
    legacy.parent.mkdir(parents=True)
    legacy.write_text(
        (Path(__file__).parent.parent / "ledger" / "data" / "ledger-v1.jsonl").read_text()
    )
    before = legacy.read_bytes()
    code, out, _ = run(repo, "audit", "verify", capsys=capsys)
    assert code == 0 and "dsgit audit migrate" in out
    with pytest.raises(Exception, match="audit migrate"):
        local(repo).append([change("S/global/z")], actor="ci")
    code, out, _ = run(repo, "audit", "migrate", capsys=capsys)
    assert code == 0 and f"moved {LEGACY_FILE} to {ARCHIVE_FILE} unchanged" in out
    assert (repo / ARCHIVE_FILE).read_bytes() == before and not legacy.exists()
    (record,) = local(repo).append([change("S/global/z", apply_id="A9")], actor="ci")
    archived = [json.loads(t) for t in before.decode().splitlines()]
    assert record.seq == archived[-1]["seq"] + 1 and record.prev == archived[-1]["hash"]
    code, out, _ = run(repo, "audit", "verify", capsys=capsys)
    assert code == 0 and "valid" in out
    code, out, _ = run(repo, "audit", "migrate", capsys=capsys)
    assert code == 0 and "already migrated" in out
    code, out, _ = run(repo, "audit", "log", "--format", "json", capsys=capsys)
    assert len(json.loads(out)) == len(archived) + 1  # old records are still read


def test_migrate_refuses_a_ledger_that_does_not_verify(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy = repo / LEGACY_FILE
    legacy.parent.mkdir(parents=True)
    text = (Path(__file__).parent.parent / "ledger" / "data" / "ledger-v1.jsonl").read_text()
    legacy.write_text(text.replace('"actor":"octocat"', '"actor":"mallory"', 1))
    code, _, err = run(repo, "audit", "migrate", capsys=capsys)
    assert code == 1 and "does not verify, so it was not migrated" in err
    assert legacy.exists() and not (repo / ARCHIVE_FILE).exists()


def test_log_filters_and_formats(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    local(repo).append([change("PlayerData/global/Player_5", (5,))], actor="alice")
    local(repo).append([change("Config/global/x")], actor="bob")
    code, out, _ = run(repo, "audit", "log", "--actor", "bob", capsys=capsys)
    assert code == 0 and "Config/global/x" in out and "Player_5" not in out
    code, out, _ = run(repo, "audit", "log", "--user", "5", "--format", "json", capsys=capsys)
    assert [r["address"] for r in json.loads(out)] == ["PlayerData/global/Player_5"]
    code, out, _ = run(repo, "audit", "log", "--store", "Nope", capsys=capsys)
    assert "no matching records" in out
    code, _, err = run(repo, "audit", "log", "--since", "last tuesday", capsys=capsys)
    assert code == 1 and "bad time" in err


def test_keygen_then_signed_records_verify(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "keys" / "ledger.key"
    code, out, _ = run(repo, "audit", "keygen", str(key_file), capsys=capsys)
    assert code == 0 and (repo / "audit/keys/ledger.pub").is_file()
    assert key_file.stat().st_mode & 0o777 == 0o600
    signer = load_signer({KEY_FILE_ENV: str(key_file)})
    local(repo, signer).append([change("S/global/a")], actor="ci")
    code, out, _ = run(repo, "audit", "verify", "--require-signatures", capsys=capsys)
    assert code == 0 and "1 signed" in out
    code, _, err = run(repo, "audit", "keygen", str(key_file), capsys=capsys)
    assert code == 1 and "already exists" in err
    code, _, err = run(repo, "audit", "keygen", str(repo / "inside.key"), capsys=capsys)
    assert code == 1 and "outside the repository" in err


def test_a_ledger_that_two_merged_branches_appended_to_migrates(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The failure this layout replaces: two branches appended to audit/ledger.jsonl and git
    merged both sides. Every record is intact, so it migrates, its branches kept as they are."""
    text = (Path(__file__).parent.parent / "ledger" / "data" / "ledger-v1-merged.jsonl").read_text()
    legacy = repo / LEGACY_FILE
    legacy.parent.mkdir(parents=True)
    legacy.write_text(text)
    code, out, _ = run(repo, "audit", "migrate", capsys=capsys)
    assert code == 0 and "2 branches that git merged, kept as they are" in out
    (record,) = local(repo).append([change("S/global/z", apply_id="A9")], actor="ci")
    from dsgit.ledger.verify import join_digest

    leaves = [json.loads(t)["hash"] for t in text.splitlines() if json.loads(t)["seq"] == 3]
    assert record.prev == join_digest(leaves) and record.seq == 4
    code, out, _ = run(repo, "audit", "verify", capsys=capsys)
    assert code == 0 and "valid" in out
    # a record deleted from the archive is found
    archive = repo / ARCHIVE_FILE
    lines = archive.read_text().splitlines()
    archive.write_text("".join(t + "\n" for i, t in enumerate(lines) if i != 1))
    code, out, _ = run(repo, "audit", "verify", capsys=capsys)
    assert code == 1 and "follows a record that is not in the file" in out


def test_verify_of_a_misspelt_environment_is_an_error_not_a_valid_empty_chain(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local(repo).append([change("S/global/a")], actor="ci")
    code, out, err = run(repo, "audit", "verify", "-e", "locl", capsys=capsys)
    assert code == 1 and "valid" not in out
    assert "unknown environment 'locl'" in err
    code, out, _ = run(repo, "audit", "verify", "-e", "local", capsys=capsys)
    assert code == 0 and "1 record(s)" in out
    # An environment since removed from dsgit.yaml still has its chain checked.
    (repo / "dsgit.yaml").write_text(
        "version: 1\nenvironments:\n  other:\n    universe_id: 2\n    emulator: .dsgit/o.db\n"
    )
    code, out, _ = run(repo, "audit", "verify", "-e", "local", capsys=capsys)
    assert code == 0 and "1 record(s)" in out


def test_verify_json_head_is_the_one_chains_or_null(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local(repo).append([change("S/global/a")], actor="ci")
    code, out, _ = run(repo, "audit", "verify", "--format", "json", capsys=capsys)
    body = json.loads(out)
    assert code == 0 and body["head"] == body["chains"][0]["head"] != "sha256:" + "0" * 64
    Ledger(repo, None, environment="staging").append(
        [change("S/global/b", apply_id="B1")], actor="ci"
    )
    code, out, _ = run(repo, "audit", "verify", "--format", "json", capsys=capsys)
    body = json.loads(out)
    assert code == 0 and len(body["chains"]) == 2 and body["head"] is None
    code, out, _ = run(repo, "audit", "verify", "-e", "local", "--format", "json", capsys=capsys)
    (local_chain,) = [chain for chain in body["chains"] if chain["name"] == "local"]
    assert json.loads(out)["head"] == local_chain["head"]
