"""GitHub reviews as approvals, against the fake GitHub API served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from approval_builders import CREATED, NOW, Person, change, plan, policy_of
from dsgit.approvals.github_reviews import review_approvals
from dsgit.github.client import GitHubClient
from dsgit.plan.model import Action
from dsgit.policy import EvaluationContext, Reason, evaluate

from .fake_github import FakeGitHub, commit_json, pull_json, review_json

TOKEN = "test-token-not-secret"
HEAD = "a" * 40
OLD = "b" * 40
ALICE, BOB = Person("alice", "alice-gh", 1), Person("bob", "bobdev", 2)
CAROL = Person("carol", "carol-gh", 3)
POLICY = policy_of([ALICE, BOB, CAROL])
AFTER = CREATED + timedelta(minutes=10)


@pytest.fixture
def gh(fake_github: FakeGitHub) -> Iterator[FakeGitHub]:
    fake_github.add_pull(pull_json(1, author="dana", head_sha=HEAD))
    fake_github.add_commit(1, commit_json(HEAD, author_login="dana"))
    for login in ("alice-gh", "bobdev", "carol-gh"):
        fake_github.set_permission(login, "write")
    yield fake_github


def client(gh: FakeGitHub, timeout: float = 5.0) -> GitHubClient:
    return GitHubClient("octo/game", token=TOKEN, base_url=gh.url, timeout=timeout)


def target(destructive: bool = False):  # type: ignore[no-untyped-def]
    changes = (change("Shop/Old", Action.DELETE),) if destructive else (change("Shop/Sword"),)
    return plan(changes, policy_digest=POLICY.digest, commit=HEAD)


def verdict_of(gh: FakeGitHub, destructive: bool = False, timeout: float = 5.0):  # type: ignore[no-untyped-def]
    the_plan = target(destructive)
    with client(gh, timeout) as api:
        found = review_approvals(api, 1, the_plan)
    context = EvaluationContext(
        now=NOW,
        protected=True,
        authors=found.authors,
        plan_policy_digest=POLICY.digest,
        source_errors=found.errors,
    )
    return evaluate(the_plan, found.approvals, POLICY, context), found


def approve(
    gh: FakeGitHub,
    login: str,
    *,
    commit: str = HEAD,
    state: str = "APPROVED",
    when=AFTER,
    user_type: str = "User",
) -> None:  # type: ignore[no-untyped-def]
    gh.add_review(
        1, review_json(login, state, commit_id=commit, submitted_at=when, user_type=user_type)
    )


def details(verdict) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.detail for r in verdict.rejected]


def test_an_approving_review_on_the_head_commit_counts(gh: FakeGitHub) -> None:
    approve(gh, "alice-gh")
    verdict, _ = verdict_of(gh)
    assert verdict.satisfied
    (counted,) = verdict.relied_on()
    assert counted.approver == "alice" and counted.approval.reference.startswith("github-review:")


def test_stale_commit_does_not_count(gh: FakeGitHub) -> None:
    approve(gh, "alice-gh", commit=OLD)
    verdict, _ = verdict_of(gh)
    assert not verdict.satisfied
    assert "not the plan's head commit" in details(verdict)[0]


def test_review_before_the_plan_does_not_count(gh: FakeGitHub) -> None:
    approve(gh, "alice-gh", when=CREATED - timedelta(minutes=5))
    verdict, _ = verdict_of(gh)
    assert not verdict.satisfied and "before the plan" in details(verdict)[0]


def test_the_pull_request_author_cannot_approve(gh: FakeGitHub) -> None:
    gh.add_pull(pull_json(1, author="alice-gh", head_sha=HEAD))
    approve(gh, "alice-gh")
    verdict, _ = verdict_of(gh)
    assert not verdict.satisfied and "opened the pull request" in details(verdict)[0]


def test_a_co_author_cannot_approve(gh: FakeGitHub) -> None:
    message = "Tune prices\n\nCo-authored-by: Alice <123+alice-gh@users.noreply.github.com>"
    gh.add_commit(1, commit_json("c" * 40, author_login="dana", message=message))
    approve(gh, "alice-gh")
    verdict, _ = verdict_of(gh)
    assert not verdict.satisfied and "co-author" in details(verdict)[0]


def test_a_commit_author_cannot_approve(gh: FakeGitHub) -> None:
    gh.add_commit(1, commit_json("c" * 40, author_login="bobdev"))
    approve(gh, "bobdev")
    verdict, _ = verdict_of(gh)
    assert not verdict.satisfied and "author or co-author" in details(verdict)[0]


def test_a_bot_cannot_approve(gh: FakeGitHub) -> None:
    approve(gh, "alice-gh", user_type="Bot")
    verdict, _ = verdict_of(gh)
    assert not verdict.satisfied and "is a bot" in details(verdict)[0]


def test_a_read_only_reviewer_does_not_count(gh: FakeGitHub) -> None:
    gh.set_permission("alice-gh", "read")
    approve(gh, "alice-gh")
    verdict, _ = verdict_of(gh)
    assert not verdict.satisfied and "read permission" in details(verdict)[0]


def test_a_reviewer_who_is_not_a_collaborator_does_not_count(gh: FakeGitHub) -> None:
    gh.state.permissions.pop(("octo/game", "alice-gh"))
    approve(gh, "alice-gh")
    approve(gh, "bobdev")
    verdict, _ = verdict_of(gh)
    assert verdict.satisfied  # bob counts; alice's 404 is her problem, not a failure
    assert "not a collaborator" in details(verdict)[0]


def test_a_dismissed_review_does_not_count(gh: FakeGitHub) -> None:
    approve(gh, "alice-gh")
    approve(gh, "alice-gh", state="DISMISSED", when=AFTER + timedelta(minutes=1))
    verdict, _ = verdict_of(gh)
    assert not verdict.satisfied and "dismissed" in details(verdict)[0]


def test_a_later_changes_requested_overrides_the_approval(gh: FakeGitHub) -> None:
    approve(gh, "alice-gh")
    approve(gh, "alice-gh", state="CHANGES_REQUESTED", when=AFTER + timedelta(minutes=1))
    approve(gh, "alice-gh", state="COMMENTED", when=AFTER + timedelta(minutes=2))
    verdict, _ = verdict_of(gh)
    assert not verdict.satisfied and "CHANGES_REQUESTED" in details(verdict)[0]


def test_a_later_comment_does_not_cancel_an_approval(gh: FakeGitHub) -> None:
    approve(gh, "alice-gh")
    approve(gh, "alice-gh", state="COMMENTED", when=AFTER + timedelta(minutes=2))
    verdict, _ = verdict_of(gh)
    assert verdict.satisfied


def test_reviewers_not_in_the_policy_do_not_count(gh: FakeGitHub) -> None:
    gh.set_permission("zed", "admin")
    approve(gh, "zed")
    verdict, _ = verdict_of(gh)
    assert not verdict.satisfied
    assert verdict.rejected[0].reason is Reason.NOT_APPROVER


def test_destructive_plans_need_two_different_reviewers(gh: FakeGitHub) -> None:
    approve(gh, "alice-gh")
    verdict, _ = verdict_of(gh, destructive=True)
    assert not verdict.satisfied
    approve(gh, "bobdev")
    verdict, _ = verdict_of(gh, destructive=True)
    assert verdict.satisfied and {c.approver for c in verdict.relied_on()} == {"alice", "bob"}


def test_reviews_are_read_over_every_page(gh: FakeGitHub) -> None:
    for number in range(130):
        approve(gh, f"user{number}", state="COMMENTED")
    approve(gh, "alice-gh")  # review 131: on the second page
    verdict, _ = verdict_of(gh)
    assert verdict.satisfied
    pages = [r for r in gh.requests if r.path.endswith("/reviews")]
    assert len(pages) == 2


@pytest.mark.parametrize(
    "path", ["/pulls/1", "/pulls/1/reviews", "/pulls/1/commits", "/permission"]
)
def test_an_api_error_fails_closed_with_the_reason(gh: FakeGitHub, path: str) -> None:
    approve(gh, "alice-gh")
    gh.fail(500, path=path)
    verdict, found = verdict_of(gh)
    assert found.approvals == () and not verdict.satisfied
    assert "HTTP 500" in verdict.notes[0] and "fail closed" in verdict.notes[0]
    assert TOKEN not in verdict.notes[0]


def test_a_timeout_fails_closed(gh: FakeGitHub) -> None:
    approve(gh, "alice-gh")
    gh.hang(path="/pulls/1/reviews")
    verdict, found = verdict_of(gh, timeout=0.3)
    assert found.approvals == () and not verdict.satisfied
    assert "timed out" in verdict.notes[0]
