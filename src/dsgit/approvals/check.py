"""The approvals use case: gather a plan's approvals from its sources and evaluate the policy.

``dsgit approvals check``, ``dsgit apply`` and the Action call :func:`check_plan_approvals`, so
they judge the same approvals with the same policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dsgit.approvals.document import approvals_in_text
from dsgit.approvals.files import approvals_dir, read_approvals
from dsgit.approvals.policy_file import load_policy
from dsgit.approvals.stamp import plan_authors, plan_policy_digest
from dsgit.config import Environment
from dsgit.plan.model import Plan
from dsgit.policy.evaluate import evaluate
from dsgit.policy.model import Approval, EvaluationContext
from dsgit.policy.verdict import Verdict

__all__ = ["ApprovalSources", "Gathered", "GitHubSource", "check_plan_approvals", "gather"]


@dataclass(frozen=True)
class GitHubSource:
    """Pull request ``number`` of ``repository`` (``owner/name``); token and API URL from the
    environment (``GITHUB_TOKEN``, ``GITHUB_API_URL``) unless given."""

    repository: str
    number: int
    head_commit: str | None = None
    token: str | None = None
    api_url: str | None = None
    timeout: float = 15.0


@dataclass(frozen=True)
class ApprovalSources:
    """Where approvals come from: the plan's own folder, ``--approvals`` paths, GitHub reviews,
    and ``texts``: ``(origin, text)`` pairs holding approval blocks (pull-request comments the
    Action collected)."""

    plan_file: Path | None = None
    paths: tuple[Path, ...] = ()
    github: GitHubSource | None = None
    texts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Gathered:
    approvals: tuple[Approval, ...]
    authors: frozenset[str]
    errors: tuple[str, ...]


def gather(plan: Plan, sources: ApprovalSources) -> Gathered:
    """Read every source; a source that fails contributes its error, never an approval."""
    paths = list(sources.paths)
    if sources.plan_file is not None:
        paths.insert(0, approvals_dir(sources.plan_file))
    found = read_approvals(paths)
    approvals = list(found.approvals)
    errors = list(found.problems)
    for origin, text in sources.texts:
        blocks, trouble = approvals_in_text(text, origin)
        approvals.extend(blocks)
        errors.extend(trouble)
    authors: frozenset[str] = frozenset()
    if sources.github is not None:
        from dsgit.approvals.github_reviews import review_approvals
        from dsgit.github.client import GitHubClient

        source = sources.github
        client = GitHubClient(
            source.repository,
            token=source.token,
            base_url=source.api_url,
            timeout=source.timeout,
        )
        with client:
            reviews = review_approvals(client, source.number, plan, head_commit=source.head_commit)
        approvals.extend(reviews.approvals)
        authors = reviews.authors
        errors.extend(reviews.errors)
    return Gathered(tuple(approvals), authors, tuple(errors))


def check_plan_approvals(
    plan: Plan,
    root: Path,
    env: Environment,
    sources: ApprovalSources,
    *,
    now: datetime,
    gather_from: Callable[[Plan, ApprovalSources], Gathered] = gather,
) -> Verdict:
    """The verdict on ``plan``'s approvals under the repository's policy."""
    policy = load_policy(root)
    gathered = gather_from(plan, sources)
    context = EvaluationContext(
        now=now,
        protected=env.protected,
        authors=plan_authors(plan) | gathered.authors,
        plan_policy_digest=plan_policy_digest(plan),
        source_errors=gathered.errors,
    )
    return evaluate(plan, gathered.approvals, policy, context)
