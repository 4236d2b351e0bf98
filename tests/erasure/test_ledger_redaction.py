"""Erasure redacts the earlier ledger records that held the user (docs/ledger.md, "Redaction"):
the chain and its signatures stay valid, tampering with a redaction is caught, a redaction a
crash cut off is finished, `erase --verify` and `audit log --user` read the ledger, and an
erasure apply ended by conflicts records what it erased."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsgit.apply.run import ApplyDeps, ApplyOptions, apply_plan
from dsgit.erasure.planner import ErasureRequest, plan_erasure
from dsgit.erasure.policy_file import load_erasure
from dsgit.erasure.proof import hashed_user, repository_salt
from dsgit.erasure.verify import verify_erased
from dsgit.ledger import Ledger
from dsgit.ledger.query import LogFilter, filter_records
from dsgit.ledger.records import ChangeRecord, ErasureRecord, is_marker
from dsgit.ledger.signing import PUBLIC_KEYS_DIR, Signer, generate_key
from dsgit.ledger.verify import verify_ledger
from dsgit.model.entry import EntryData
from dsgit.plan.codes import DiagnosticCode
from dsgit.plan.model import Plan
from dsgit.planning.usecase import PlanRequest, make_plan
from support import LOCAL_CONFIG, declaration_of, seed_live

from .test_erase import LIVE, OTHER, USER, World, std

BAN_LIST = std("Config", "BanList")


class Signed(World):
    """The erase world with a signed ledger and an ordinary apply before the erasure."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.signer: Signer = generate_key()
        keys = root / PUBLIC_KEYS_DIR
        keys.mkdir(parents=True, exist_ok=True)
        (keys / "ledger.pub").write_text(self.signer.public_text())

    def deps(self, declaration: object = None) -> ApplyDeps:
        return ApplyDeps(
            root=self.root,
            env=self.env,
            api=self.client,
            declaration=declaration,  # type: ignore[arg-type]
            actor="t",
            signer=self.signer,
        )

    def apply(self, plan: Plan) -> None:
        result = apply_plan(plan, self.deps(), ApplyOptions(workers=2))
        assert str(result.status) == "complete", result

    def ordinary_apply(self) -> None:
        """Both players' profiles overwritten, and a ban list naming the user in its value."""
        entries = {
            std("PlayerStore", str(u)): EntryData({"Data": {"Coins": 99}}, {}, (u,))
            for u in (USER, OTHER)
        }
        entries[BAN_LIST] = EntryData({"banned": [USER, 7]})
        declaration = declaration_of(entries)
        plan = make_plan(declaration, self.client, PlanRequest("local", 1))
        result = apply_plan(plan, self.deps(declaration), ApplyOptions(workers=2))
        assert str(result.status) == "complete"


@pytest.fixture
def signed(tmp_path: Path) -> Iterator[Signed]:
    made = Signed(tmp_path / "repo")
    seed_live(made.client, LIVE)
    try:
        yield made
    finally:
        made.client.close()


def _ledger_text(root: Path) -> str:
    return "".join(p.read_text() for p in sorted((root / "audit").rglob("*.jsonl")))


def _lines(root: Path) -> list[tuple[Path, int, dict[str, object]]]:
    found = []
    for path in sorted((root / "audit" / "ledger").rglob("*.jsonl")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            found.append((path, number, json.loads(line)))
    return found


def test_earlier_records_of_the_user_are_redacted_and_the_signed_chain_still_verifies(
    signed: Signed,
) -> None:
    signed.ordinary_apply()
    assert f"PlayerStore/global/{USER}" in _ledger_text(signed.root)
    plan = signed.plan()
    [note] = [d for d in plan.diagnostics if d.code is DiagnosticCode.ERASURE_REDACTS_LEDGER]
    listed = json.loads(plan.context["redact_ledger"])
    # The user's profile (address, users, diff) and the ban list's diff (the id in a value).
    assert sorted(tuple(item["fields"]) for item in listed) == [
        ("address", "diff", "users"),
        ("diff",),
    ]
    assert note.count == 2
    # The reviewer reads which records are rewritten, in the terminal and in the PR comment.
    from dsgit.render.markdown import render_markdown
    from dsgit.render.text import render_text

    for item in listed:
        named = f"{item['file']} seq {item['seq']} ({', '.join(item['fields'])})"
        assert named in note.message
        assert named in render_text(plan) and named in render_markdown(plan)
    signed.apply(plan)

    text = _ledger_text(signed.root)
    assert str(USER) not in text  # nowhere: not in an address, a diff or a key
    assert f"PlayerStore/global/{OTHER}" in text  # the other player's history is kept
    assert "Config/global/BanList" in text  # the ban list keeps its address, not its diff
    report = verify_ledger(signed.root, require_signatures=True)
    assert report.ok, report.problems
    records = list(Ledger(signed.root).records())
    [erasure] = [r for r in records if isinstance(r.body, ErasureRecord)]
    assert isinstance(erasure.body, ErasureRecord)
    assert len(erasure.body.redacted) == 2
    redacted = [r for r in records if r.redacted_by is not None]
    assert {r.redacted_by for r in redacted} == {erasure.hash}
    assert {(r.chain, r.seq, r.hash) for r in redacted} == {
        (ref.chain, ref.seq, ref.hash) for ref in erasure.body.redacted
    }
    ban = next(r.body for r in redacted if isinstance(r.body, ChangeRecord) and r.body.diff == ())
    assert isinstance(ban, ChangeRecord) and ban.address == "Config/global/BanList"

    # `audit log --user` still finds the user's history: the erasure and what it redacted.
    salt = repository_salt(signed.root)
    where = LogFilter(user=USER, erasure_user=hashed_user(salt, USER))
    shown = {r.hash for r in filter_records(records, where)}
    assert shown == {erasure.hash} | {r.hash for r in redacted}

    # `erase --verify` reads the ledger too: nothing of the user is left.
    result = verify_erased(signed.client, load_erasure(signed.root), USER, signed.root)
    assert result.clean and not result.ledger
    # What a user sees: `audit log --user` marks the redacted records; `audit verify` passes.
    from click.testing import CliRunner

    from dsgit.cli.main import cli

    (signed.root / "dsgit.yaml").write_text(LOCAL_CONFIG)
    log = CliRunner().invoke(cli, ["-C", str(signed.root), "audit", "log", "--user", str(USER)])
    assert log.exit_code == 0, log.output
    lines = log.output.splitlines()
    assert sum("[redacted by erasure sha256:" in line for line in lines) == 2
    assert any("erasure user=sha256:" in line and "redacted=2" in line for line in lines)
    assert str(USER) not in log.output
    checked = CliRunner().invoke(cli, ["-C", str(signed.root), "audit", "verify"])
    assert checked.exit_code == 0, checked.output


def test_verify_fails_while_a_ledger_record_still_names_the_user(signed: Signed) -> None:
    signed.apply(signed.plan())
    # A record of the user arrives after the erasure (a branch merged later, say).
    signed.ordinary_apply()
    result = verify_erased(signed.client, load_erasure(signed.root), USER, signed.root)
    assert not result.clean
    assert {tuple(item.fields) for item in result.ledger} == {
        ("address", "diff", "users"),
        ("diff",),
    }
    # Erasing again redacts it, though the user's entries are already gone.
    again = signed.plan()
    signed.apply(again)
    assert verify_erased(signed.client, load_erasure(signed.root), USER, signed.root).clean
    assert verify_ledger(signed.root, require_signatures=True).ok


def test_tampering_with_a_redaction_is_caught(signed: Signed) -> None:
    signed.ordinary_apply()
    signed.apply(signed.plan())
    lines = _lines(signed.root)
    path, number, data = next(
        (p, n, d) for p, n, d in lines if d.get("redacted_by") and is_marker(d.get("address"))
    )
    original = path.read_text()

    def rewrite(changed: dict[str, object]) -> None:
        text = original.splitlines()
        text[number - 1] = json.dumps(changed, sort_keys=True, separators=(",", ":"))
        path.write_text("\n".join(text) + "\n")

    # The marker's digest replaced: the record's hash no longer verifies.
    forged = dict(data, address={"redacted": "erasure", "digest": "sha256:" + "0" * 64})
    rewrite(forged)
    kinds = {p.kind for p in verify_ledger(signed.root).problems}
    assert "edited" in kinds
    # `redacted_by` pointing at no erasure record: a redaction nobody ordered.
    rewrite(dict(data, redacted_by="sha256:" + "1" * 64))
    kinds = {p.kind for p in verify_ledger(signed.root).problems}
    assert kinds == {"redaction"}
    path.write_text(original)
    assert verify_ledger(signed.root).ok


def test_a_version_2_record_is_redacted_and_checked_by_its_erasure_record(
    signed: Signed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Ledger, "record_version", 2)
    signed.ordinary_apply()
    monkeypatch.setattr(Ledger, "record_version", 3)
    assert all(d["v"] == 2 for _, _, d in _lines(signed.root))
    signed.apply(signed.plan())
    assert str(USER) not in _ledger_text(signed.root)
    assert verify_ledger(signed.root, require_signatures=True).ok
    erasure = next(
        r.body for r in Ledger(signed.root).records() if isinstance(r.body, ErasureRecord)
    )
    assert isinstance(erasure, ErasureRecord)
    assert all(ref.digest is not None for ref in erasure.redacted)  # v2: the form's digest
    # Editing the redacted v2 record further breaks the digest its erasure record holds.
    path, number, data = next(
        (p, n, d) for p, n, d in _lines(signed.root) if d.get("v") == 2 and d.get("redacted_by")
    )
    text = path.read_text().splitlines()
    text[number - 1] = json.dumps(dict(data, actor="mallory"), separators=(",", ":"))
    path.write_text("\n".join(text) + "\n")
    problems = verify_ledger(signed.root).problems
    assert [p.kind for p in problems] == ["edited"]
    assert f"{path.relative_to(signed.root)}" == problems[0].file


def test_a_redaction_cut_off_by_a_crash_is_reported_and_finished(
    signed: Signed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from dsgit.cli.main import cli

    signed.ordinary_apply()
    monkeypatch.setattr("dsgit.ledger.redactions.complete", lambda root: 0)  # "killed"
    signed.apply(signed.plan())
    monkeypatch.undo()
    assert str(USER) in _ledger_text(signed.root)
    report = verify_ledger(signed.root)
    assert {p.kind for p in report.problems} == {"unredacted"}
    assert all("dsgit audit redact" in p.message for p in report.problems)
    (signed.root / "dsgit.yaml").write_text(LOCAL_CONFIG)
    done = CliRunner().invoke(cli, ["-C", str(signed.root), "audit", "redact"])
    assert done.exit_code == 0, done.output
    assert "2 ledger record(s) redacted" in done.output
    assert str(USER) not in _ledger_text(signed.root)
    assert verify_ledger(signed.root, require_signatures=True).ok
    again = CliRunner().invoke(cli, ["-C", str(signed.root), "audit", "redact"])
    assert again.exit_code == 0 and "nothing to redact" in again.output


def test_an_erasure_ended_by_a_conflict_records_and_purges_what_it_erased(
    signed: Signed,
) -> None:
    plan = signed.plan()
    # A game server writes one of the user's entries after the plan: its compare-and-swap fails.
    signed.client.update_entry(f"DATA/{USER}", "1", EntryData({"coins": 50}, {}, (USER,)))
    result = apply_plan(plan, signed.deps(), ApplyOptions(workers=2))
    assert str(result.status) == "conflict"
    [first] = [r.body for r in Ledger(signed.root).records() if isinstance(r.body, ErasureRecord)]
    assert isinstance(first, ErasureRecord)
    assert (first.entries, first.conflicts) == (len(plan.changes) - 1, 1)
    assert not list((signed.root / "audit" / "preimages").rglob("*.json"))  # purged
    assert not verify_erased(signed.client, load_erasure(signed.root), USER, signed.root).clean
    rerun = signed.plan()
    assert [str(c.address) for c in rerun.changes] == [f"DATA%2F{USER}/global/1"]
    signed.apply(rerun)
    proofs = [r.body for r in Ledger(signed.root).records() if isinstance(r.body, ErasureRecord)]
    assert [(p.entries, p.conflicts) for p in proofs if isinstance(p, ErasureRecord)] == [
        (len(plan.changes) - 1, 1),
        (1, 0),
    ]
    assert verify_erased(signed.client, load_erasure(signed.root), USER, signed.root).clean


def test_restore_never_writes_an_erased_entry_back(signed: Signed) -> None:
    import time
    from datetime import UTC, datetime

    from dsgit.erasure.ledger_scan import erased_entries
    from dsgit.undo import RestoreRequest, plan_restore

    time.sleep(0.05)
    before = datetime.now(UTC)
    time.sleep(0.05)
    signed.client.update_entry("PlayerStore", str(OTHER), EntryData({"Data": {"Coins": 1}}))
    signed.apply(signed.plan())
    request = RestoreRequest(before, "local", 1, stores=("PlayerStore",))
    declaration = declaration_of({})
    unguarded = plan_restore(signed.client, request, declaration=declaration)
    assert {str(c.address) for c in unguarded.changes if c.action.value != "noop"} == {
        f"PlayerStore/global/{USER}",  # Roblox still has the erased profile's revisions
        f"PlayerStore/global/{OTHER}",
    }
    guarded = plan_restore(
        signed.client, request, declaration=declaration, erased=erased_entries(signed.root)
    )
    assert {str(c.address) for c in guarded.changes if c.action.value != "noop"} == {
        f"PlayerStore/global/{OTHER}"
    }
    [note] = [d for d in guarded.all_diagnostics if d.code is DiagnosticCode.RESTORE_LEAVES_ERASED]
    assert note.count == 1 and str(USER) not in note.message


@pytest.mark.parametrize("disguise", [None, "redacted_by"])
def test_an_erasure_never_launders_an_edited_record(
    signed: Signed, monkeypatch: pytest.MonkeyPatch, disguise: str | None
) -> None:
    """Edited, or edited and marked ``redacted_by`` (as if an erasure had been there), the
    record is not listed by the next erasure, so its record never vouches for the edit."""
    monkeypatch.setattr(Ledger, "record_version", 2)
    signed.ordinary_apply()
    monkeypatch.setattr(Ledger, "record_version", 3)
    path, number, data = next(
        (p, n, d) for p, n, d in _lines(signed.root) if f"/{USER}" in str(d.get("address"))
    )
    text = path.read_text().splitlines()
    forged = dict(data, actor="mallory")
    if disguise:
        forged[disguise] = "sha256:" + "1" * 64
    text[number - 1] = json.dumps(forged, separators=(",", ":"))
    path.write_text("\n".join(text) + "\n")
    assert not verify_ledger(signed.root).ok
    signed.apply(signed.plan())
    # The edited record is not listed, so not redacted: the edit stays visible.
    assert not verify_ledger(signed.root, require_signatures=True).ok


def test_a_marker_no_erasure_ordered_is_caught(signed: Signed) -> None:
    signed.ordinary_apply()
    path, number, data = next(
        (p, n, d) for p, n, d in _lines(signed.root) if f"/{OTHER}" in str(d.get("address"))
    )
    from dsgit.ledger.canonical import canonical_json, sha256_digest

    salts = dict(data["salts"])  # type: ignore[arg-type]
    digest = sha256_digest(f"{salts.pop('address')}:{canonical_json(data['address'])}")
    forged = dict(data, address={"redacted": "erasure", "digest": digest}, salts=salts)
    text = path.read_text().splitlines()
    text[number - 1] = json.dumps(forged, separators=(",", ":"))
    path.write_text("\n".join(text) + "\n")
    assert {p.kind for p in verify_ledger(signed.root).problems} == {"redaction"}


def test_dsp098_names_the_first_records_and_counts_the_rest() -> None:
    from dsgit.erasure.planner import LISTED_REDACTIONS, _redacts
    from dsgit.ledger.redact import Redaction

    items = [
        Redaction(f"audit/ledger/c/{n:04d}.jsonl", "c", n, f"sha256:{n}", ("address",))
        for n in range(LISTED_REDACTIONS + 2)
    ]
    note = _redacts(items)
    assert note.count == LISTED_REDACTIONS + 2
    assert f"audit/ledger/c/{LISTED_REDACTIONS - 1:04d}.jsonl seq {LISTED_REDACTIONS - 1}" in (
        note.message
    )
    assert f"seq {LISTED_REDACTIONS} " not in note.message
    assert "and 2 more (the plan file's context.redact_ledger lists all)" in note.message


@pytest.mark.parametrize(
    "name",
    ["dsgit.yaml", "../outside.jsonl", "/etc/passwd", "audit/ledger/../x.jsonl", "gone.jsonl"],
)
def test_a_plan_naming_a_file_that_is_not_a_ledger_file_lists_nothing(
    tmp_path: Path, name: str
) -> None:
    from dsgit.ledger.redact import Redaction, reference

    (tmp_path / "repo").mkdir()
    (tmp_path / "outside.jsonl").write_text('{"seq": 1, "hash": "sha256:1"}\n')
    (tmp_path / "repo" / "dsgit.yaml").write_text('{"seq": 1, "hash": "sha256:1"}\n')
    item = Redaction(name, None, 1, "sha256:1", ("address",))
    assert reference(tmp_path / "repo", item, lambda _: True) is None


@pytest.mark.parametrize("version", [2, 3])
def test_two_erasures_redacting_one_record_both_verify(
    signed: Signed, monkeypatch: pytest.MonkeyPatch, version: int
) -> None:
    """OTHER's profile lists USER as a friend: erasing USER redacts the record's diff, erasing
    OTHER later its address and users. Each erasure lists only what it redacts; `audit verify`
    accepts the markers of both."""
    monkeypatch.setattr(Ledger, "record_version", version)
    entries = {
        std("PlayerStore", str(OTHER)): EntryData({"Data": {"Friends": [USER]}}, {}, (OTHER,))
    }
    declaration = declaration_of(entries)
    plan = make_plan(declaration, signed.client, PlanRequest("local", 1))
    assert str(apply_plan(plan, signed.deps(declaration), ApplyOptions(workers=2)).status) == (
        "complete"
    )
    monkeypatch.setattr(Ledger, "record_version", 3)
    signed.apply(signed.plan())  # erase USER: OTHER's change record loses its diff
    assert verify_ledger(signed.root, require_signatures=True).ok
    request = ErasureRequest("local", 1, OTHER)
    second = plan_erasure(signed.client, load_erasure(signed.root), request, signed.root).plan
    assert json.loads(second.context["redact_ledger"])  # the same record, its other fields
    signed.apply(second)
    report = verify_ledger(signed.root, require_signatures=True)
    assert report.ok, [(p.kind, p.message) for p in report.problems]
    [record] = [
        d for _, _, d in _lines(signed.root) if d.get("type") == "change" and is_marker(d["diff"])
    ]  # the one that held USER's id in its diff ...
    assert is_marker(record["address"])  # ... and OTHER's address: redacted by both
    assert str(OTHER) not in _ledger_text(signed.root)
