"""``dsgit github review``: a review was submitted, or ``/dsgit approve`` was commented.

Nothing is planned again (no Open Cloud access is needed): each environment's reviewed plan is
read back from the pull request's artifact for its head commit, its approvals are re-checked
through the gate, and the sticky comment and the ``dsgit/approval/<env>`` status are updated.
"""

from __future__ import annotations

from dsgit.errors import EXIT_OK, ConfigError, DsgitError
from dsgit.github.artifacts import artifact_name, plan_member
from dsgit.github.comment import CommentLinks, plan_comment, render_validation_only
from dsgit.github.signatures import collect_signature_blocks, is_approve_command
from dsgit.github.steps import plan_from_artifact, review_of, set_approval_status
from dsgit.github.sticky import marker, upsert_sticky
from dsgit.github.workspace import ActionOutcome, Workspace

__all__ = ["run_review"]


def _pull_number(ws: Workspace) -> int | None:
    match ws.ctx.event_name:
        case "pull_request_review":
            pull = ws.ctx.pull()
            return pull.number if pull is not None else None
        case "issue_comment":
            found = ws.ctx.comment_issue()
            comment = ws.ctx.event.get("comment") or {}
            body = str(comment.get("body") or "") if isinstance(comment, dict) else ""
            if found is None or not found[1] or not is_approve_command(body):
                return None  # not a pull request, or not an approval command
            return found[0]
        case _:
            raise ConfigError(
                "`dsgit github review` needs a pull_request_review or issue_comment event, not "
                f"{ws.ctx.event_name!r}"
            )


def run_review(ws: Workspace, environments: tuple[str, ...]) -> ActionOutcome:
    number = _pull_number(ws)
    if number is None:
        return ActionOutcome(EXIT_OK, {}, ("not an approval: nothing to do",))
    pull = ws.client.get_pull(number)
    if pull.state != "open":
        return ActionOutcome(EXIT_OK, {}, (f"#{number} is {pull.state}: nothing to do",))
    signatures = collect_signature_blocks(ws.client, number, ws.ctx.bot_login)
    envs = ws.environments(environments)
    name = artifact_name(tuple(env.name for env in envs), pull.head_sha)
    lines = []
    all_satisfied = True
    for env in envs:
        tag = marker("plan", env.name)
        try:
            found = plan_from_artifact(ws, env.name, pull.head_sha)
            plan = review_of(found)
        except DsgitError as exc:
            body = render_validation_only(env.name, f"No reviewed plan to approve: {exc}")
            upsert_sticky(ws.client, number, tag, body, bot_login=ws.ctx.bot_login)
            set_approval_status(ws, pull.head_sha, env.name, None, None)
            lines.append(f"{env.name}: {exc}")
            all_satisfied = False
            continue
        verdict = ws.gate.verdict(plan, env, pull, signatures)
        # The run that planned it, for the comment's download command: the artifact's run.
        links = CommentLinks(pull.head_sha, ws.ctx.run_url, None, name, plan_member(env.name))
        body = plan_comment(found, plan, links, verdict)
        upsert_sticky(ws.client, number, tag, body, bot_login=ws.ctx.bot_login)
        state = set_approval_status(ws, pull.head_sha, env.name, plan, verdict)
        all_satisfied = all_satisfied and state == "success"
        lines.append(f"{env.name}: approvals {'satisfied' if verdict.satisfied else 'not yet'}")
    outputs = {"approved": "true" if all_satisfied else "false"}
    # Unmet approvals are the normal state of a review in progress, not an error of this step.
    return ActionOutcome(EXIT_OK, outputs, tuple(lines))
