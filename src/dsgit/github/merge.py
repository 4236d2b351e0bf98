"""``dsgit github apply``: a push to the default branch applies the merged pull request's plan.

For each environment: find the pull request the pushed commit merged, fetch its plan artifact
for the merged head (made by this repository's expected workflow, at that head, not expired),
check the plan (digest, made from that head), then apply it, which checks again that the merge
commit's declaration slice still compiles to the planned values, that approvals pass and that
the plan has not expired. The ledger files it writes go to the audit branch; the result is
commented on the pull request. The workflow runs this under one concurrency group per
environment, so two merges never apply to one environment at once.
"""

from __future__ import annotations

from dsgit.errors import EXIT_OK, ConfigError, DsgitError
from dsgit.github.client import PullRequest
from dsgit.github.gate import as_apply_check
from dsgit.github.outputs import append_summary
from dsgit.github.signatures import collect_signature_blocks
from dsgit.github.steps import (
    AppliedPlan,
    apply_with_audit,
    has_changes,
    plan_from_artifact,
    review_of,
)
from dsgit.github.sticky import marker, upsert_sticky
from dsgit.github.workspace import ActionOutcome, Workspace
from dsgit.ledger.records import ChangeOutcome
from dsgit.notify.events import Context
from dsgit.notify.hooks import apply_error_event, apply_event
from dsgit.notify.ledger_note import notify
from dsgit.render.markdown import escape_cell
from dsgit.repo import load_declaration

__all__ = ["merged_pull", "run_apply"]


def _default_branch(ws: Workspace) -> str:
    repo = ws.ctx.event.get("repository") or {}
    branch = repo.get("default_branch") if isinstance(repo, dict) else None
    return str(branch or "main")


def merged_pull(ws: Workspace) -> PullRequest | None:
    """The pull request whose merge the pushed commit is (None: a direct push)."""
    candidates = [
        pull
        for pull in ws.client.pulls_for_commit(ws.ctx.sha)
        if pull.base_ref == _default_branch(ws) and pull.state == "closed"
    ]
    return candidates[0] if candidates else None


def _result_body(env: str, applied: AppliedPlan) -> str:
    result = applied.result
    audit = (
        f"ledger committed to `{applied.audit.branch}` ({applied.audit.commit[:12]})"
        if applied.audit.commit
        else "no ledger files to commit"
    )
    lines = [
        f"### dsgit apply `{escape_cell(env)}`: {result.status}",
        "",
        f"Plan `{result.plan_digest}` · apply id `{result.apply_id}`",
        # counts, not lists: a segmented apply keeps only its conflicts and pending changes
        f"{result.count(ChangeOutcome.WRITTEN)} written, "
        f"{result.count(ChangeOutcome.SKIPPED)} already as planned, "
        f"{result.count(ChangeOutcome.CONFLICT)} conflict(s), {result.count(None)} not applied"
        f" · {audit}",
    ]
    for change in result.conflicts[:20]:
        lines.append(f"- conflict: `{change.address}`: {escape_cell(change.message)}")
    if result.failure:
        lines.append(f"\n:x: {escape_cell(result.failure)}")
    return "\n".join(lines) + "\n"


def _context(ws: Workspace) -> Context:
    return Context(actor=ws.ctx.actor, link=ws.ctx.run_url)


def run_apply(ws: Workspace, environments: tuple[str, ...]) -> ActionOutcome:
    if ws.ctx.event_name != "push":
        raise ConfigError(f"`dsgit github apply` needs a push event, not {ws.ctx.event_name!r}")
    if ws.ctx.ref != f"refs/heads/{_default_branch(ws)}":
        return ActionOutcome(EXIT_OK, {}, (f"{ws.ctx.ref} is not the default branch: no apply",))
    pull = merged_pull(ws)
    if pull is None:
        append_summary(
            ws.ctx.step_summary,
            f"### dsgit apply\n\nCommit `{ws.ctx.sha}` merged no pull request: nothing reviewed "
            "to apply (changes pushed directly show up as drift).\n",
        )
        return ActionOutcome(EXIT_OK, {"has-changes": "false"}, ("no merged pull request",))
    declaration = load_declaration(ws.root)  # the merge commit, as checked out
    signatures = collect_signature_blocks(ws.client, pull.number, ws.ctx.bot_login)
    approvals = as_apply_check(ws.gate, pull, signatures)
    outputs: dict[str, str] = {"pull-request": str(pull.number)}
    lines: list[str] = []
    apply_ids: list[str] = []
    for env in ws.environments(environments):
        tag = marker("apply", env.name)
        plan = None
        try:
            found = plan_from_artifact(ws, env.name, pull.head_sha)
            if not has_changes(found):
                lines.append(f"{env.name}: the plan has no changes")
                continue
            plan = review_of(found)  # what notifications count (a segmented plan: no values)
            applied = apply_with_audit(
                ws, env, found, declaration, approvals, what=f"apply of #{pull.number}"
            )
        except DsgitError as exc:
            body = (
                f"### dsgit apply `{escape_cell(env.name)}`: refused\n\n"
                f"Nothing was written. {escape_cell(str(exc))}\n"
            )
            upsert_sticky(ws.client, pull.number, tag, body, bot_login=ws.ctx.bot_login)
            append_summary(ws.ctx.step_summary, body)
            notify(
                apply_error_event(env, exc, plan, _context(ws)),
                ws.config,
                ws.root,
                actor=ws.ctx.actor,
            )
            raise
        event = apply_event(plan, applied.result, _context(ws))
        if event is not None:
            notify(event, ws.config, ws.root, actor=ws.ctx.actor)
        body = _result_body(env.name, applied)
        upsert_sticky(ws.client, pull.number, tag, body, bot_login=ws.ctx.bot_login)
        append_summary(ws.ctx.step_summary, body)
        apply_ids.append(applied.result.apply_id)
        lines.append(f"{env.name}: {applied.result.status} ({applied.result.apply_id})")
        if applied.result.exit_code != EXIT_OK:
            outputs["apply-id"] = " ".join(apply_ids)
            return ActionOutcome(applied.result.exit_code, outputs, tuple(lines))
    outputs["apply-id"] = " ".join(apply_ids)
    outputs["has-changes"] = "true" if apply_ids else "false"
    return ActionOutcome(EXIT_OK, outputs, tuple(lines))
