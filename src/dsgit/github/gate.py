"""The approvals verdict the Action needs, behind one small interface (DESIGN.md §5, §10).

:class:`ApprovalGate` answers, for one plan and its pull request, whether the plan's approvals
are satisfied, with a table of rules for the comment. The full policy (``policies/approvals.yaml``:
rules, groups, signatures, expiry) is evaluated by the approvals package; until it is wired in,
:class:`ReviewGate` applies DESIGN.md's floor for protected environments: at least one approval,
here a GitHub review that counts (the reviewer's latest non-comment review is ``APPROVED``, on
the plan's head commit, submitted after the plan was made, by a non-bot with write permission
who is neither the pull request's author nor a commit author). When GitHub cannot be asked,
nothing counts (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from dsgit.config import Environment
from dsgit.errors import GitHubError, PolicyRefused
from dsgit.github.client import GitHubClient, PullRequest, Review
from dsgit.plan.model import Plan, parse_time

__all__ = ["ApprovalGate", "ApprovalVerdict", "ReviewGate", "RuleRow", "as_apply_check"]


@dataclass(frozen=True)
class RuleRow:
    """One rule of the verdict: its name, who approved, what is still needed ('' when met)."""

    rule: str
    approved_by: tuple[str, ...]
    missing: str


@dataclass(frozen=True)
class ApprovalVerdict:
    """Whether apply may run, and why (rows for the comment and the refusal message)."""

    satisfied: bool
    rows: tuple[RuleRow, ...]
    note: str = ""

    def refusal(self, plan: Plan) -> str:
        unmet = [f"{row.rule}: {row.missing}" for row in self.rows if row.missing]
        detail = "; ".join(unmet) or self.note or "approvals are not satisfied"
        return f"plan {plan.digest[:19]}… for {plan.environment!r} is not approved: {detail}"


class ApprovalGate(Protocol):
    """Evaluates a plan's approvals for the pull request it came from."""

    def verdict(
        self, plan: Plan, env: Environment, pull: PullRequest, signatures: Sequence[str]
    ) -> ApprovalVerdict:
        """``signatures`` are signed approval blocks pasted into the pull request's comments."""
        ...


def as_apply_check(
    gate: ApprovalGate, pull: PullRequest, signatures: Sequence[str]
) -> Callable[[Plan, Environment], None]:
    """The gate as apply's approval check: raises ``PolicyRefused`` (exit 3) when unmet."""

    def check(plan: Plan, env: Environment) -> None:
        found = gate.verdict(plan, env, pull, signatures)
        if not found.satisfied:
            raise PolicyRefused(found.refusal(plan))

    return check


def _latest_decisions(reviews: Sequence[Review]) -> dict[str, Review]:
    latest: dict[str, Review] = {}
    for review in sorted(reviews, key=lambda r: (r.submitted_at is None, r.submitted_at, r.id)):
        if review.user is None or review.state in ("COMMENTED", "PENDING"):
            continue
        latest[review.user.login] = review
    return latest


class ReviewGate:
    """Protected environments need one counting GitHub review; others need none."""

    def __init__(self, client: GitHubClient, *, min_approvals: int = 1) -> None:
        self.client = client
        self.min_approvals = min_approvals

    def verdict(
        self, plan: Plan, env: Environment, pull: PullRequest, signatures: Sequence[str]
    ) -> ApprovalVerdict:
        rule = f"{env.name} is protected: {self.min_approvals} approving review(s)"
        if not env.protected:
            return ApprovalVerdict(True, (), f"{env.name} is not protected: no approval needed")
        try:
            counted = self._counting(plan, pull)
        except GitHubError as exc:
            return ApprovalVerdict(
                False, (RuleRow(rule, (), "GitHub could not be asked"),), f"fail closed: {exc}"
            )
        missing = ""
        if len(counted) < self.min_approvals:
            missing = f"{self.min_approvals - len(counted)} more approving review(s)"
        note = ""
        if signatures:
            note = (
                f"{len(signatures)} signed approval block(s) found; they count once "
                "policies/approvals.yaml rules are evaluated"
            )
        return ApprovalVerdict(not missing, (RuleRow(rule, tuple(counted), missing),), note)

    def _counting(self, plan: Plan, pull: PullRequest) -> list[str]:
        made = parse_time(plan.created)
        authors = {pull.author.login} if pull.author is not None else set()
        for commit in self.client.list_pull_commits(pull.number):
            authors.update(
                login for login in (commit.author_login, commit.committer_login) if login
            )
        counted = []
        for login, review in sorted(
            _latest_decisions(self.client.list_reviews(pull.number)).items()
        ):
            if review.state != "APPROVED" or review.user is None or review.user.is_bot:
                continue
            if review.commit_id != pull.head_sha or login in authors:
                continue
            if review.submitted_at is None or review.submitted_at < made:
                continue
            try:
                writer = self.client.collaborator_permission(login).can_write
            except GitHubError as exc:
                if exc.status != 404:  # 404: not a collaborator, so no write permission
                    raise
                writer = False
            if writer:
                counted.append(login)
        return counted
