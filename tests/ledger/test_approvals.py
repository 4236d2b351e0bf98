"""Approval records: written once per apply, before the apply record that cites them by hash."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsgit.apply.audit import append_apply_records
from dsgit.apply.result import ApplyStatus
from dsgit.emulator import Emulator
from dsgit.errors import LedgerError
from dsgit.ledger import ApplyRecord, ApprovalKind, ApprovalRecord, Ledger, verify_ledger
from dsgit.ledger.actor import Actor
from dsgit.ledger.canonical import sha256_digest
from dsgit.ledger.query import describe
from dsgit.ledger.records import record_from_json
from dsgit.model.entry import Address, EntryData
from dsgit.plan.model import Plan
from dsgit.planning.usecase import PlanRequest, make_plan
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import emulated_client
from support import declaration_of

ENV = "prod"
APPLY = "20261203T091500Z-0123456789ab"


@pytest.fixture
def api() -> Iterator[OpenCloudClient]:
    client = emulated_client(Emulator(db=":memory:"), universe_id=1)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def plan(api: OpenCloudClient) -> Plan:
    declaration = declaration_of({Address.standard("Config", "k"): EntryData(1)})
    return make_plan(declaration, api, PlanRequest(ENV, 1, now=datetime.now(UTC)))


def approval(plan: Plan, approver: str, kind: ApprovalKind, reference: str) -> ApprovalRecord:
    return ApprovalRecord(
        plan_digest=plan.digest,
        environment=plan.environment,
        universe_id=plan.universe_id,
        approver=approver,
        method=str(kind),
        signature_digest=reference,
        expires="2026-12-04T09:12:00Z",
        approved_at="2026-12-03T09:12:00Z",
    )


def record_run(
    root: Path, api: OpenCloudClient, plan: Plan, approvals: list[ApprovalRecord]
) -> None:
    append_apply_records(
        Ledger.of_universe(root, ENV, api),
        Actor("octocat", "GITHUB_ACTOR"),
        plan,
        APPLY,
        (),
        ApplyStatus.COMPLETE,
        None,
        "2026-12-03T09:15:00Z",
        (),
        approvals=approvals,
    )


def test_approvals_are_recorded_and_cited_by_the_apply_record(
    tmp_path: Path, api: OpenCloudClient, plan: Plan
) -> None:
    alice = approval(plan, "alice", ApprovalKind.SIGNATURE, sha256_digest('{"sig":"..."}'))
    bob = approval(plan, "bob", ApprovalKind.GITHUB_REVIEW, "github-review:2417")
    record_run(tmp_path, api, plan, [alice, bob])
    records = Ledger(tmp_path, environment=ENV).records_of_apply(APPLY)
    assert [r.type for r in records] == ["approval", "approval", "apply"]
    first, second, run = records
    assert isinstance(first.body, ApprovalRecord) and first.body.apply_id == APPLY
    assert (first.body.approver, first.body.kind, first.body.reference) == (
        "alice",
        ApprovalKind.SIGNATURE,
        alice.reference,
    )
    assert isinstance(run.body, ApplyRecord)
    assert run.body.approvals == (first.hash, second.hash)
    assert verify_ledger(tmp_path).ok
    assert "approval by bob (github-review) env=prod" in describe(second)
    assert "approvals=2" in describe(run)


def test_a_resumed_run_cites_the_recorded_approvals_without_repeating_them(
    tmp_path: Path, api: OpenCloudClient, plan: Plan
) -> None:
    alice = approval(plan, "alice", ApprovalKind.SIGNATURE, "sha256:" + "a" * 64)
    record_run(tmp_path, api, plan, [alice])
    append_apply_records(
        Ledger.of_universe(tmp_path, ENV, api),
        "octocat",
        plan,
        APPLY,
        (),
        ApplyStatus.PARTIAL,  # another run of the same apply
        None,
        "2026-12-03T09:15:00Z",
        (),
        approvals=[alice, alice],
    )
    records = Ledger(tmp_path, environment=ENV).records_of_apply(APPLY)
    assert [r.type for r in records] == ["approval", "apply", "apply"]
    runs = [r.body for r in records if isinstance(r.body, ApplyRecord)]
    assert runs[0].approvals == runs[1].approvals == (records[0].hash,)


def test_an_approval_of_another_plan_is_refused(
    tmp_path: Path, api: OpenCloudClient, plan: Plan
) -> None:
    other = ApprovalRecord(
        "sha256:" + "f" * 64, ENV, 1, "mallory", "signature", "sha256:" + "b" * 64
    )
    with pytest.raises(LedgerError, match="not this plan"):
        record_run(tmp_path, api, plan, [other])
    assert not (tmp_path / "audit").exists()


def test_verify_finds_a_citation_of_no_approval(tmp_path: Path, plan: Plan) -> None:
    bogus = ApplyRecord(
        apply_id=APPLY,
        plan_digest=plan.digest,
        plan_kind="plan",
        environment=ENV,
        universe_id=1,
        source_commit=None,
        source_digest="sha256:" + "b" * 64,
        status="complete",
        approvals=("sha256:" + "9" * 64,),
    )
    Ledger(tmp_path, environment=ENV).append([bogus], actor="x")
    (problem,) = verify_ledger(tmp_path).problems
    assert "cites approval sha256:99999999999" in problem.message


def test_an_unknown_approval_method_is_refused() -> None:
    with pytest.raises(ValueError, match="telepathy"):
        ApprovalRecord("sha256:x", ENV, 1, "alice", "telepathy")


def test_version_1_approval_records_still_read() -> None:
    data = {
        "v": 1,
        "seq": 0,
        "type": "approval",
        "time": "t",
        "actor": "a",
        "prev": "p",
        "hash": "h",
        "plan_digest": "sha256:x",
        "environment": "prod",
        "universe_id": 1,
        "approver": "alice",
        "method": "signature",
        "signature_digest": "sha256:s",
        "expires": None,
    }
    body = record_from_json(data, file="f", line=1).body
    assert isinstance(body, ApprovalRecord)
    assert (body.kind, body.reference, body.approved_at, body.apply_id) == (
        ApprovalKind.SIGNATURE,
        "sha256:s",
        None,
        None,
    )
