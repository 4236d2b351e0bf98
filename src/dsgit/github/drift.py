"""``dsgit github drift``: one issue per environment that drifted, kept up to date.

An environment's issue is found by its hidden marker (``<!-- dsgit:drift:<env> -->``) AND its
author being the bot, among open issues labelled ``dsgit-drift``; it is opened when drift
appears, updated in place while it lasts, and closed (with a comment) when it is gone.
"""

from __future__ import annotations

from dsgit.errors import EXIT_ERROR, EXIT_OK
from dsgit.github.client import Issue
from dsgit.github.outputs import append_summary
from dsgit.github.sticky import GITHUB_BODY_LIMIT, marker
from dsgit.github.workspace import ActionOutcome, Workspace
from dsgit.notify.events import Context
from dsgit.notify.hooks import drift_report_event
from dsgit.notify.ledger_note import notify
from dsgit.planning.usecase import PlanRequest, find_drift
from dsgit.render.drift import render_drift
from dsgit.repo import load_declaration

__all__ = ["DRIFT_LABEL", "run_drift"]

DRIFT_LABEL = "dsgit-drift"
_BUDGET = 60_000


def _find(ws: Workspace, tag: str) -> Issue | None:
    for issue in ws.client.list_issues(state="open", labels=DRIFT_LABEL):
        author = issue.user.login if issue.user is not None else None
        if author == ws.ctx.bot_login and issue.body.split("\n", 1)[0].strip() == tag:
            return issue
    return None


def _body(tag: str, env: str, report_markdown: str, run_url: str | None) -> str:
    head = f"{tag}\n### Drift in `{env}`\n\nLive data differs from the default branch.\n\n"
    tail = f"\n\nLast checked by [this run]({run_url})." if run_url else ""
    room = min(_BUDGET, GITHUB_BODY_LIMIT) - len(head) - len(tail) - 80
    text = report_markdown
    if len(text) > room:
        text = text[:room].rsplit("\n", 1)[0] + "\n\n… cut to fit GitHub's limit: run `dsgit drift`"
        if text.count("```") % 2:
            text += "\n```"
    return head + text + tail


def run_drift(ws: Workspace, environments: tuple[str, ...]) -> ActionOutcome:
    declaration = load_declaration(ws.root)
    lines: list[str] = []
    drifted: list[str] = []
    failed = False
    for env in ws.environments(environments):
        tag = marker("drift", env.name)
        with ws.open_api(env) as api:
            report = find_drift(
                declaration,
                api,
                PlanRequest(env.name, env.universe_id, now=ws.clock()),
                keyring=ws.keyring,
            )
        if report.errors:
            failed = True
            lines.append(f"{env.name}: live state could not be read completely; issue unchanged")
            continue
        existing = _find(ws, tag)
        markdown = render_drift(report, "markdown")
        append_summary(ws.ctx.step_summary, markdown)
        if report.items:
            drifted.append(env.name)
            body = _body(tag, env.name, markdown, ws.ctx.run_url)
            if existing is None:
                issue = ws.client.create_issue(
                    f"dsgit: drift in {env.name}", body, labels=(DRIFT_LABEL,)
                )
                lines.append(f"{env.name}: {len(report.items)} drifted, opened #{issue.number}")
            else:
                ws.client.update_issue(existing.number, body=body)
                lines.append(f"{env.name}: {len(report.items)} drifted, updated #{existing.number}")
            link = (issue if existing is None else existing).html_url or ws.ctx.run_url
            event = drift_report_event(report, Context(actor=ws.ctx.actor, link=link))
            if event is not None:
                notify(event, ws.config, ws.root, actor=ws.ctx.actor)
        elif existing is not None:
            ws.client.create_issue_comment(
                existing.number, "No drift any more: live data matches the default branch."
            )
            ws.client.update_issue(existing.number, state="closed")
            lines.append(f"{env.name}: no drift, closed #{existing.number}")
        else:
            lines.append(f"{env.name}: no drift")
    outputs = {"has-changes": "true" if drifted else "false", "drifted": " ".join(drifted)}
    # The issue is the report: a nightly job that fails every night while it is open is noise.
    code = EXIT_ERROR if failed else EXIT_OK
    return ActionOutcome(code, outputs, tuple(lines))
