from __future__ import annotations

import itertools
import json
import multiprocessing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsgit.errors import ConfigError
from dsgit.ledger import (
    ApplyRecord,
    ApprovalRecord,
    ChangeOutcome,
    ChangeRecord,
    EntryState,
    ErasureRecord,
    Ledger,
    verify_ledger,
)
from dsgit.ledger.canonical import ZERO_DIGEST, canonical_json, sha256_digest, user_digest
from dsgit.ledger.file import LEDGER_FILE
from dsgit.ledger.records import Body


def change(address: str, n: int = 0) -> ChangeRecord:
    return ChangeRecord(
        apply_id="20260101T000000Z-abc",
        address=address,
        action="update",
        outcome=ChangeOutcome.WRITTEN,
        before=EntryState(True, f"e{n}", f"r{n}", "sha256:" + "1" * 64),
        after=EntryState(True, f"e{n + 1}", f"r{n + 1}", "sha256:" + "2" * 64),
        users=(user_digest(7),),
    )


def every_kind() -> list[Body]:
    return [
        ApplyRecord(
            apply_id="20260101T000000Z-abc",
            plan_digest="sha256:" + "a" * 64,
            plan_kind="plan",
            environment="local",
            universe_id=1,
            source_commit=None,
            source_digest="sha256:" + "b" * 64,
            status="complete",
            summary={"written": 1},
        ),
        change("PlayerData/global/Player_1"),
        ApprovalRecord("sha256:" + "a" * 64, "prod", 1, "alice", "signature", "sha256:" + "c" * 64),
        ErasureRecord(user_digest(42), 3, sha256_digest("[]"), notification_id="n-1"),
    ]


def lines(root: Path) -> list[str]:
    return (root / LEDGER_FILE).read_text(encoding="utf-8").splitlines()


def write_lines(root: Path, texts: list[str]) -> None:
    (root / LEDGER_FILE).write_text("".join(t + "\n" for t in texts), encoding="utf-8")


def test_append_chains_records_and_round_trips_every_kind(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    written = ledger.append(every_kind(), actor="ci")
    assert [r.seq for r in written] == [0, 1, 2, 3]
    assert written[0].prev == ZERO_DIGEST
    assert all(b.prev == a.hash for a, b in itertools.pairwise(written))
    assert list(ledger.records()) == written
    more = ledger.append([change("S/global/k", 5)], actor="ci")
    assert more[0].seq == 4 and more[0].prev == written[-1].hash
    report = verify_ledger(tmp_path)
    assert report.ok and report.records == 5 and report.head == more[0].hash
    # Canonical lines: what is hashed is what is stored.
    for text in lines(tmp_path):
        assert canonical_json(json.loads(text)) == text


def test_empty_and_missing_ledger_verify(tmp_path: Path) -> None:
    report = verify_ledger(tmp_path)
    assert report.ok and report.records == 0 and report.head == ZERO_DIGEST
    assert Ledger(tmp_path).append([], actor="x") == []


@pytest.fixture
def five(tmp_path: Path) -> Path:
    Ledger(tmp_path).append([change(f"S/global/k{n}", n) for n in range(5)], actor="ci")
    return tmp_path


def test_edited_record_is_named(five: Path) -> None:
    texts = lines(five)
    texts[2] = texts[2].replace('"k2"', '"k9"').replace("S/global/k2", "S/global/k9")
    write_lines(five, texts)
    report = verify_ledger(five)
    assert not report.ok
    assert [p.line for p in report.problems] == [3]
    assert "edited" in report.problems[0].message


def test_edit_with_recomputed_hash_breaks_the_next_link(five: Path) -> None:
    from dsgit.ledger.file import record_hash
    from dsgit.ledger.records import record_from_json

    texts = lines(five)
    data = json.loads(texts[1])
    data["after"]["revision_id"] = "forged"
    record = record_from_json(data, file="x", line=2)
    data["hash"] = record_hash(record)
    texts[1] = canonical_json(data)
    write_lines(five, texts)
    report = verify_ledger(five)
    assert [p.line for p in report.problems] == [3]
    assert "removed, inserted or reordered" in report.problems[0].message


def test_removed_record_is_found(five: Path) -> None:
    texts = lines(five)
    del texts[2]
    write_lines(five, texts)
    assert [p.line for p in verify_ledger(five).problems] == [3]


def test_reordered_records_are_found(five: Path) -> None:
    texts = lines(five)
    texts[1], texts[2] = texts[2], texts[1]
    write_lines(five, texts)
    problems = verify_ledger(five).problems
    assert problems and problems[0].line == 2


def test_inserted_record_is_found(five: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = tmp_path_factory.mktemp("other")
    Ledger(other).append([change("X/global/y")], actor="mallory")
    texts = lines(five)
    texts.insert(3, lines(other)[0])
    write_lines(five, texts)
    assert 4 in [p.line for p in verify_ledger(five).problems]


def test_truncation_is_found_only_against_a_known_head(five: Path) -> None:
    head = verify_ledger(five).head
    write_lines(five, lines(five)[:3])
    assert verify_ledger(five).ok  # a shorter chain is still a chain
    report = verify_ledger(five, expect_head=head)
    assert not report.ok and report.problems[0].line == 0
    assert "cut off" in str(report.problems[0])


def test_garbage_line_is_reported_and_reading_fails(five: Path) -> None:
    texts = lines(five)
    texts[1] = "{not json"
    write_lines(five, texts)
    report = verify_ledger(five)
    assert report.problems[0].line == 2
    with pytest.raises(ConfigError, match=r"ledger.jsonl:2"):
        list(Ledger(five).records())


def test_append_refuses_a_torn_last_line(five: Path) -> None:
    with (five / LEDGER_FILE).open("a", encoding="utf-8") as handle:
        handle.write('{"v":1')
    with pytest.raises(ConfigError, match="incomplete"):
        Ledger(five).append([change("S/global/z")], actor="ci")


@pytest.mark.parametrize("cut", [1, 40, 200])
def test_a_ledger_cut_inside_its_last_record_fails_verify(five: Path, cut: int) -> None:
    path = five / LEDGER_FILE
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - cut])
    report = verify_ledger(five)
    assert not report.ok
    with pytest.raises(ConfigError):  # and apply refuses before writing anything
        Ledger(five).check_appendable()
    if cut == 1:  # only the final newline: the record is whole, and verify says how to fix it
        assert report.records == 5 and len(report.problems) == 1
        assert "no final newline" in str(report.problems[0])
        path.write_bytes(data)
        assert verify_ledger(five).ok
    else:
        assert report.problems[0].line == 5 and "not JSON" in str(report.problems[0])


def _append_many(root: str, worker: int) -> None:
    ledger = Ledger(Path(root))
    for n in range(15):
        ledger.append([change(f"S/w{worker}/k{n}", n), change(f"S/w{worker}/j{n}")], actor="w")


def test_concurrent_appends_from_processes_keep_one_chain(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_many, args=(str(tmp_path), w)) for w in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(30)
        assert process.exitcode == 0
    report = verify_ledger(tmp_path)
    assert report.ok, report.problems
    assert report.records == 4 * 15 * 2
    # A batch is contiguous: the two records of one append are adjacent.
    records = list(Ledger(tmp_path).records())
    for first, second in zip(records[::2], records[1::2], strict=True):
        assert isinstance(first.body, ChangeRecord) and isinstance(second.body, ChangeRecord)
        assert first.body.address.split("/")[1] == second.body.address.split("/")[1]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 5), st.integers(0, 5), st.sampled_from(["edit", "drop", "swap", "dup"]))
def test_any_single_tampering_is_detected(index: int, other: int, how: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        Ledger(root).append([change(f"S/global/k{n}", n) for n in range(6)], actor="ci")
        texts = lines(root)
        if how == "edit":
            data = json.loads(texts[index])
            data["actor"] = "mallory"
            texts[index] = canonical_json(data)
        elif how == "drop":
            if index == len(texts) - 1:
                index -= 1  # the tail needs a known head; covered elsewhere
            del texts[index]
        elif how == "swap":
            if index == other:
                other = (other + 1) % len(texts)
            texts[index], texts[other] = texts[other], texts[index]
        else:
            texts.insert(other, texts[index])
        write_lines(root, texts)
        assert not verify_ledger(root).ok
