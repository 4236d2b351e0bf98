"""The approvals verdict the Action needs, behind one small interface (DESIGN.md §5, §10).

:class:`ApprovalGate` answers, for one plan and its pull request, the policy's
:class:`~dsgit.policy.verdict.Verdict`: when the plan is commented, on every review or
``/dsgit approve`` comment, and again right before apply writes anything. :class:`PolicyGate`
is the one the Action uses: ``policies/approvals.yaml`` evaluated by
:func:`dsgit.approvals.check.check_plan_approvals` (the same function ``dsgit approvals check``
and ``dsgit apply`` call) over the pull request's GitHub reviews and the signed approval blocks
pasted into its comments. When GitHub cannot be asked, nothing counts (fail closed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from dsgit.approvals.check import ApprovalSources, GitHubSource, check_plan_approvals
from dsgit.config import Environment
from dsgit.github.client import GitHubClient, PullRequest
from dsgit.plan.model import Plan
from dsgit.policy.verdict import Verdict

__all__ = ["ApprovalGate", "PolicyGate", "as_apply_check"]


class ApprovalGate(Protocol):
    """Evaluates a plan's approvals for the pull request it came from."""

    def verdict(
        self, plan: Plan, env: Environment, pull: PullRequest, signatures: Sequence[str]
    ) -> Verdict:
        """``signatures`` are the texts after ``/dsgit approve`` in the pull request's comments
        (each may hold signed approval blocks)."""
        ...


def as_apply_check(
    gate: ApprovalGate, pull: PullRequest, signatures: Sequence[str]
) -> Callable[[Plan, Environment], Verdict]:
    """The gate as apply's approvals hook (apply refuses, exit 3, on an unmet verdict)."""

    def check(plan: Plan, env: Environment) -> Verdict:
        return gate.verdict(plan, env, pull, signatures)

    return check


class PolicyGate:
    """``policies/approvals.yaml`` over GitHub reviews and pasted signature blocks."""

    def __init__(self, root: Path, client: GitHubClient, clock: Callable[[], datetime]) -> None:
        self.root = root
        self.client = client
        self.clock = clock

    def verdict(
        self, plan: Plan, env: Environment, pull: PullRequest, signatures: Sequence[str]
    ) -> Verdict:
        sources = ApprovalSources(
            github=GitHubSource(
                repository=self.client.repository,
                number=pull.number,
                head_commit=pull.head_sha,
                api_url=self.client.base_url,
            ),
            texts=tuple(
                (f"{self.client.repository}#{pull.number} comment", text) for text in signatures
            ),
        )
        return check_plan_approvals(plan, self.root, env, sources, now=self.clock())
