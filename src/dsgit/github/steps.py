"""Steps the entry points share: plan an environment, apply a plan and commit its ledger
files to the audit branch, set the approval status, read a plan from its artifact."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dsgit.apply.result import ApplyResult
from dsgit.apply.run import ApplyDeps, apply_plan
from dsgit.approvals.stamp import stamp_plan
from dsgit.config import Environment
from dsgit.errors import StalePlan
from dsgit.github.artifacts import plan_member
from dsgit.github.audit_branch import (
    AuditCommit,
    commit_audit_files,
    snapshot_audit,
    sync_from_branch,
)
from dsgit.github.workspace import Workspace, status_context
from dsgit.model.declaration import Declaration
from dsgit.plan.io import plan_from_json
from dsgit.plan.model import Plan, PlanKind
from dsgit.planning.usecase import LedgerLookup, PlanRequest, make_plan
from dsgit.policy.verdict import Verdict

__all__ = [
    "AppliedPlan",
    "apply_with_audit",
    "plan_environment",
    "plan_from_artifact",
    "set_approval_status",
]


def plan_environment(
    ws: Workspace,
    env: Environment,
    declaration: Declaration,
    *,
    kind: PlanKind = PlanKind.PLAN,
    context: dict[str, str] | None = None,
) -> Plan:
    request = PlanRequest(env.name, env.universe_id, now=ws.clock())
    with ws.open_api(env) as api:
        plan = make_plan(
            declaration,
            api,
            request,
            ledger=LedgerLookup(ws.root),
            keyring=ws.keyring,
            kind=kind,
            context=context,
        )
    return stamp_plan(plan, ws.root)  # the approvals policy and authors it is judged by


@dataclass(frozen=True)
class AppliedPlan:
    """An apply's result and the audit-branch commit of its ledger files."""

    result: ApplyResult
    audit: AuditCommit


def apply_with_audit(
    ws: Workspace,
    env: Environment,
    plan: Plan,
    declaration: Declaration | None,
    approvals: Callable[[Plan, Environment], Verdict],
    *,
    what: str,
) -> AppliedPlan:
    """Apply ``plan`` (every check of ``dsgit apply`` runs first) and commit what it added under
    ``audit/`` to the audit branch, even when the apply stopped part way. The checkout's
    ``audit/`` is first brought up to the audit branch, where earlier applies' records are."""
    sync_from_branch(ws.client, ws.audit_branch, ws.root)
    before = snapshot_audit(ws.root)
    try:
        with ws.open_api(env) as api:
            deps = ApplyDeps(
                root=ws.root,
                env=env,
                api=api,
                declaration=declaration,
                keyring=ws.keyring,
                signer=ws.signer,
                actor=ws.ctx.actor,
                approvals=approvals,
                clock=ws.clock,
            )
            result = apply_plan(plan, deps, requested_env=env.name)
    finally:
        after = snapshot_audit(ws.root)
        if after != before:
            message = f"dsgit: {what} ({env.name}, plan {plan.digest[7:19]})"
            audit = commit_audit_files(ws.client, ws.audit_branch, before, after, message)
    if after == before:
        audit = AuditCommit(ws.audit_branch, None, (), 0)
    return AppliedPlan(result, audit)


def set_approval_status(
    ws: Workspace, sha: str, env: str, plan: Plan | None, verdict: Verdict | None
) -> str:
    """The ``dsgit/approval/<env>`` status of ``sha``; returns the state set."""
    if plan is None:
        state, text = "failure", "not planned: see the pull request comment"
    elif plan.blocking:
        state, text = "failure", f"{len(plan.blocking)} blocking diagnostic(s)"
    elif not plan.has_changes:
        state, text = "success", "no changes"
    elif verdict is not None and verdict.satisfied:
        state, text = "success", "approved" if verdict.required else "no approval needed"
    else:
        state, text = "pending", "waiting for approvals"
    ws.client.create_status(sha, state, status_context(env), text[:140], ws.ctx.run_url)
    return state


def plan_from_artifact(ws: Workspace, env: str, head_sha: str) -> Plan:
    """The reviewed plan of ``env`` for the pull request's head: its artifact's origin checked,
    its bytes digest-checked, made for this environment from exactly that commit."""
    fetched = ws.artifacts.fetch(env, head_sha)
    member = plan_member(env)
    data = fetched.files.get(member)
    if data is None:
        raise StalePlan(f"plan artifact {fetched.name!r} holds no {member}")
    plan = plan_from_json(data, source=f"{fetched.name}/{member}")
    if plan.environment != env:
        raise StalePlan(
            f"plan artifact {fetched.name!r}: {member} was made for {plan.environment!r}"
        )
    if plan.source.commit != head_sha or plan.source.dirty:
        made = plan.source.commit[:12] if plan.source.commit else "no commit"
        dirty = " with uncommitted changes" if plan.source.dirty else ""
        raise StalePlan(
            f"plan artifact {fetched.name!r}: the plan was made from {made}{dirty}, not from "
            f"the pull request's head {head_sha[:12]}"
        )
    return plan
