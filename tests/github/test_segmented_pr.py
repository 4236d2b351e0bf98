"""A segmented plan through the pull-request flow: ``dsgit github pr`` stages the manifest and
its segments and comments a summary, an approval binds the manifest digest, and
``dsgit github apply`` applies the segments (the fake GitHub API, the embedded emulator)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dsgit.approvals.document import approval_to_text, sign_plan
from dsgit.errors import EXIT_OK, EXIT_STALE
from dsgit.github.comment import COMMENT_BUDGET
from dsgit.planfile import SegmentedPlan, read_any_plan
from support import run_git

from .action_world import BOT, WORKFLOW, ActionWorld
from .events import issue_comment_payload, pull_request_payload, push_payload
from .fake_github import add_run, pull_json, set_pull_files, upload_artifact

PROD = ("--environments", "production")
ITEMS = 120
TOTAL = ITEMS + 2  # and the base declaration's Shop/Sword and Config/motd, new to production
BLURB = "a long description of this item, " * 20  # ~660 characters a value

# End to end: a served fake GitHub, git subprocesses, the embedded emulator.
pytestmark = pytest.mark.slow


def _items() -> dict[str, str]:
    return {
        f"datastores/Shop/global/item_{n:03d}.yaml": f"value:\n  price: {n}\n  text: {BLURB}\n"
        for n in range(ITEMS)
    }


def _open_pull(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> tuple[str, dict[str, str], dict[str, bytes], int]:
    """#7 adds ITEMS entries; the plan job runs with DSGIT_SEGMENT_SIZE=25 and its artifact is
    uploaded as the upload step would: head, outputs, the artifact's files, the run id."""
    world.monkeypatch.setenv("DSGIT_SEGMENT_SIZE", "25")
    head = world.commit(_items(), "a catalogue")
    world.gh.add_pull(pull_json(7, author="carol", head_sha=head))
    set_pull_files(world.gh, 7, [])
    event = pull_request_payload(7, head_sha=head, base_sha=world.base)
    code, _, err, outputs = world.run(capsys, "pr", "pull_request", event, *PROD)
    assert code == EXIT_OK, err
    files = world.staged_files(outputs)
    run_id = 1000 + world.runs
    add_run(world.gh, run_id, head_sha=head, path=WORKFLOW)
    upload_artifact(world.gh, outputs["artifact-name"], files, run_id=run_id, head_sha=head)
    return head, outputs, files, run_id


def _plan_comment(world: ActionWorld) -> str:
    [comment] = [
        c
        for c in world.comments(7)
        if str(c["body"]).startswith("<!-- dsgit:plan:production -->") and c["user"]["login"] == BOT
    ]
    return str(comment["body"])


def _merge(world: ActionWorld, head: str) -> str:
    run_git(world.root, "checkout", "-q", "main")
    run_git(world.root, "merge", "-q", "--no-ff", "-m", "Merge #7", head)
    merged = run_git(world.root, "rev-parse", "HEAD")
    world.gh.state.pulls[("octo/game", 7)].update(
        state="closed", merged=True, merge_commit_sha=merged
    )
    return merged


def _sign_in_a_comment(world: ActionWorld, plan_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    found = read_any_plan(plan_path)
    assert isinstance(found, SegmentedPlan)
    later = datetime.now(UTC) + timedelta(minutes=1)
    approval = sign_plan(found.review(), world.dana, "dana", later)
    body = f"/dsgit approve\n{approval_to_text(approval)}"
    world.gh.state.comments[("octo/game", 7)].append(
        {"id": 55, "body": body, "user": {"login": "dana-gh", "id": 5, "type": "User"}}
    )
    event = issue_comment_payload(7, body=body, commenter="dana-gh")
    return approval, world.run(capsys, "review", "issue_comment", event, *PROD)


def test_a_segmented_plan_is_summarised_approved_by_its_manifest_and_applied(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    head, outputs, files, run_id = _open_pull(world, capsys)
    # The artifact carries the manifest and every segment.
    segments = sorted(m for m in files if m.startswith("production/plan.json.segments/"))
    assert "production/plan.json" in files and len(segments) == 5  # 122 changes, 25 a segment
    plan_path = Path(outputs["artifact-path"]) / "production/plan.json"
    found = read_any_plan(plan_path)
    assert isinstance(found, SegmentedPlan) and found.manifest.total_changes == TOTAL
    assert outputs["plan-digest"] == found.digest and outputs["has-changes"] == "true"

    body = _plan_comment(world)
    assert len(body) <= COMMENT_BUDGET
    assert "segmented plan" in body and f"{TOTAL} changes in 5 segments" in body
    assert "| `Shop` | standard | 121 | 0 | 0 | 0 | 0 | 0 |" in body  # counts per store
    assert "| `Config` | standard | 1 | 0 | 0 | 0 | 0 | 0 |" in body
    assert found.digest in body and found.manifest.change_set_digest in body
    assert "Config/global/motd" in body and BLURB.strip()[:40] in body  # first, with diffs
    shown = len(re.findall(r"^\+ \S", body, flags=re.MULTILINE))  # headlines, not diff lines
    assert 0 < shown < TOTAL  # the whole diff (~80,000 characters) does not fit
    assert f"… and {TOTAL - shown} more changes" in body
    assert f"gh run download {run_id} -n {outputs['artifact-name']} -D plan" in body
    assert "dsgit show plan/production/plan.json --page" in body
    assert world.statuses(head)[-1]["state"] == "pending"
    assert found.digest in world.last_summary  # the job summary is the same summary

    # A signed block for the manifest digest approves it, read back from the artifact.
    approval, (code, _, err, review_outputs) = _sign_in_a_comment(world, plan_path, capsys)
    assert approval.digest == found.digest
    assert code == EXIT_OK and review_outputs["approved"] == "true", err
    assert world.statuses(head)[-1]["state"] == "success"
    assert "dana" in _plan_comment(world) and "segmented plan" in _plan_comment(world)

    merged = _merge(world, head)
    event = push_payload(before=world.base, after=merged)
    code, _, err, applied = world.run(capsys, "apply", "push", event, *PROD, sha=merged)
    assert code == EXIT_OK, err
    assert applied["has-changes"] == "true" and applied["apply-id"]
    for n in (0, 57, ITEMS - 1):
        live = world.live("production", "Shop", f"item_{n:03d}")
        assert live is not None and live.value == {"price": n, "text": BLURB.strip()}
    [result] = [c for c in world.comments(7) if "dsgit:apply:production" in str(c["body"])]
    assert f"{TOTAL} written" in str(result["body"]) and found.digest in str(result["body"])


def test_an_edited_segment_in_the_artifact_is_refused_before_anything_is_written(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    head, outputs, files, run_id = _open_pull(world, capsys)
    _sign_in_a_comment(world, Path(outputs["artifact-path"]) / "production/plan.json", capsys)
    member = sorted(m for m in files if m.startswith("production/plan.json.segments/"))[-1]
    edited = dict(files)
    edited[member] = files[member].replace(b'"price":119', b'"price":1')
    assert edited[member] != files[member]
    world.gh.state.extra["artifacts"].clear()
    upload_artifact(world.gh, outputs["artifact-name"], edited, run_id=run_id, head_sha=head)
    merged = _merge(world, head)
    event = push_payload(before=world.base, after=merged)
    code, _, err, _ = world.run(capsys, "apply", "push", event, *PROD, sha=merged)
    assert code == EXIT_STALE and "does not match the plan" in err
    assert world.live("production", "Shop", "item_000") is None  # nothing at all was written

    # A segment missing from the artifact is refused the same way.
    del edited[member]
    world.gh.state.extra["artifacts"].clear()
    upload_artifact(world.gh, outputs["artifact-name"], edited, run_id=run_id, head_sha=head)
    code, _, err, _ = world.run(capsys, "apply", "push", event, *PROD, sha=merged)
    assert code != EXIT_OK and "missing" in err
    assert world.live("production", "Shop", "item_000") is None
