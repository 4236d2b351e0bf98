"""One environment's chain on disk: append, read back, and every kind of damage verify finds."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsgit.errors import ConfigError, LedgerError
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
from dsgit.ledger.file import record_hash
from dsgit.ledger.layout import batch_path
from dsgit.ledger.records import ApprovalKind, Body, record_from_json

ENV = "local"
APPLY = "20260101T000000Z-abc"
FILE = batch_path(Path(), ENV, APPLY)


def change(address: str, n: int = 0, apply_id: str = APPLY) -> ChangeRecord:
    return ChangeRecord(
        apply_id=apply_id,
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
            apply_id=APPLY,
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
        ApprovalRecord(
            "sha256:" + "a" * 64, "prod", 1, "alice", ApprovalKind.SIGNATURE, "sha256:" + "c" * 64
        ),
        ErasureRecord(user_digest(42), 3, sha256_digest("[]"), notification_id="n-1"),
    ]


def ledger(root: Path) -> Ledger:
    return Ledger(root, environment=ENV)


def lines(root: Path, file: Path = FILE) -> list[str]:
    return (root / file).read_text(encoding="utf-8").splitlines()


def write_lines(root: Path, texts: list[str], file: Path = FILE) -> None:
    (root / file).write_text("".join(t + "\n" for t in texts), encoding="utf-8")


def test_append_chains_records_and_round_trips_every_kind(tmp_path: Path) -> None:
    book = ledger(tmp_path)
    written = book.append(every_kind(), actor="ci")
    assert [r.seq for r in written] == [0, 1, 2, 3]
    assert written[0].prev == ZERO_DIGEST
    assert all(b.prev == a.hash for a, b in itertools.pairwise(written))
    assert all(r.chain == ENV for r in written)
    assert list(book.records()) == written
    more = book.append([change("S/global/k", 5)], actor="ci")
    assert more[0].seq == 4 and more[0].prev == written[-1].hash
    report = verify_ledger(tmp_path)
    assert report.ok and report.records == 5 and report.head == more[0].hash
    # Canonical lines: what is hashed is what is stored.
    for text in lines(tmp_path):
        assert canonical_json(json.loads(text)) == text


def test_each_apply_writes_its_own_file_and_one_chain_spans_them(tmp_path: Path) -> None:
    book = ledger(tmp_path)
    book.append([change("S/global/a", apply_id="A1")], actor="ci")
    book.append([change("S/global/b", apply_id="A2")], actor="ci")
    book.append([change("S/global/c", apply_id="A1")], actor="ci")  # a resumed run of A1
    assert sorted(p.name for p in (tmp_path / "audit/ledger/local").iterdir()) == [
        "A1.jsonl",
        "A2.jsonl",
    ]
    assert [r.seq for r in book.records()] == [0, 1, 2]
    assert [r.body.address for r in book.records_of_apply("A1")] == ["S/global/a", "S/global/c"]  # type: ignore[union-attr]
    assert verify_ledger(tmp_path).ok


def test_environments_have_separate_chains(tmp_path: Path) -> None:
    Ledger(tmp_path, environment="staging").append([change("S/global/a")], actor="ci")
    Ledger(tmp_path, environment="prod").append([change("S/global/a")], actor="ci")
    report = verify_ledger(tmp_path)
    assert report.ok and [c.name for c in report.chains] == ["prod", "staging"]
    assert all(c.first == 0 == c.last for c in report.chains)


def test_empty_and_missing_ledger_verify(tmp_path: Path) -> None:
    report = verify_ledger(tmp_path)
    assert report.ok and report.records == 0 and report.head == ZERO_DIGEST
    assert ledger(tmp_path).append([], actor="x") == []


def test_append_needs_an_environment(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="environment"):
        Ledger(tmp_path).append([change("S/global/a")], actor="x")


def test_an_apply_id_cannot_name_a_file_outside_the_chain(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not an apply id"):
        ledger(tmp_path).append([change("S/global/a", apply_id="../../x")], actor="x")


@pytest.fixture
def five(tmp_path: Path) -> Path:
    ledger(tmp_path).append([change(f"S/global/k{n}", n) for n in range(5)], actor="ci")
    return tmp_path


def test_edited_record_is_reported_as_edited(five: Path) -> None:
    texts = lines(five)
    texts[2] = texts[2].replace("S/global/k2", "S/global/k9")
    write_lines(five, texts)
    report = verify_ledger(five)
    assert not report.ok and not report.intact and not report.missing
    assert [(p.line, p.kind) for p in report.problems] == [(3, "edited")]
    assert str(report.problems[0]).startswith(f"{FILE}:3: record seq 2 was edited")


def test_edit_with_recomputed_hash_breaks_the_next_link(five: Path) -> None:
    texts = lines(five)
    data = json.loads(texts[1])
    data["after"]["revision_id"] = "forged"
    data["hash"] = record_hash(record_from_json(data, file="x", line=2))
    texts[1] = canonical_json(data)
    write_lines(five, texts)
    report = verify_ledger(five)
    assert [(p.line, p.kind) for p in report.problems] == [(3, "broken")]
    assert "rewritten" in report.problems[0].message


def test_removed_record_is_missing_not_tampering(five: Path) -> None:
    texts = lines(five)
    del texts[2]
    write_lines(five, texts)
    report = verify_ledger(five)
    assert report.intact and not report.ok
    (gap,) = report.missing
    assert (gap.chain, gap.first, gap.last) == (ENV, 2, 2)
    assert "missing 1 record(s), seq 2" in str(gap)


def test_reordered_lines_are_found(five: Path) -> None:
    texts = lines(five)
    texts[1], texts[2] = texts[2], texts[1]
    write_lines(five, texts)
    problems = verify_ledger(five).problems
    assert [(p.line, p.kind) for p in problems] == [(3, "reordered")]


def test_a_record_with_changed_seq_is_edited(five: Path) -> None:
    texts = lines(five)
    data = json.loads(texts[4])
    data["seq"] = 9
    texts[4] = canonical_json(data)
    write_lines(five, texts)
    report = verify_ledger(five)
    assert "edited" in {p.kind for p in report.problems}


def test_inserted_record_is_found(five: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = tmp_path_factory.mktemp("other")
    ledger(other).append([change("X/global/y")], actor="mallory")
    texts = lines(five)
    texts.insert(3, lines(other)[0])
    write_lines(five, texts)
    kinds = {p.kind for p in verify_ledger(five).problems}
    assert "reordered" in kinds and "fork" in kinds


def test_a_record_moved_to_another_environment_is_found(five: Path) -> None:
    moved = batch_path(five, "prod", APPLY)
    moved.parent.mkdir(parents=True)
    moved.write_text(lines(five)[0] + "\n", encoding="utf-8")
    report = verify_ledger(five, environment="prod")
    assert [p.kind for p in report.problems] == ["layout"]


def test_truncation_is_found_only_against_a_known_head(five: Path) -> None:
    head = verify_ledger(five).head
    write_lines(five, lines(five)[:3])
    assert verify_ledger(five).ok  # a shorter chain is still a chain
    report = verify_ledger(five, expect_head=head)
    assert not report.ok and report.problems[0].kind == "truncated"
    assert "cut off" in str(report.problems[0])


def test_garbage_line_is_reported_and_reading_fails(five: Path) -> None:
    texts = lines(five)
    texts[1] = "{not json"
    write_lines(five, texts)
    report = verify_ledger(five)
    assert (report.problems[0].line, report.problems[0].kind) == (2, "malformed")
    assert [(g.first, g.last) for g in report.missing] == [(1, 1)]
    with pytest.raises(ConfigError, match=rf"{APPLY}.jsonl:2"):
        list(ledger(five).records())


def test_append_refuses_a_torn_last_line(five: Path) -> None:
    with (five / FILE).open("a", encoding="utf-8") as handle:
        handle.write('{"v":2')
    with pytest.raises(LedgerError, match=r"abc.jsonl:6: .*incomplete"):
        ledger(five).append([change("S/global/z")], actor="ci")


@pytest.mark.parametrize("cut", [1, 40, 200])
def test_a_ledger_cut_inside_its_last_record_fails_verify(five: Path, cut: int) -> None:
    path = five / FILE
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - cut])
    report = verify_ledger(five)
    assert not report.ok
    with pytest.raises(LedgerError):  # and apply refuses before writing anything
        ledger(five).check_appendable()
    if cut == 1:  # only the final newline: the record is whole, and verify says how to fix it
        assert report.records == 5 and len(report.problems) == 1
        assert "no final newline" in str(report.problems[0])
        path.write_bytes(data)
        assert verify_ledger(five).ok
    else:
        assert report.problems[0].line == 5 and "not JSON" in str(report.problems[0])


def _append_many(root: str, worker: int) -> None:
    book = ledger(Path(root))
    for n in range(15):
        book.append(
            [
                change(f"S/w{worker}/k{n}", n, f"W{worker}"),
                change(f"S/w{worker}/j{n}", 0, f"W{worker}"),
            ],
            actor="w",
        )


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
    # A batch is contiguous: the two records of one append are adjacent in the chain.
    records = list(ledger(tmp_path).records())
    assert [r.seq for r in records] == list(range(120))
    for first, second in zip(records[::2], records[1::2], strict=True):
        assert isinstance(first.body, ChangeRecord) and isinstance(second.body, ChangeRecord)
        assert first.body.address.split("/")[1] == second.body.address.split("/")[1]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 5), st.integers(0, 5), st.sampled_from(["edit", "drop", "swap", "dup"]))
def test_any_single_tampering_is_detected(index: int, other: int, how: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        ledger(root).append([change(f"S/global/k{n}", n) for n in range(6)], actor="ci")
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
        report = verify_ledger(root)
        assert not report.ok
        # Dropping a line is "missing", never tampering; everything else is tampering.
        assert report.intact == (how == "drop")


def test_without_an_environment_the_bodies_name_it(tmp_path: Path) -> None:
    approval = ApprovalRecord("sha256:" + "a" * 64, "prod", 1, "alice", "signature", "sha256:c")
    (record,) = Ledger(tmp_path).append([approval], actor="ci")
    assert record.chain == "prod"
    Ledger(tmp_path).check_appendable()  # every chain of the checkout
    with pytest.raises(LedgerError, match="needs an environment"):
        Ledger(tmp_path).append([change("S/global/a")], actor="ci")  # names none


def test_an_apply_batch_without_an_environment_goes_to_the_one_its_apply_record_names(
    tmp_path: Path,
) -> None:
    batch = [change("S/global/a"), every_kind()[0]]  # a change (no environment) and its apply
    Ledger(tmp_path).append(batch, actor="ci")
    assert (tmp_path / FILE).is_file()
    assert [r.type for r in Ledger(tmp_path).records_of_apply(APPLY)] == ["change", "apply"]
    assert Ledger(tmp_path).apply_recorded(APPLY)
    assert not Ledger(tmp_path).apply_recorded("nope")


def test_two_checkouts_that_bypass_the_universe_head_fork_and_verify_says_so(
    tmp_path: Path,
) -> None:
    """Why the head lives in the universe: without it, two checkouts extend the same record."""
    import shutil

    a, b, merged = tmp_path / "a", tmp_path / "b", tmp_path / "merged"
    ledger(a).append([change("S/global/x", apply_id="A1")], actor="a")
    shutil.copytree(a, b)
    ledger(a).append([change("S/global/y", apply_id="A2")], actor="a")
    ledger(b).append([change("S/global/z", apply_id="B1")], actor="b")
    for root in (a, b):
        shutil.copytree(root, merged, dirs_exist_ok=True)
    report = verify_ledger(merged)
    assert [p.kind for p in report.problems] == ["fork"]
    assert "2 records claim seq 1" in report.problems[0].message
