"""A ledger that merges: two checkouts apply to one environment on two branches, and git merges
them either way without a conflict into one linear chain that `audit verify` proves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsgit.apply.result import ApplyResult, ApplyStatus
from dsgit.apply.run import ApplyDeps, ApplyOptions, apply_plan
from dsgit.config import Environment
from dsgit.emulator import Emulator
from dsgit.ledger import ApplyRecord, Ledger, verify_ledger
from dsgit.ledger.head import UniverseHead
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.planning.usecase import PlanRequest, make_plan
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import emulated_client
from support import declaration_of, invoke_cli, run_git

pytestmark = pytest.mark.slow  # git subprocesses

ENV = "prod"


def key(name: str) -> Address:
    return Address(StoreKind.STANDARD, "Config", "global", name)


@pytest.fixture
def client() -> Iterator[OpenCloudClient]:
    api = emulated_client(Emulator(db=":memory:"), universe_id=1, max_workers=4)
    try:
        yield api
    finally:
        api.close()


def apply_in(root: Path, api: OpenCloudClient, entries: dict[Address, EntryData]) -> ApplyResult:
    """Plan ``entries`` against the live universe and apply the plan from checkout ``root``."""
    declaration = declaration_of(entries)
    plan = make_plan(declaration, api, PlanRequest(ENV, 1, now=datetime.now(UTC)))
    env = Environment(name=ENV, universe_id=1, url="http://emulator.test")
    deps = ApplyDeps(root=root, env=env, api=api, declaration=declaration, actor="alice")
    result = apply_plan(plan, deps, ApplyOptions(workers=2))
    assert result.status is ApplyStatus.COMPLETE
    return result


def commit_all(root: Path, message: str) -> None:
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", message)


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    root = tmp_path / "origin"
    root.mkdir()
    run_git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("game data\n")
    (root / "dsgit.yaml").write_text(
        "version: 1\nenvironments:\n  prod:\n    universe_id: 1\n    emulator: .dsgit/e.db\n"
    )
    commit_all(root, "start")
    return root


def clone(origin: Path, name: str, branch: str) -> Path:
    target = origin.parent / name
    run_git(origin.parent, "clone", "-q", str(origin), name)
    run_git(target, "checkout", "-q", "-b", branch)
    return target


def chain_seqs(root: Path) -> list[int]:
    return [record.seq for record in Ledger(root, environment=ENV).records()]


@pytest.mark.parametrize("first_merged", ["a", "b"])
def test_two_branches_that_applied_merge_both_ways_into_one_chain(
    origin: Path, client: OpenCloudClient, first_merged: str, capsys: pytest.CaptureFixture[str]
) -> None:
    a = clone(origin, "a", "feature-a")
    b = clone(origin, "b", "feature-b")
    one = apply_in(a, client, {key("x"): EntryData(1)})
    commit_all(a, "apply a")
    two = apply_in(b, client, {key("x"): EntryData(1), key("y"): EntryData(2)})
    commit_all(b, "apply b")
    three = apply_in(a, client, {key("x"): EntryData(3), key("y"): EntryData(2)})
    commit_all(a, "apply a again")

    # Before merging, b lacks a's records: missing, not tampering, named against the head.
    head, _ = UniverseHead(client, ENV).read()
    assert head is not None
    alone = verify_ledger(b, environment=ENV, live_head=head)
    assert alone.intact and not alone.ok
    assert [(g.first, g.last) for g in alone.missing] == [(0, 1), (4, 5)]
    assert alone.missing[0].applies == (one.apply_id,)
    assert alone.missing[1].applies == (three.apply_id,)

    for name, clone_root in (("a", a), ("b", b)):
        run_git(clone_root, "push", "-q", "origin", f"HEAD:feature-{name}")
    # Merge into main in either order; then the other branch into that.
    order = ["a", "b"] if first_merged == "a" else ["b", "a"]
    run_git(origin, "merge", "-q", "--no-edit", f"feature-{order[0]}")
    run_git(origin, "merge", "-q", "--no-edit", f"feature-{order[1]}")  # no conflict

    report = verify_ledger(origin, environment=ENV, live_head=head)
    assert report.ok, [str(p) for p in report.problems] + [str(g) for g in report.missing]
    assert chain_seqs(origin) == [0, 1, 2, 3, 4, 5]  # one linear chain across three files
    applies = [
        r.body.apply_id
        for r in Ledger(origin, environment=ENV).records()
        if isinstance(r.body, ApplyRecord)
    ]
    assert applies == [one.apply_id, two.apply_id, three.apply_id]
    assert report.head == head.hash
    code, out, _ = invoke_cli(["-C", str(origin), "audit", "verify"], capsys)
    assert code == 0
    assert "audit/ledger/prod: 6 record(s) (seq 0-5), 0 signed" in out
    assert out.rstrip().endswith("valid: every chain is intact and linear")


def test_merging_the_other_way_round_in_the_feature_branch(
    origin: Path, client: OpenCloudClient
) -> None:
    a = clone(origin, "a", "feature-a")
    b = clone(origin, "b", "feature-b")
    apply_in(a, client, {key("x"): EntryData(1)})
    commit_all(a, "apply a")
    apply_in(b, client, {key("x"): EntryData(2)})
    commit_all(b, "apply b")
    run_git(a, "push", "-q", "origin", "HEAD:feature-a")
    run_git(b, "push", "-q", "origin", "HEAD:feature-b")
    run_git(a, "pull", "-q", "--no-rebase", "--no-edit", "origin", "feature-b")
    run_git(b, "pull", "-q", "--no-rebase", "--no-edit", "origin", "feature-a")
    for root in (a, b):
        assert verify_ledger(root).ok
        assert chain_seqs(root) == [0, 1, 2, 3]


def test_a_deleted_record_is_missing_and_an_edited_one_tampered(
    origin: Path, client: OpenCloudClient
) -> None:
    a = clone(origin, "a", "feature-a")
    result = apply_in(a, client, {key("x"): EntryData(1), key("y"): EntryData(2)})
    commit_all(a, "apply")
    path = a / "audit/ledger" / ENV / f"{result.apply_id}.jsonl"
    texts = path.read_text().splitlines()
    assert len(texts) == 3

    path.write_text("".join(t + "\n" for i, t in enumerate(texts) if i != 1))
    deleted = verify_ledger(a)
    assert deleted.intact and [(g.first, g.last) for g in deleted.missing] == [(1, 1)]

    run_git(a, "checkout", "--", str(path))
    path.write_text(
        texts[0] + "\n" + texts[1].replace('"alice"', '"mallory"') + "\n" + texts[2] + "\n"
    )
    edited = verify_ledger(a)
    assert not edited.missing and [p.kind for p in edited.problems] == ["edited"]
