"""What must hold before an apply writes anything (DESIGN.md §6.1).

The digest was checked when the plan file was read (``plan_from_json``). Here: expiry, that the
environment and universe are the ones the plan was made for, that the declaration is still the
one the plan was made from, approvals, and that no diagnostic blocks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dsgit.apply.staleness import check_source_unchanged
from dsgit.config import Environment
from dsgit.errors import PolicyRefused, StalePlan
from dsgit.model.declaration import Declaration, SourceInfo
from dsgit.plan.model import Plan

__all__ = ["ApprovalCheck", "check_plan", "require_approvals"]

ApprovalCheck = Callable[[Plan, Environment], None]


def require_approvals(plan: Plan, env: Environment) -> None:
    """The approval rule until approvals exist: a protected environment always refuses."""
    if env.protected:
        raise PolicyRefused(
            f"environment {env.name!r} is protected: applying needs approvals of plan "
            f"{plan.digest[:19]}… made with `dsgit approve`"
        )


def check_plan(
    plan: Plan,
    env: Environment,
    *,
    requested_env: str | None,
    source: SourceInfo | None,
    now: datetime,
    approvals: ApprovalCheck = require_approvals,
    declaration: Declaration | None = None,
) -> None:
    """Raise ``StalePlan`` (exit 4) or ``PolicyRefused`` (exit 3) unless the plan may run.

    ``source`` is the declaration the plan must still match (None: the plan does not come from
    the declaration, e.g. a revert of pre-images, so there is nothing to compare);
    ``declaration`` is the declaration it came from, whose slice the plan's must still match.
    """
    if plan.expired(now):
        raise StalePlan(f"the plan expired at {plan.expires}; make a new plan")
    if requested_env is not None and requested_env != plan.environment:
        raise StalePlan(
            f"the plan was made for environment {plan.environment!r}, not {requested_env!r}"
        )
    if env.universe_id != plan.universe_id:
        raise StalePlan(
            f"the plan was made for universe {plan.universe_id}, but environment {env.name!r} "
            f"is universe {env.universe_id} in dsgit.yaml; make a new plan"
        )
    check_source_unchanged(plan, source, declaration)
    approvals(plan, env)
    blocking = plan.blocking
    if blocking:
        lines = "\n".join(
            f"  {diag.code} {diag.severity}: {diag.address or diag.store or 'plan'}: {diag.message}"
            for diag in blocking[:20]
        )
        more = f"\n  … and {len(blocking) - 20} more" if len(blocking) > 20 else ""
        raise PolicyRefused(
            f"the plan has {len(blocking)} blocking diagnostic(s); fix them or suppress the "
            f"destructive ones with a reason in the declaration, then plan again:\n{lines}{more}"
        )
