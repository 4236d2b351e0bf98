from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.ledger import ChangeOutcome, ChangeRecord, EntryState, Ledger, user_digest
from dsgit.ledger.file import LEDGER_FILE
from dsgit.ledger.signing import KEY_FILE_ENV, load_signer
from support import invoke_cli


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "dsgit.yaml").write_text(
        "version: 1\nenvironments:\n  local:\n    universe_id: 1\n    emulator: .dsgit/e.db\n"
    )
    return root


def change(address: str, users: tuple[int, ...] = ()) -> ChangeRecord:
    return ChangeRecord(
        apply_id="A1",
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
    Ledger(repo).append([change("S/global/a"), change("S/global/b")], actor="ci")
    code, out, _ = run(repo, "audit", "verify", capsys=capsys)
    assert code == 0 and "2 record(s), 0 signed, valid" in out
    path = repo / LEDGER_FILE
    path.write_text(path.read_text().replace('"actor":"ci"', '"actor":"eve"', 1))
    code, out, err = run(repo, "audit", "verify", capsys=capsys)
    assert code == 1
    assert f"{LEDGER_FILE}:1: record seq 0 was edited" in out
    assert "failed verification" in err
    code, out, _ = run(repo, "audit", "verify", "--format", "json", capsys=capsys)
    body = json.loads(out)
    assert code == 1 and body["ok"] is False and body["problems"][0]["line"] == 1


def test_log_filters_and_formats(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Ledger(repo).append([change("PlayerData/global/Player_5", (5,))], actor="alice")
    Ledger(repo).append([change("Config/global/x")], actor="bob")
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
    Ledger(repo, signer).append([change("S/global/a")], actor="ci")
    code, out, _ = run(repo, "audit", "verify", "--require-signatures", capsys=capsys)
    assert code == 0 and "1 signed" in out
    code, _, err = run(repo, "audit", "keygen", str(key_file), capsys=capsys)
    assert code == 1 and "already exists" in err
    code, _, err = run(repo, "audit", "keygen", str(repo / "inside.key"), capsys=capsys)
    assert code == 1 and "outside the repository" in err
