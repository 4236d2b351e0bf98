"""``dsgit github pr``: a pull request was opened, updated or closed (DESIGN.md §10).

Opened / synchronize / reopened: validate (annotations on the changed lines only), plan each
environment from the pull request's head commit, keep one sticky comment per environment, set
the ``dsgit/approval/<env>`` status, stage the plans as the artifact the merge will apply, and
apply the plan at once to ``preview: true`` environments. A pull request from a fork gets
validation only (its token cannot write, and its plan must not be trusted).

Closed: every ``preview: true`` environment is reset to the base branch's declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dsgit.apply.checks import require_approvals
from dsgit.approvals.github_reviews import HEAD_COMMIT_KEY
from dsgit.errors import EXIT_ERROR, EXIT_OK, EXIT_POLICY, ConfigError, DsgitError
from dsgit.github.annotations import annotate, changed_lines
from dsgit.github.artifacts import artifact_name, plan_member
from dsgit.github.client import PullRequest
from dsgit.github.comment import CommentLinks, plan_comment, render_validation_only
from dsgit.github.event import PullEvent
from dsgit.github.gate import as_apply_check
from dsgit.github.outputs import append_summary
from dsgit.github.signatures import collect_signature_blocks
from dsgit.github.steps import (
    AnyPlan,
    apply_with_audit,
    plan_environment,
    review_of,
    set_approval_status,
    stage_plan,
)
from dsgit.github.sticky import marker, upsert_sticky
from dsgit.github.workspace import ActionOutcome, Workspace
from dsgit.ledger.records import ChangeOutcome
from dsgit.model.declaration import Declaration
from dsgit.plan.model import Plan, PlanKind, Severity
from dsgit.planfile import SegmentedPlan
from dsgit.render.markdown import render_markdown
from dsgit.repo import load_declaration, load_declaration_at, validate_repository
from dsgit.repo.git_state import worktree_state

__all__ = ["PR_ACTIONS", "run_pr"]

PR_ACTIONS = ("opened", "synchronize", "reopened", "ready_for_review", "edited")
_SUMMARY_LIMIT = 200_000  # of the job summary's 1 MiB, per environment


@dataclass(frozen=True)
class _Planned:
    env: str
    plan: Plan
    line: str


def _prefix(ws: Workspace) -> str:
    """The dsgit root inside the git repository, as pull-request file paths start."""
    top = ws.root
    while not (top / ".git").exists() and top.parent != top:
        top = top.parent
    relative = ws.root.relative_to(top).as_posix()
    return "" if relative == "." else relative


def _validate(ws: Workspace, pull: PullEvent) -> tuple[bool, str]:
    reading = validate_repository(ws.root, keyring=ws.keyring)
    files = ws.client.list_pull_files(pull.number)
    changed = changed_lines({f.filename: f.patch for f in files if f.status != "removed"})
    found = annotate(reading.problems, changed, _prefix(ws))
    if found.commands:
        ws.echo(found.commands)
    append_summary(ws.ctx.step_summary, found.summary)
    return not reading.errors, f"validate: {len(reading.problems)} problem(s), " + (
        f"{found.shown} annotated on changed lines"
    )


def run_pr(ws: Workspace, environments: tuple[str, ...]) -> ActionOutcome:
    pull = ws.ctx.pull()
    if pull is None:
        raise ConfigError(
            f"`dsgit github pr` needs a pull_request event, not {ws.ctx.event_name!r}"
        )
    if pull.action == "closed":
        return _reset_previews(ws, pull)
    if pull.action not in PR_ACTIONS:
        return ActionOutcome(EXIT_OK, {}, (f"nothing to do on pull_request {pull.action!r}",))
    commit, dirty = worktree_state(ws.root)
    if commit != pull.head_sha or dirty:
        raise ConfigError(
            f"the checkout is at {str(commit)[:12]}{' (dirty)' if dirty else ''}, not the pull "
            f"request's head {pull.head_sha[:12]}: check out `github.event.pull_request.head.sha` "
            "(actions/checkout with `ref:`), so annotations and plans name the commit reviewers see"
        )
    valid, line = _validate(ws, pull)
    lines = [line]
    if pull.from_fork(ws.ctx.repository):
        append_summary(
            ws.ctx.step_summary,
            "### dsgit plan\n\nThis pull request comes from a fork: validation only (no plan, "
            "no comment, no artifact).\n",
        )
        lines.append("fork: validation only")
        return ActionOutcome(
            EXIT_OK if valid else EXIT_ERROR, {"has-changes": "false"}, tuple(lines)
        )
    envs = ws.environments(environments)
    if not valid:
        for env in envs:
            body = render_validation_only(env.name, "Validation failed: see the annotations.")
            upsert_sticky(
                ws.client, pull.number, marker("plan", env.name), body, bot_login=ws.ctx.bot_login
            )
            set_approval_status(ws, pull.head_sha, env.name, None, None)
        return ActionOutcome(EXIT_ERROR, {"has-changes": "false"}, (*lines, "validation failed"))
    declaration = load_declaration(ws.root)
    name = artifact_name(tuple(env.name for env in envs), pull.head_sha)
    # Judge reviews against the head this run planned, even if another push came meanwhile.
    details = replace(ws.client.get_pull(pull.number), head_sha=pull.head_sha)
    signatures = collect_signature_blocks(ws.client, pull.number, ws.ctx.bot_login)
    planned: list[_Planned] = []
    folder = ws.artifacts.folder(name)
    for env in envs:
        made = plan_environment(ws, env, declaration, context={HEAD_COMMIT_KEY: pull.head_sha})
        # Written into the artifact's folder: one document, or a manifest and its segments.
        staged = stage_plan(folder, env.name, made, ws.segment_size)
        plan = review_of(staged)  # what approvals and statuses read (the manifest's digest)
        verdict = ws.gate.verdict(plan, env, details, signatures)
        preview_note = ""
        if env.preview and plan.has_changes and not plan.blocking:
            preview_note = _apply_preview(ws, env.name, staged, declaration, details, signatures)
        links = CommentLinks(
            pull.head_sha, ws.ctx.run_url, ws.ctx.run_id, name, plan_member(env.name)
        )
        body = plan_comment(staged, plan, links, verdict, next_step=preview_note or None)
        sticky = upsert_sticky(
            ws.client, pull.number, marker("plan", env.name), body, bot_login=ws.ctx.bot_login
        )
        state = set_approval_status(ws, pull.head_sha, env.name, plan, verdict)
        summary = (
            body
            if isinstance(staged, SegmentedPlan)
            else render_markdown(plan, limit=_SUMMARY_LIMIT)
        )
        append_summary(ws.ctx.step_summary, summary)
        planned.append(
            _Planned(
                env.name, plan, f"{env.name}: {plan.digest} comment {sticky.action}, status {state}"
            )
        )
    has_changes = any(p.plan.has_changes for p in planned)
    failed = any(d.severity is Severity.ERROR for p in planned for d in p.plan.all_diagnostics)
    blocked = any(p.plan.blocking for p in planned)
    outputs = {
        "has-changes": "true" if has_changes else "false",
        "plan-digest": planned[0].plan.digest if len(planned) == 1 else "",
        "plan-digests": " ".join(f"{p.env}={p.plan.digest}" for p in planned),
        "artifact-name": name,
        "artifact-path": str(folder),
    }
    # Changes found is the point of a plan job, not a failure: the step succeeds unless a plan
    # could not read everything (1) or is blocked (3); the `has-changes` output tells the rest.
    code = EXIT_ERROR if failed else (EXIT_POLICY if blocked else EXIT_OK)
    return ActionOutcome(code, outputs, (*lines, *(p.line for p in planned)))


def _apply_preview(
    ws: Workspace,
    env_name: str,
    plan: AnyPlan,
    declaration: object,
    details: object,
    signatures: list[str],
) -> str:

    assert isinstance(declaration, Declaration) and isinstance(details, PullRequest)
    env = ws.config.environment(env_name)
    try:
        applied = apply_with_audit(
            ws,
            env,
            plan,
            declaration,
            as_apply_check(ws.gate, details, signatures),
            what=f"preview of #{details.number}",
        )
    except DsgitError as exc:
        return f":x: **Preview** apply to `{env_name}` refused: {exc}"
    result = applied.result
    return (
        f":rocket: **Preview**: applied to `{env_name}` ({result.count(ChangeOutcome.WRITTEN)} "
        f"written, {result.count(ChangeOutcome.CONFLICT)} conflict(s)); apply id "
        f"`{result.apply_id}`. Closing this pull "
        "request resets the environment to the base branch."
    )


def _reset_previews(ws: Workspace, pull: PullEvent) -> ActionOutcome:
    previews = [env for env in ws.config.environments.values() if env.preview]
    if not previews:
        return ActionOutcome(EXIT_OK, {}, ("closed: no preview environment to reset",))
    if not pull.base_sha:
        raise ConfigError("the pull_request event names no base commit to reset previews to")
    declaration = load_declaration_at(ws.root, pull.base_sha)
    lines = []
    for env in previews:
        plan = plan_environment(
            ws, env, declaration, kind=PlanKind.ROLLBACK, context={"to_commit": pull.base_sha}
        )
        if not plan.has_changes:
            lines.append(f"{env.name}: already as the base branch declares")
            continue
        applied = apply_with_audit(
            ws,
            env,
            plan,
            declaration,
            require_approvals,
            what=f"preview reset after #{pull.number}",
        )
        lines.append(
            f"{env.name}: reset to {pull.base_sha[:12]} ({len(applied.result.written)} written)"
        )
        body = (
            f"### dsgit preview `{env.name}` reset\n\nThis pull request closed: `{env.name}` was "
            f"reset to the base branch ({pull.base_sha[:12]}), apply id "
            f"`{applied.result.apply_id}`.\n"
        )
        upsert_sticky(
            ws.client, pull.number, marker("preview", env.name), body, bot_login=ws.ctx.bot_login
        )
    return ActionOutcome(EXIT_OK, {"has-changes": "true"}, tuple(lines))
