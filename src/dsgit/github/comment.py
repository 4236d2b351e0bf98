"""The body of a plan's sticky comment: summary, diagnostics, diff, digest, head, approvals.

Bodies stay under :data:`COMMENT_BUDGET` characters (GitHub refuses 65,536): the diff, kept
per store inside its collapsible ``<details>`` block, is what gets cut, with a note saying how
many changes are not shown; everything else (summary, digest, head commit, approvals) is kept.
"""

from __future__ import annotations

from dsgit.plan.model import Plan
from dsgit.policy.render import render_verdict
from dsgit.policy.verdict import Verdict
from dsgit.render.markdown import escape_cell, render_markdown

__all__ = ["COMMENT_BUDGET", "render_plan_comment", "render_validation_only"]

COMMENT_BUDGET = 60_000


def _approvals(verdict: Verdict | None) -> str:
    if verdict is None:
        return "**Approvals:** not checked.\n"
    return render_verdict(verdict, "markdown")


def render_plan_comment(
    plan: Plan,
    *,
    head_sha: str,
    verdict: Verdict | None,
    run_url: str | None = None,
    artifact: str | None = None,
    next_step: str | None = None,
    budget: int = COMMENT_BUDGET,
) -> str:
    """The comment for ``plan`` (made at ``head_sha``), at most ``budget`` characters;
    ``next_step`` replaces the closing line (what happens to the plan next)."""
    tail = [
        "",
        _approvals(verdict),
        f"Head commit: `{head_sha}`"
        + (f" · plan artifact `{escape_cell(artifact)}`" if artifact else "")
        + (f" · [workflow run]({run_url})" if run_url else ""),
        "",
        next_step
        or (
            f"Apply: merge this pull request; the Action applies exactly plan `{plan.digest}` "
            "once its approvals pass."
        ),
    ]
    footer = "\n".join(tail) + "\n"
    room = budget - len(footer) - 2
    body = render_markdown(plan, limit=room)
    return body.rstrip("\n") + "\n" + footer


def render_validation_only(env: str, reason: str) -> str:
    """What a pull request from a fork, or with validation errors, gets instead of a plan."""
    return f"### dsgit: `{escape_cell(env)}` not planned\n\n{escape_cell(reason)}\n"
