"""An append verifies what it follows: the last record's hash and signature (issue: an apply
appended after an edited last record, because only its JSON was parsed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.errors import LedgerError
from dsgit.ledger import ChangeOutcome, ChangeRecord, EntryState, Ledger, verify_ledger
from dsgit.ledger.canonical import canonical_json
from dsgit.ledger.file import record_hash
from dsgit.ledger.layout import ARCHIVE_FILE, batch_path
from dsgit.ledger.records import record_from_json
from dsgit.ledger.signing import PUBLIC_KEYS_DIR, Signer, generate_key

ENV = "local"


def change(address: str, apply_id: str = "A1") -> ChangeRecord:
    return ChangeRecord(
        apply_id=apply_id,
        address=address,
        action="update",
        outcome=ChangeOutcome.WRITTEN,
        before=EntryState(True, "e1", "r1"),
        after=EntryState(True, "e2", "r2"),
    )


def edit_line(path: Path, index: int, *, rehash: bool = False, **fields: object) -> None:
    texts = path.read_text().splitlines()
    data = json.loads(texts[index])
    data.update(fields)
    if rehash:
        data["hash"] = record_hash(record_from_json(data, file="x", line=1))
    texts[index] = canonical_json(data)
    path.write_text("".join(t + "\n" for t in texts))


def sizes(root: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in (root / "audit/ledger" / ENV).iterdir()}


def test_an_edited_last_record_refuses_the_append(tmp_path: Path) -> None:
    book = Ledger(tmp_path, environment=ENV)
    book.append([change("S/global/a"), change("S/global/b")], actor="ci")
    edit_line(batch_path(tmp_path, ENV, "A1"), 1, actor="mallory")
    before = sizes(tmp_path)
    with pytest.raises(LedgerError) as caught:
        book.append([change("S/global/c", "A2")], actor="ci")
    message = str(caught.value)
    assert message.startswith("audit/ledger/local/A1.jsonl:2: the last ledger record (seq 1)")
    assert "was edited" in message and "Nothing was appended" in message
    with pytest.raises(LedgerError, match="was edited"):
        book.check_appendable()  # what apply calls before it writes anything
    assert sizes(tmp_path) == before


def test_an_edited_last_record_of_another_apply_file_refuses_too(tmp_path: Path) -> None:
    book = Ledger(tmp_path, environment=ENV)
    book.append([change("S/global/a", "A1")], actor="ci")
    book.append([change("S/global/b", "A2")], actor="ci")
    edit_line(batch_path(tmp_path, ENV, "A1"), 0, actor="mallory")
    with pytest.raises(LedgerError, match=r"A1.jsonl:1: the last record of this ledger file"):
        book.append([change("S/global/c", "A1")], actor="ci")


def _signed(root: Path) -> tuple[Ledger, Signer]:
    signer = generate_key()
    (root / PUBLIC_KEYS_DIR).mkdir(parents=True)
    (root / PUBLIC_KEYS_DIR / "ci.pub").write_text(signer.public_text())
    return Ledger(root, signer, environment=ENV), signer


def test_a_rehashed_last_record_fails_its_signature(tmp_path: Path) -> None:
    book, _ = _signed(tmp_path)
    book.append([change("S/global/a"), change("S/global/b")], actor="ci")
    edit_line(batch_path(tmp_path, ENV, "A1"), 1, rehash=True, actor="mallory")
    with pytest.raises(LedgerError, match=r"seq 1\) does not verify: bad signature"):
        book.append([change("S/global/c", "A2")], actor="ci")


def test_an_unsigned_last_record_after_signed_ones_refuses_when_signing(tmp_path: Path) -> None:
    book, _ = _signed(tmp_path)
    book.append([change("S/global/a")], actor="ci")
    path = batch_path(tmp_path, ENV, "A1")
    texts = path.read_text().splitlines()
    data = json.loads(texts[0])
    forged = dict(data, seq=1, prev=data["hash"], actor="mallory")
    del forged["sig"]
    forged["hash"] = record_hash(record_from_json(forged, file="x", line=1))
    path.write_text(texts[0] + "\n" + canonical_json(forged) + "\n")
    with pytest.raises(LedgerError, match="unsigned while earlier records are signed"):
        book.append([change("S/global/c", "A2")], actor="ci")
    # Turning signing on for a ledger that never had it is fine.
    other = tmp_path / "other"
    Ledger(other, environment=ENV).append([change("S/global/a")], actor="ci")
    signed, _ = _signed(other)
    signed.append([change("S/global/b", "A2")], actor="ci")
    assert verify_ledger(other).ok


def test_the_archived_ledger_is_checked_before_the_first_new_record(tmp_path: Path) -> None:
    legacy = Ledger(tmp_path, environment=ENV)
    legacy.append([change("S/global/a")], actor="ci")
    (tmp_path / ARCHIVE_FILE).write_bytes(batch_path(tmp_path, ENV, "A1").read_bytes())
    batch_path(tmp_path, ENV, "A1").unlink()
    edit_line(tmp_path / ARCHIVE_FILE, 0, actor="mallory")
    with pytest.raises(LedgerError, match=r"ledger-v1.jsonl:1: record seq 0 was edited.*archived"):
        legacy.append([change("S/global/b", "A2")], actor="ci")


def test_apply_refuses_before_writing_after_an_edited_last_record(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from dsgit.apply.run import ApplyDeps, ApplyOptions, apply_plan
    from dsgit.config import Environment
    from dsgit.emulator import Emulator
    from dsgit.model.entry import Address, EntryData, StoreKind
    from dsgit.planning.usecase import PlanRequest, make_plan
    from dsgit.remote.testing import emulated_client
    from support import declaration_of, read_live

    address = Address(StoreKind.STANDARD, "Config", "global", "k")
    env = Environment(name=ENV, universe_id=1, url="http://emulator.test")
    with emulated_client(Emulator(db=":memory:"), universe_id=1) as api:

        def apply(value: int) -> str:
            declaration = declaration_of({address: EntryData(value)})
            plan = make_plan(declaration, api, PlanRequest(ENV, 1, now=datetime.now(UTC)))
            deps = ApplyDeps(root=tmp_path, env=env, api=api, declaration=declaration)
            return apply_plan(plan, deps, ApplyOptions(workers=1)).apply_id

        first = apply(1)
        edit_line(batch_path(tmp_path, ENV, first), 1, status="complete", summary={"written": 9})
        with pytest.raises(LedgerError, match="was edited"):
            apply(2)
        assert read_live(api, address) == EntryData(1)
