"""Signed approval documents and their text block form (parsed back from comments)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from approval_builders import NOW, plan
from dsgit.approvals.document import (
    approval_json_text,
    approval_to_text,
    approvals_in_text,
    sign_plan,
)
from dsgit.approvals.files import approvals_dir, read_approvals, write_approval
from dsgit.approvals.keys import generate_key_file, load_key
from dsgit.policy import Approver, EvaluationContext, Policy, evaluate


def signed(tmp_path: Path):  # type: ignore[no-untyped-def]
    path, public = generate_key_file("alice", tmp_path / "alice.key")
    key = load_key(path)
    assert key.public == public and "PRIVATE" not in repr(key)
    target = plan(policy_digest="x")
    return target, sign_plan(target, key, "alice", NOW), public


def test_text_block_survives_fences_quotes_and_other_text(tmp_path: Path) -> None:
    _target, approval, _ = signed(tmp_path)
    block = approval_to_text(approval)
    quoted = "\n".join("> " + line for line in block.splitlines())
    comment = f"/dsgit approve\n\nLooks right.\n{block}\nand again, quoted:\n{quoted}\n"
    found, problems = approvals_in_text(comment, "comment 1")
    assert not problems and len(found) == 2
    assert all(
        a.signature == approval.signature and a.reference == approval.reference for a in found
    )


def test_a_damaged_block_is_a_problem_not_an_approval(tmp_path: Path) -> None:
    _, approval, _ = signed(tmp_path)
    block = approval_to_text(approval).replace("universe_id: 42", "universe_id: forty-two")
    found, problems = approvals_in_text(block, "comment 2")
    assert found == [] and "universe_id" in problems[0] and "comment 2" in problems[0]


def test_signature_verifies_and_the_json_document_round_trips(tmp_path: Path) -> None:
    target, approval, public = signed(tmp_path)
    folder = approvals_dir(tmp_path / "plan.json")
    write_approval(folder / "alice.json", approval)
    (folder / "notes.txt").write_text("nothing here")
    found = read_approvals([folder])
    assert [a.reference for a in found.approvals] == [approval.reference]
    assert "holds no approval" in found.problems[0]
    assert json.loads(approval_json_text(approval))["key"] == public

    policy = Policy(approvers=(Approver("alice", None, public),), digest="x")
    context = EvaluationContext(now=NOW, protected=True, plan_policy_digest="x")
    assert evaluate(target, found.approvals, policy, context).satisfied


def test_times_are_whole_seconds_in_utc(tmp_path: Path) -> None:
    path, _ = generate_key_file("bob", tmp_path / "bob.key")
    moment = datetime(2026, 12, 3, 10, 0, 0, 999_999, tzinfo=UTC)
    approval = sign_plan(plan(), load_key(path), "bob", moment)
    assert approval.time == moment.replace(microsecond=0)
