"""What must hold before an apply writes anything (DESIGN.md §6.1), as one ordered list.

Each check is a pure function of :class:`CheckInput` — the plan, the declaration's source,
the environment, the approvals verdict and the user's flags — returning None or a
:class:`CheckFailure` with its :class:`~dsgit.apply.outcome.Outcome`. :data:`CHECKS` runs in
order and the first failure decides the exit code (through the one map in
:mod:`dsgit.apply.outcome`). The digest was checked when the plan file was read.

1. not expired (stale); 2. for the environment asked for (stale); 3. for the universe that
environment is (stale); 4. what the plan depends on in the declaration is unchanged (stale,
naming each file);
5. a plan made from uncommitted changes goes only to an emulator, or with ``--allow-dirty``,
and never to a protected environment (refused); 6. approvals satisfy the policy (refused,
naming each unmet rule); 7. no blocking diagnostic (refused).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from dsgit.apply.outcome import Outcome
from dsgit.apply.staleness import stale_inputs
from dsgit.config import Environment
from dsgit.errors import DsgitError, PolicyRefused, StalePlan
from dsgit.model.declaration import Declaration, SourceInfo
from dsgit.plan.model import Diagnostic, Plan, parse_time
from dsgit.policy.evaluate import evaluate
from dsgit.policy.model import EvaluationContext, Policy
from dsgit.policy.verdict import Verdict

__all__ = [
    "CHECKS",
    "ApprovalCheck",
    "Check",
    "CheckFailure",
    "CheckInput",
    "check_plan",
    "check_preflight",
    "first_failure",
    "is_remote",
    "raise_failure",
    "require_approvals",
]

ApprovalCheck = Callable[[Plan, Environment], Verdict]
"""Apply's approvals hook: the verdict on a plan's approvals for an environment."""


def require_approvals(plan: Plan, env: Environment) -> Verdict:
    """The verdict without any policy or approval: a protected environment refuses, others
    pass. ``dsgit apply`` replaces it with the repository's policy and approval sources."""
    context = EvaluationContext(now=parse_time(plan.created), protected=env.protected)
    return evaluate(plan, (), Policy(), context)


@dataclass(frozen=True)
class CheckInput:
    """Everything the checks look at. ``source`` is the declaration the plan must still match
    (None: the plan does not come from the declaration, e.g. a revert of pre-images);
    ``declaration`` the declaration itself."""

    plan: Plan
    source: SourceInfo | None
    env: Environment
    verdict: Verdict
    now: datetime
    requested_env: str | None = None
    allow_dirty: bool = False
    declaration: Declaration | None = None


@dataclass(frozen=True)
class CheckFailure:
    """Why the plan may not run, and which outcome (hence exit code) that is."""

    check: str
    outcome: Outcome
    message: str


Check = Callable[[CheckInput], CheckFailure | None]


def not_expired(given: CheckInput) -> CheckFailure | None:
    if given.plan.expired(given.now):
        return CheckFailure(
            "expiry", Outcome.STALE, f"the plan expired at {given.plan.expires}; make a new plan"
        )
    return None


def same_environment(given: CheckInput) -> CheckFailure | None:
    plan = given.plan
    if given.requested_env is not None and given.requested_env != plan.environment:
        return CheckFailure(
            "environment",
            Outcome.STALE,
            f"the plan was made for environment {plan.environment!r}, not {given.requested_env!r}",
        )
    return None


def same_universe(given: CheckInput) -> CheckFailure | None:
    plan, env = given.plan, given.env
    if env.universe_id != plan.universe_id:
        return CheckFailure(
            "universe",
            Outcome.STALE,
            f"the plan was made for universe {plan.universe_id}, but environment {env.name!r} "
            f"is universe {env.universe_id} in dsgit.yaml; make a new plan",
        )
    return None


def declaration_unchanged(given: CheckInput) -> CheckFailure | None:
    """Stale only when an input the plan depends on changed (its declaration slice)."""
    message = stale_inputs(given.plan, given.source, given.declaration)
    if message is not None:
        return CheckFailure("declaration", Outcome.STALE, message)
    return None


_LOCAL_SUFFIXES = (".test", ".localhost", ".invalid", ".example")


def is_remote(env: Environment) -> bool:
    """True unless the environment is an emulator: embedded, or served on a loopback address
    or a reserved test name (RFC 2606/6761), which cannot be Roblox's servers."""
    if env.is_embedded or env.url is None:
        return False
    host = (urlsplit(env.url).hostname or "").lower().rstrip(".")
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def clean_source(given: CheckInput) -> CheckFailure | None:
    """A plan made from uncommitted changes cannot be reviewed as a commit: it may go to an
    emulator, to a remote environment only with ``--allow-dirty``, and never to a protected
    one."""
    plan, env = given.plan, given.env
    if not plan.source.dirty:
        return None
    if env.protected:
        return CheckFailure(
            "dirty",
            Outcome.REFUSED,
            f"the plan was made from uncommitted changes; protected environment {env.name!r} "
            "never accepts such a plan (--allow-dirty does not apply): commit, plan again, "
            "and have that plan approved",
        )
    if is_remote(env) and not given.allow_dirty:
        return CheckFailure(
            "dirty",
            Outcome.REFUSED,
            f"the plan was made from uncommitted changes; applying it to remote environment "
            f"{env.name!r} needs --allow-dirty (or commit and plan again)",
        )
    return None


def approvals_satisfied(given: CheckInput) -> CheckFailure | None:
    verdict = given.verdict
    if verdict.satisfied:
        return None
    lines = "\n".join(f"  - {line}" for line in verdict.unmet())
    return CheckFailure(
        "approvals",
        Outcome.REFUSED,
        f"approvals of plan {given.plan.digest[:19]}… for {given.plan.environment!r} do not "
        f"satisfy the policy:\n{lines}\n(`dsgit approvals check PLAN` shows every approval "
        "and why it counts or not)",
    )


def no_blocking_diagnostics(given: CheckInput) -> CheckFailure | None:
    blocking = given.plan.blocking
    if not blocking:
        return None
    lines = "\n".join(f"  {diag.code} {diag.severity}: {_about(diag)}" for diag in blocking[:20])
    more = f"\n  … and {len(blocking) - 20} more" if len(blocking) > 20 else ""
    return CheckFailure(
        "diagnostics",
        Outcome.REFUSED,
        f"the plan has {len(blocking)} blocking diagnostic(s); fix them, or let a destructive "
        "one through with a reason (a suppression in the declaration, or `dsgit plan --allow "
        f"CODE=REASON`), then plan again:\n{lines}{more}",
    )


def _about(diag: Diagnostic) -> str:
    """The message, led by what it is about unless it already names that (most do)."""
    subject = diag.address or diag.store or "plan"
    return diag.message if diag.message.startswith(subject) else f"{subject}: {diag.message}"


CHECKS: tuple[Check, ...] = (
    not_expired,
    same_environment,
    same_universe,
    declaration_unchanged,
    clean_source,
    approvals_satisfied,
    no_blocking_diagnostics,
)


def first_failure(given: CheckInput, checks: tuple[Check, ...] = CHECKS) -> CheckFailure | None:
    for check in checks:
        failure = check(given)
        if failure is not None:
            return failure
    return None


def raise_failure(failure: CheckFailure) -> None:
    """The failure as the error the CLI reports (its exit code is the outcome's)."""
    match failure.outcome:
        case Outcome.STALE:
            raise StalePlan(failure.message)
        case Outcome.REFUSED:
            raise PolicyRefused(failure.message)
        case _:
            raise DsgitError(failure.message)


def check_plan(given: CheckInput) -> None:
    """Raise ``StalePlan`` (exit 4) or ``PolicyRefused`` (exit 3) unless the plan may run."""
    failure = first_failure(given)
    if failure is not None:
        raise_failure(failure)


PREFLIGHT: tuple[Check, ...] = (not_expired, same_environment, same_universe)
"""What can be checked before the environment's API key is needed."""


def check_preflight(
    plan: Plan, env: Environment, *, requested_env: str | None, now: datetime
) -> None:
    """The plan's expiry, environment and universe, before any key or connection is needed:
    a plan for another environment is refused before its API key is asked for (the full
    checks run again inside apply)."""
    given = CheckInput(
        plan=plan,
        source=None,
        env=env,
        verdict=require_approvals(plan, env),
        now=now,
        requested_env=requested_env,
    )
    failure = first_failure(given, PREFLIGHT)
    if failure is not None:
        raise_failure(failure)
