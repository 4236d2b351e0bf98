"""``dsgit github apply`` on push to the default branch, and ``dsgit github review``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from dsgit.approvals.document import approval_to_text, sign_plan
from dsgit.plan.io import plan_from_json, plan_to_json, with_digest
from support import run_git

from .action_world import BOT, WORKFLOW, ActionWorld
from .events import issue_comment_payload, pull_request_payload, push_payload, review_payload
from .fake_github import (
    add_run,
    branch_files,
    commit_to_branch,
    pull_json,
    review_json,
    set_pull_files,
    upload_artifact,
)

SWORD = "datastores/Shop/global/Sword.yaml"
PROD = ("--environments", "production")

# End to end: a served fake GitHub, git subprocesses, the embedded emulator.
pytestmark = pytest.mark.slow


@dataclass
class Reviewed:
    head: str
    merge: str
    artifact: str
    files: dict[str, bytes]
    run_id: int


def _plan_pull(
    world: ActionWorld, capsys: pytest.CaptureFixture[str], *, merge: bool = True
) -> Reviewed:
    """Open #7 changing the sword's price, run the plan job, upload its artifact (as the
    workflow's upload-artifact step does), then merge it into main."""
    world.gh.set_permission("alice", "write")
    head = world.commit({SWORD: "value:\n  price: 450\n"}, "sword")
    pull = pull_json(7, author="carol", head_sha=head)
    world.gh.add_pull(pull)
    set_pull_files(world.gh, 7, [{"filename": SWORD, "status": "modified", "patch": None}])
    event = pull_request_payload(7, head_sha=head, base_sha=world.base)
    code, _, err, outputs = world.run(capsys, "pr", "pull_request", event, *PROD)
    assert code == 0, err
    files = world.staged_files(outputs)
    run_id = 1000 + world.runs
    add_run(world.gh, run_id, head_sha=head, path=WORKFLOW)
    upload_artifact(world.gh, outputs["artifact-name"], files, run_id=run_id, head_sha=head)
    if not merge:
        return Reviewed(head, "", outputs["artifact-name"], files, run_id)
    # Merge: a merge commit on main whose declaration is the head's.
    run_git(world.root, "checkout", "-q", "main")
    run_git(world.root, "merge", "-q", "--no-ff", "-m", "Merge #7", head)
    merged = run_git(world.root, "rev-parse", "HEAD")
    pull.update(state="closed", merged=True, merge_commit_sha=merged)
    return Reviewed(head, merged, outputs["artifact-name"], files, run_id)


def _approve(world: ActionWorld, head: str, login: str = "alice") -> None:
    later = datetime.now(UTC) + timedelta(minutes=5)
    world.gh.add_review(7, review_json(login, "APPROVED", commit_id=head, submitted_at=later))


def _push(world: ActionWorld, capsys: pytest.CaptureFixture[str], merge: str, *args: str):  # type: ignore[no-untyped-def]
    event = push_payload(before=world.base, after=merge)
    return world.run(capsys, "apply", "push", event, *PROD, *args, sha=merge)


def _apply_comment(world: ActionWorld) -> str:
    [comment] = [
        c
        for c in world.comments(7)
        if str(c["body"]).startswith("<!-- dsgit:apply:production -->")
        and c["user"]["login"] == BOT
    ]
    return str(comment["body"])


def test_apply_is_refused_without_approvals_and_done_with_them(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    reviewed = _plan_pull(world, capsys)
    code, _, err, _ = _push(world, capsys, reviewed.merge)
    assert code == 3, err
    assert "do not satisfy the policy" in err and "needs 1 more approval" in err
    assert world.live("production", "Shop", "Sword") is None
    assert "refused" in _apply_comment(world)

    # An approval by the author does not count; one by a writer on the head commit does.
    _approve(world, reviewed.head, login="carol")
    world.gh.set_permission("carol", "write")
    code, _, err, _ = _push(world, capsys, reviewed.merge)
    assert code == 3, err

    _approve(world, reviewed.head)
    code, _, err, outputs = _push(world, capsys, reviewed.merge)
    assert code == 0, err
    assert world.live("production", "Shop", "Sword").value == {"price": 450}  # type: ignore[union-attr]
    assert outputs["apply-id"] and outputs["has-changes"] == "true"
    body = _apply_comment(world)
    assert "complete" in body and outputs["apply-id"] in body and "dsgit/audit" in body
    on_branch = branch_files(world.gh, "dsgit/audit")
    assert any(path.startswith("audit/") for path in on_branch)
    local = {
        p.relative_to(world.root).as_posix()
        for p in (world.root / "audit").rglob("*")
        if p.is_file()
    }
    assert local <= set(on_branch)


def test_review_event_rechecks_approvals_and_updates_status_and_comment(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    reviewed = _plan_pull(world, capsys, merge=False)
    assert world.statuses(reviewed.head)[-1]["state"] == "pending"
    _approve(world, reviewed.head)
    event = review_payload(7, head_sha=reviewed.head, reviewer="alice", state="APPROVED")
    code, _, err, outputs = world.run(capsys, "review", "pull_request_review", event, *PROD)
    assert code == 0, err
    assert outputs["approved"] == "true"
    status = world.statuses(reviewed.head)[-1]
    assert status["context"] == "dsgit/approval/production" and status["state"] == "success"
    [plan_comment] = [c for c in world.comments(7) if "dsgit:plan:production" in str(c["body"])]
    assert "| alice |" in str(plan_comment["body"]) and "✅ satisfied" in str(plan_comment["body"])


def test_approve_comment_with_a_signature_block_approves(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    reviewed = _plan_pull(world, capsys, merge=False)
    plan = plan_from_json(reviewed.files["production/plan.json"], source="artifact")
    later = datetime.now(UTC) + timedelta(minutes=1)
    block = approval_to_text(sign_plan(plan, world.dana, "dana", later))
    body = f"/dsgit approve\n{block}"
    world.gh.state.comments[("octo/game", 7)].append(
        {"id": 5, "body": body, "user": {"login": "dana-gh", "id": 5, "type": "User"}}
    )
    event = issue_comment_payload(7, body=body, commenter="dana-gh")
    code, _, err, outputs = world.run(capsys, "review", "issue_comment", event, *PROD)
    assert code == 0, err
    assert outputs["approved"] == "true"
    assert world.statuses(reviewed.head)[-1]["state"] == "success"
    [plan_comment] = [c for c in world.comments(7) if "dsgit:plan:production" in str(c["body"])]
    assert "dana" in str(plan_comment["body"]) and "satisfied" in str(plan_comment["body"])

    # A block signed for another plan does not count.
    other = replace(plan, digest="sha256:" + "0" * 64)
    forged = approval_to_text(sign_plan(other, world.dana, "dana", later))
    world.gh.state.comments[("octo/game", 7)][-1]["body"] = f"/dsgit approve\n{forged}"
    code, _, err, outputs = world.run(capsys, "review", "issue_comment", event, *PROD)
    assert code == 0 and outputs["approved"] == "false"
    assert world.statuses(reviewed.head)[-1]["state"] == "pending"

    chatter = issue_comment_payload(7, body="looks good", commenter="alice")
    code, _, err, _ = world.run(capsys, "review", "issue_comment", chatter, *PROD)
    assert code == 0 and "nothing to do" in err


def test_a_tampered_artifact_is_refused(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    reviewed = _plan_pull(world, capsys)
    _approve(world, reviewed.head)
    member = "production/plan.json"
    forged = reviewed.files[member].replace(b'"price":450', b'"price":1')
    world.gh.state.extra["artifacts"].clear()
    upload_artifact(
        world.gh,
        reviewed.artifact,
        {member: forged},
        run_id=reviewed.run_id,
        head_sha=reviewed.head,
    )
    code, _, err, _ = _push(world, capsys, reviewed.merge)
    assert code == 4 and "digest" in err
    assert world.live("production", "Shop", "Sword") is None

    # Re-digested after the edit: the merge commit's declaration does not say price 1.
    plan = plan_from_json(reviewed.files[member], source="x")
    change = plan.changes[0]
    assert change.after is not None
    evil = replace(change, after=replace(change.after, value={"price": 1}))
    redigested = plan_to_json(with_digest(replace(plan, changes=(evil, *plan.changes[1:]))))
    world.gh.state.extra["artifacts"].clear()
    upload_artifact(
        world.gh,
        reviewed.artifact,
        {member: redigested},
        run_id=reviewed.run_id,
        head_sha=reviewed.head,
    )
    code, _, err, _ = _push(world, capsys, reviewed.merge)
    assert code == 4, err
    assert world.live("production", "Shop", "Sword") is None


@pytest.mark.parametrize("case", ["other-head", "other-workflow", "fork-run", "expired"])
def test_an_artifact_from_elsewhere_is_refused(
    world: ActionWorld, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    reviewed = _plan_pull(world, capsys)
    _approve(world, reviewed.head)
    world.gh.state.extra["artifacts"].clear()
    run_id, head = 99, reviewed.head
    match case:
        case "other-head":
            add_run(world.gh, run_id, head_sha="c" * 40)
            upload_artifact(
                world.gh, reviewed.artifact, reviewed.files, run_id=run_id, head_sha="c" * 40
            )
        case "other-workflow":
            add_run(world.gh, run_id, head_sha=head, path=".github/workflows/anything.yml")
            upload_artifact(
                world.gh, reviewed.artifact, reviewed.files, run_id=run_id, head_sha=head
            )
        case "fork-run":
            add_run(world.gh, run_id, head_sha=head, head_repository="eve/game")
            upload_artifact(
                world.gh,
                reviewed.artifact,
                reviewed.files,
                run_id=run_id,
                head_sha=head,
                head_repository_id=777,
            )
        case "expired":
            add_run(world.gh, run_id, head_sha=head)
            upload_artifact(
                world.gh,
                reviewed.artifact,
                reviewed.files,
                run_id=run_id,
                head_sha=head,
                expired=True,
            )
    code, _, err, _ = _push(world, capsys, reviewed.merge)
    assert code == 4, err
    assert "refused" in err or "no plan artifact" in err
    assert world.live("production", "Shop", "Sword") is None


def test_a_plan_for_an_older_head_is_refused(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    """The artifact of an earlier push to the pull request is not the reviewed head's plan."""
    reviewed = _plan_pull(world, capsys)
    _approve(world, reviewed.head)
    newer = "d" * 40
    world.gh.state.pulls[("octo/game", 7)]["head"]["sha"] = newer
    code, _, err, _ = _push(world, capsys, reviewed.merge)
    assert code == 4 and "no plan artifact" in err and newer[:12] in err


def test_the_ledger_commit_is_retried_when_the_branch_moved(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    reviewed = _plan_pull(world, capsys)
    _approve(world, reviewed.head)
    commit_to_branch(world.gh, "dsgit/audit", {"audit/README": b"audit branch\n"})

    def someone_else_moves_it(gh: object) -> None:
        commit_to_branch(world.gh, "dsgit/audit", {"audit/staging/other.jsonl": b"{}\n"})

    world.gh.state.extra["before_ref_update"] = someone_else_moves_it
    code, _, err, _ = _push(world, capsys, reviewed.merge)
    assert code == 0, err
    # Earlier records on the audit branch were brought into the checkout before the apply.
    assert (world.root / "audit/README").read_bytes() == b"audit branch\n"
    on_branch = branch_files(world.gh, "dsgit/audit")
    assert on_branch["audit/staging/other.jsonl"] == b"{}\n"  # the other writer's file kept
    assert on_branch["audit/README"] == b"audit branch\n"
    ours = {
        p.relative_to(world.root).as_posix()
        for p in (world.root / "audit").rglob("*")
        if p.is_file()
    }
    assert ours and ours <= set(on_branch)
    patches = [r for r in world.gh.requests if r.method == "PATCH" and "/git/refs/" in r.path]
    assert len(patches) == 2  # refused once (not a fast-forward), then made again on the new head


def test_a_direct_push_applies_nothing(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    sha = world.commit({SWORD: "value:\n  price: 9\n"}, "direct")
    code, _, err, outputs = _push(world, capsys, sha)
    assert code == 0 and "no merged pull request" in err and outputs["has-changes"] == "false"
    assert world.live("production", "Shop", "Sword") is None


def _merge_then_commit(world: ActionWorld, reviewed: Reviewed, files: dict[str, str]) -> str:
    """The merge commit also carries what landed on main since the plan was made (here: one
    more commit on top, which the push names as the merge of #7)."""
    sha = world.commit(files, "what main got meanwhile")
    world.gh.state.pulls[("octo/game", 7)]["merge_commit_sha"] = sha  # the commit being pushed
    return sha


def test_the_merge_commit_may_change_what_the_plan_does_not_read(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    reviewed = _plan_pull(world, capsys)
    _approve(world, reviewed.head)
    tip = _merge_then_commit(world, reviewed, {"datastores/Other/global/x.yaml": "value: 1\n"})
    code, _, err, _ = _push(world, capsys, tip)
    assert code == 0, err
    assert world.live("production", "Shop", "Sword").value == {"price": 450}  # type: ignore[union-attr]


def test_the_merge_commit_changing_a_planned_entry_makes_the_plan_stale(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    reviewed = _plan_pull(world, capsys)
    _approve(world, reviewed.head)
    tip = _merge_then_commit(world, reviewed, {SWORD: "value:\n  price: 999\n"})
    code, _, err, _ = _push(world, capsys, tip)
    assert code == 4 and SWORD in err and "changed since the plan was made" in err
    assert world.live("production", "Shop", "Sword") is None
    assert "refused" in _apply_comment(world)
