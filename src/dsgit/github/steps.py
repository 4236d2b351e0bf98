"""Steps the entry points share: plan an environment, apply a plan and commit its ledger
files to the audit branch, set the approval status, read a plan from its artifact.

A plan is one document or a segmented plan (:class:`~dsgit.planfile.SegmentedPlan`: a manifest
and its JSON Lines segments, written when a plan has more than the workspace's segment size of
changes); :func:`review_of` is what approvals, statuses and counts read of either."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
from dsgit.plan.model import Action, Plan, PlanKind
from dsgit.plan.segments import Manifest
from dsgit.planfile import SegmentedPlan, read_plan_bytes, write_plan
from dsgit.planning.usecase import LedgerLookup, PlanRequest, make_plan
from dsgit.policy.verdict import Verdict

__all__ = [
    "AnyPlan",
    "AppliedPlan",
    "apply_with_audit",
    "has_changes",
    "plan_environment",
    "plan_from_artifact",
    "review_of",
    "set_approval_status",
    "stage_plan",
]

AnyPlan = Plan | SegmentedPlan


def review_of(plan: AnyPlan) -> Plan:
    """The plan as approvals and checks read it: a segmented plan's every change without its
    value (:meth:`SegmentedPlan.review`), under the manifest's digest."""
    return plan.review() if isinstance(plan, SegmentedPlan) else plan


def has_changes(plan: AnyPlan) -> bool:
    """True when applying ``plan`` would write anything (a manifest's summary says)."""
    if isinstance(plan, SegmentedPlan):
        summary = plan.header.summary
        return any(summary.get(action.value, 0) for action in Action if action is not Action.NOOP)
    return plan.has_changes


def stage_plan(folder: Path, env: str, plan: Plan, segment_size: int) -> AnyPlan:
    """Write ``env``'s plan into the artifact folder: ``<env>/plan.json``, and its
    ``plan.json.segments/`` when it has more than ``segment_size`` changes."""
    path = folder / plan_member(env)
    written = write_plan(path, plan, segment_size=segment_size)
    return SegmentedPlan(written, path) if isinstance(written, Manifest) else written


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
    plan: AnyPlan,
    declaration: Declaration | None,
    approvals: Callable[[Plan, Environment], Verdict],
    *,
    what: str,
) -> AppliedPlan:
    """Apply ``plan`` (every check of ``dsgit apply`` runs first) and commit what it added under
    ``audit/`` to the audit branch, even when the apply stopped part way. The checkout's
    ``audit/`` is first brought up to the audit branch, where earlier applies' records are.
    A segmented plan is applied as ``dsgit apply`` applies a manifest: one segment at a time."""
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
            if isinstance(plan, SegmentedPlan):
                from dsgit.apply.stream import apply_segmented

                result = apply_segmented(plan, deps, requested_env=env.name)
            else:
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


def _extracted(ws: Workspace, name: str, run_id: int, env: str, files: dict[str, bytes]) -> Path:
    """Write the artifact's files of ``env`` (its plan and segments) to a fresh folder under
    the runner's temp; returns the plan's path there."""
    folder = ws.ctx.temp / "dsgit-fetched" / f"{name}-{run_id}"
    shutil.rmtree(folder, ignore_errors=True)
    prefix = plan_member(env).rsplit("/", 1)[0] + "/"
    for member, data in files.items():
        if member.startswith(prefix):
            target = folder / member
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return folder / plan_member(env)


def plan_from_artifact(ws: Workspace, env: str, head_sha: str) -> AnyPlan:
    """The reviewed plan of ``env`` for the pull request's head: its artifact's origin checked,
    its bytes digest-checked (a segmented plan's every segment too), made for this environment
    from exactly that commit."""
    fetched = ws.artifacts.fetch(env, head_sha)
    member = plan_member(env)
    if member not in fetched.files:
        raise StalePlan(f"plan artifact {fetched.name!r} holds no {member}")
    path = _extracted(ws, fetched.name, fetched.run_id, env, dict(fetched.files))
    found = read_plan_bytes(fetched.files[member], path)
    if isinstance(found, SegmentedPlan):
        found.verify()  # every segment against the digest its manifest names
    plan = found.header if isinstance(found, SegmentedPlan) else found
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
    return found
