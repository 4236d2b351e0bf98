"""Plans record the approvals policy they were made under and who made them."""

from __future__ import annotations

from pathlib import Path

from approval_builders import plan
from dsgit.approvals.authors import co_authors, noreply_login
from dsgit.approvals.stamp import plan_authors, plan_policy_digest, stamp_plan
from dsgit.plan.io import plan_from_json, plan_to_json
from dsgit.policy.model import NO_POLICY_DIGEST
from support import run_git, write_files


def test_stamp_records_the_policy_digest_and_authors_under_the_digest(tmp_path: Path) -> None:
    root = write_files(
        tmp_path / "repo",
        {
            "policies/approvals.yaml": "version: 1\napprovers:\n  - name: alice\n    github: al\n",
        },
    )
    run_git(root, "init", "-q")
    run_git(root, "add", "-A")
    run_git(
        root, "commit", "-q", "-m", "x\n\nCo-authored-by: Eve <9+eve-gh@users.noreply.github.com>"
    )
    commit = run_git(root, "rev-parse", "HEAD")
    stamped = stamp_plan(plan(commit=commit), root)
    assert plan_policy_digest(stamped) not in (None, NO_POLICY_DIGEST)
    authors = plan_authors(stamped)
    assert {"tests@example.invalid", "eve-gh", "eve"} <= authors
    again = plan_from_json(plan_to_json(stamped), source="p.json")  # the digest still holds
    assert again.digest == stamped.digest and stamp_plan(again, root) is again


def test_no_policy_file_is_recorded_as_none(tmp_path: Path) -> None:
    stamped = stamp_plan(plan(), tmp_path)
    assert plan_policy_digest(stamped) == NO_POLICY_DIGEST


def test_co_author_trailers_and_noreply_logins() -> None:
    message = (
        "Fix\n\nCo-authored-by: A B <a@x.example>\n"
        "co-authored-by: C <12+cc@users.noreply.github.com>"
    )
    assert co_authors(message) == [("A B", "a@x.example"), ("C", "12+cc@users.noreply.github.com")]
    assert noreply_login("cc@users.noreply.github.com") == "cc"
    assert noreply_login("cc@example.com") is None
