from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsgit.errors import ConfigError, LedgerError
from dsgit.ledger import (
    ApplyRecord,
    ChangeOutcome,
    ChangeRecord,
    EntryState,
    ErasureRecord,
    Ledger,
    LogFilter,
    filter_records,
    last_applied,
    list_applies,
    user_digest,
    verify_ledger,
)
from dsgit.ledger.canonical import canonical_json, sha256_digest
from dsgit.ledger.layout import batch_path
from dsgit.ledger.query import parse_time
from dsgit.ledger.signing import (
    KEY_ENV,
    KEY_FILE_ENV,
    PUBLIC_KEYS_DIR,
    generate_key,
    load_signer,
)


def record(address: str, apply_id: str = "A1", revision: str = "r2", **kw: object) -> ChangeRecord:
    return ChangeRecord(
        apply_id=apply_id,
        address=address,
        action=str(kw.get("action", "update")),
        outcome=kw.get("outcome", ChangeOutcome.WRITTEN),  # type: ignore[arg-type]
        before=EntryState(True, "e1", "r1", "sha256:" + "1" * 64),
        after=EntryState(True, "e2", revision, "sha256:" + "2" * 64),
        users=tuple(user_digest(u) for u in kw.get("users", ())),  # type: ignore[attr-defined]
    )


def apply_record(apply_id: str, status: str = "complete") -> ApplyRecord:
    return ApplyRecord(
        apply_id=apply_id,
        plan_digest="sha256:" + "a" * 64,
        plan_kind="plan",
        environment="local",
        universe_id=1,
        source_commit="c" * 40,
        source_digest="sha256:" + "b" * 64,
        status=status,
        started="2026-01-01T00:00:00Z",
    )


def install_public_key(root: Path, text: str, name: str = "ci") -> None:
    folder = root / PUBLIC_KEYS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.pub").write_text(text, encoding="utf-8")


def test_signed_records_verify_and_a_forged_signature_fails(tmp_path: Path) -> None:
    signer = generate_key()
    install_public_key(tmp_path, signer.public_text())
    Ledger(tmp_path, signer, environment="local").append(
        [record("S/global/a"), record("S/global/b")], actor="ci"
    )
    report = verify_ledger(tmp_path, require_signatures=True)
    assert report.ok and report.signed == 2

    path = batch_path(tmp_path, "local", "A1")
    texts = path.read_text().splitlines()
    data = json.loads(texts[1])
    other = generate_key().sign(data["hash"])
    data["sig"]["value"] = other.value
    texts[1] = canonical_json(data)
    path.write_text("\n".join(texts) + "\n")
    problems = verify_ledger(tmp_path).problems
    assert [(p.line, "bad signature" in p.message) for p in problems] == [(2, True)]


def test_unknown_key_and_missing_signature_are_problems(tmp_path: Path) -> None:
    Ledger(tmp_path, environment="local").append([record("S/global/b")], actor="ci")
    stranger = Ledger(tmp_path, generate_key(), environment="local")
    stranger.append([record("S/global/a")], actor="ci")
    assert "unknown key" in verify_ledger(tmp_path).problems[0].message
    required = verify_ledger(tmp_path, require_signatures=True).problems
    assert [p.line for p in required] == [1, 2]
    # and nothing more is appended after a record whose signature does not verify
    with pytest.raises(LedgerError, match="unknown key"):
        stranger.append([record("S/global/c")], actor="ci")


def test_signer_from_env_or_file_never_echoes_the_key(tmp_path: Path) -> None:
    signer = generate_key()
    assert load_signer({}) is None
    from_env = load_signer({KEY_ENV: signer.private_text()})
    assert from_env is not None and from_env.key_id == signer.key_id
    key_file = tmp_path / "ledger.key"
    key_file.write_text(signer.private_text())
    from_file = load_signer({KEY_FILE_ENV: str(key_file)})
    assert from_file is not None and from_file.key_id == signer.key_id
    secret = "c2VjcmV0LW5vdC1hLWtleQ=="
    with pytest.raises(ConfigError) as caught:
        load_signer({KEY_ENV: secret})
    assert secret not in str(caught.value)
    with pytest.raises(ConfigError, match="cannot read"):
        load_signer({KEY_FILE_ENV: str(tmp_path / "missing.key")})


def test_pem_keys_are_accepted(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    signer = generate_key()
    pem_private = signer.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    pem_public = (
        signer.private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    install_public_key(tmp_path, pem_public)
    loaded = load_signer({KEY_ENV: pem_private})
    assert loaded is not None
    Ledger(tmp_path, loaded, environment="local").append([record("S/global/a")], actor="ci")
    assert verify_ledger(tmp_path, require_signatures=True).ok


def test_last_applied_keeps_the_latest_write_per_address(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, environment="local")
    ledger.append([record("S/global/a", "A1", "r2"), apply_record("A1")], actor="ci", time="t1")
    ledger.append(
        [
            record("S/global/a", "A2", "r5"),
            record("S/global/b", "A2", "r9", outcome=ChangeOutcome.CONFLICT),
            apply_record("A2", "conflict"),
        ],
        actor="ci",
        time="t2",
    )
    found = last_applied(tmp_path)
    assert found == {"S/global/a": ("r5", "t2", "A2", "sha256:" + "2" * 64, False)}
    revision, when = found["S/global/a"][:2]
    assert (revision, when) == ("r5", "t2")


def test_list_applies_groups_runs_and_changes(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, environment="local")
    ledger.append([record("S/global/a", "A1"), apply_record("A1", "partial")], actor="ci")
    ledger.append([record("S/global/b", "A1"), apply_record("A1", "complete")], actor="ci")
    ledger.append([apply_record("A2")], actor="ci")
    runs = list_applies(tmp_path)
    assert [run.apply_id for run in runs] == ["A1", "A2"]
    assert runs[0].status == "complete"
    assert [c.address for c in runs[0].changes] == ["S/global/a", "S/global/b"]


def test_log_filters(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, environment="local")
    ledger.append(
        [record("PlayerData/global/Player_42", users=(42,)), record("Bans/global/user%2F7")],
        actor="alice",
        time="2026-01-01T00:00:00Z",
    )
    ledger.append(
        [
            record("PlayerData/global/Player_420"),
            ErasureRecord(user_digest(7), 2, sha256_digest("[]")),
        ],
        actor="bob",
        time="2026-02-01T00:00:00Z",
    )
    records = list(Ledger(tmp_path, environment="local").records())

    def pick(**kw: object) -> list[int]:
        return [r.seq for r in filter_records(records, LogFilter(**kw))]  # type: ignore[arg-type]

    assert pick(store="PlayerData") == [0, 2]
    assert pick(key="user/7") == [1]
    assert pick(user=42) == [0]
    assert pick(user=7) == [1, 3]
    assert pick(actor="bob") == [2, 3]
    assert pick(since=parse_time("2026-01-15")) == [2, 3]
    assert pick(until=parse_time("2026-01-15T00:00:00Z")) == [0, 1]
    now = datetime(2026, 2, 2, tzinfo=UTC)
    assert parse_time("2d", now=now) == datetime(2026, 1, 31, tzinfo=UTC)
    with pytest.raises(ConfigError, match="bad time"):
        parse_time("yesterday")


def test_users_are_never_stored_in_clear(tmp_path: Path) -> None:
    Ledger(tmp_path, environment="local").append(
        [record("S/global/k", users=(987654321,))], actor="ci"
    )
    assert "987654321" not in batch_path(tmp_path, "local", "A1").read_text()
