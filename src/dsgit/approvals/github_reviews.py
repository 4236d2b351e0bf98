"""GitHub pull-request reviews as approvals (DESIGN.md §5), read through the REST API.

A reviewer's approval is offered to :func:`dsgit.policy.evaluate` only when their latest
non-comment review is ``APPROVED``, on the plan's head commit, submitted after the plan was
made, by an account with write permission that is not a bot, not the pull request's author,
and not an author, committer or co-author of one of its commits. Reviews that fail a rule are
offered with the reason as a problem, so the verdict says why they do not count. Any API error
fails closed: no review counts, and the verdict says what failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsgit.approvals.authors import co_authors, noreply_login
from dsgit.errors import GitHubError
from dsgit.github.client import GitHubClient, PullCommit, Review
from dsgit.plan.model import Plan, parse_time
from dsgit.policy.model import Approval, ApprovalKind

__all__ = ["HEAD_COMMIT_KEY", "ReviewApprovals", "plan_head_commit", "review_approvals"]

# The pull request head a plan was made for (the Action records it; a merge checkout's
# HEAD is GitHub's merge commit, not what reviewers saw).
HEAD_COMMIT_KEY = "head_commit"
_NOT_FINAL = frozenset({"COMMENTED", "PENDING"})


@dataclass(frozen=True)
class ReviewApprovals:
    """What the reviews of one pull request give: candidate approvals (some with problems),
    the identities of its authors (who cannot approve by any means), and errors."""

    approvals: tuple[Approval, ...] = ()
    authors: frozenset[str] = frozenset()
    errors: tuple[str, ...] = field(default=())


def plan_head_commit(plan: Plan) -> str | None:
    return plan.context.get(HEAD_COMMIT_KEY) or plan.source.commit


def _authors(pull_author: str | None, commits: list[PullCommit]) -> tuple[set[str], set[str]]:
    """``(logins, identities)``: GitHub logins of the authors, and every name/email/login."""
    logins: set[str] = set()
    identities: set[str] = set()
    if pull_author:
        logins.add(pull_author.lower())
    for commit in commits:
        for login in (commit.author_login, commit.committer_login):
            if login:
                logins.add(login.lower())
        people = [
            (commit.author_name, commit.author_email),
            (commit.committer_name, commit.committer_email),
            *co_authors(commit.message),
        ]
        for name, email in people:
            if email:
                identities.add(email.lower())
                login = noreply_login(email)
                if login:
                    logins.add(login.lower())
            if name:
                identities.add(name.lower())
    return logins, identities | logins


def _latest_by_user(reviews: list[Review]) -> dict[str, tuple[Review, Review | None]]:
    """Per login: the latest non-comment review, and the latest APPROVED one."""
    latest: dict[str, Review] = {}
    approved: dict[str, Review] = {}
    ordered = sorted(
        (r for r in reviews if r.user is not None and r.state not in _NOT_FINAL),
        key=lambda r: (r.submitted_at is None, r.submitted_at, r.id),
    )
    for review in ordered:
        assert review.user is not None
        login = review.user.login.lower()
        latest[login] = review
        if review.state == "APPROVED":
            approved[login] = review
    return {login: (latest[login], approved.get(login)) for login in latest}


def review_approvals(
    client: GitHubClient, pull_number: int, plan: Plan, *, head_commit: str | None = None
) -> ReviewApprovals:
    """The approvals the reviews of pull request ``pull_number`` give ``plan``."""
    head = head_commit or plan_head_commit(plan)
    where = f"GitHub reviews of {client.repository}#{pull_number}"
    try:
        pull = client.get_pull(pull_number)
        commits = client.list_pull_commits(pull_number)
        reviews = client.list_reviews(pull_number)
        author = pull.author.login if pull.author is not None else None
        logins, identities = _authors(author, commits)
        created = parse_time(plan.created)
        approvals: list[Approval] = []
        for login, (latest, approved) in sorted(_latest_by_user(reviews).items()):
            if approved is None:
                continue  # never approved: not an approval at all
            user = approved.user
            assert user is not None and approved.submitted_at is not None
            problems: list[str] = []
            if latest is not approved:
                if latest.state == "DISMISSED":
                    problems.append("the approval was dismissed")
                else:
                    problems.append(f"a later review by {user.login} is {latest.state}")
            if head is None:
                problems.append("the plan names no commit to compare the review with")
            elif approved.commit_id != head:
                seen = (approved.commit_id or "a lost commit")[:12]
                problems.append(f"approved {seen}, not the plan's head commit {head[:12]}")
            if approved.submitted_at < created:
                problems.append("submitted before the plan was made")
            if user.is_bot:
                problems.append(f"{user.login} is a bot")
            if author is not None and login == author.lower():
                problems.append(f"{user.login} opened the pull request")
            elif login in logins:
                problems.append(f"{user.login} is an author or co-author of a commit in it")
            if not problems:
                try:
                    permission = client.collaborator_permission(user.login)
                except GitHubError as exc:
                    if exc.status != 404:
                        raise
                    problems.append(f"{user.login} is not a collaborator of {client.repository}")
                else:
                    if not permission.can_write:
                        problems.append(
                            f"{user.login} has {permission.permission} permission on "
                            f"{client.repository}, not write"
                        )
            approvals.append(
                Approval(
                    kind=ApprovalKind.GITHUB_REVIEW,
                    approver=user.login,
                    digest=plan.digest,
                    environment=plan.environment,
                    universe_id=plan.universe_id,
                    time=approved.submitted_at,
                    reference=f"github-review:{approved.id}",
                    origin=approved.html_url or f"{where} review {approved.id}",
                    problems=tuple(problems),
                )
            )
    except GitHubError as exc:
        return ReviewApprovals(errors=(f"{where} could not be read ({exc})",))
    return ReviewApprovals(tuple(approvals), frozenset(identities))
