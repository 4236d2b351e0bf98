"""``dsgit github pr|review|apply|drift``: the GitHub Action's entry points (docs/github-action.md).

Each reads the event and GitHub's standard variables (``GITHUB_EVENT_PATH``, ``GITHUB_*``) and
the token from ``GITHUB_TOKEN``, does its work through the GitHub REST API, writes its outputs
to ``GITHUB_OUTPUT`` and its report to ``GITHUB_STEP_SUMMARY``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from dsgit.cli.context import AppContext, pass_app
from dsgit.github.workspace import ActionOutcome, Workspace

__all__ = ["COMMANDS", "github_group"]


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    names: list[str] = []
    for value in values:
        names.extend(part for part in re.split(r"[\s,]+", value) if part)
    return tuple(dict.fromkeys(names))


def _workspace(
    app: AppContext,
    bot_login: str | None,
    audit_branch: str,
    plan_workflow: str | None,
    segment_size: int | None = None,
) -> Workspace:
    from dsgit.crypto import load_keyring
    from dsgit.github.artifacts import ActionsArtifacts
    from dsgit.github.client import GitHubClient
    from dsgit.github.event import ActionContext
    from dsgit.github.gate import PolicyGate
    from dsgit.ledger.signing import load_signer
    from dsgit.remote.connect import open_client

    ctx = ActionContext.from_environ(os.environ, bot_login=bot_login)
    client = GitHubClient(ctx.repository, base_url=ctx.api_url)
    artifacts = ActionsArtifacts(
        client,
        ctx.temp / "dsgit-artifacts",
        repository_id=ctx.repository_id,
        workflow_path=plan_workflow or ctx.workflow_path,
    )
    from dsgit.plan.segments import DEFAULT_SEGMENT_SIZE

    clock = lambda: datetime.now(UTC)  # noqa: E731
    return Workspace(
        root=app.root,
        config=app.config,
        ctx=ctx,
        client=client,
        artifacts=artifacts,
        gate=PolicyGate(app.root, client, clock),
        open_api=open_client,
        clock=clock,
        keyring=load_keyring(app.root),
        signer=load_signer(),
        audit_branch=audit_branch,
        echo=click.echo,
        segment_size=segment_size or DEFAULT_SEGMENT_SIZE,
    )


def _common(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--environments",
            "environments",
            multiple=True,
            metavar="NAMES",
            help="Environments to work on, comma- or space-separated, repeatable (default: "
            "default_environment).",
        ),
        click.option(
            "--bot-login",
            default=None,
            metavar="LOGIN",
            help="Who the token comments as: github-actions[bot] for GITHUB_TOKEN (default, or "
            "$DSGIT_BOT_LOGIN), `<app-slug>[bot]` for a GitHub App token.",
        ),
        click.option(
            "--audit-branch",
            default="dsgit/audit",
            show_default=True,
            metavar="BRANCH",
            help="Branch the ledger files of applies are committed to.",
        ),
        click.option(
            "--plan-workflow",
            default=None,
            metavar="PATH",
            help="Workflow file whose runs' plan artifacts are trusted (default: the running "
            "workflow, from GITHUB_WORKFLOW_REF), e.g. .github/workflows/dsgit-plan.yml.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _finish(ws: Workspace, outcome: ActionOutcome) -> None:
    from dsgit.github.outputs import write_outputs

    write_outputs(ws.ctx.output, outcome.outputs)
    for line in outcome.lines:
        click.echo(line, err=True)
    raise click.exceptions.Exit(outcome.exit_code)


@click.group("github", short_help="The GitHub Action's entry points (pr, review, apply, drift).")
def github_group() -> None:
    """The GitHub Action's entry points. Each reads the event payload (GITHUB_EVENT_PATH),
    GitHub's variables (GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_SHA, GITHUB_RUN_ID,
    GITHUB_STEP_SUMMARY, GITHUB_OUTPUT...) and the token in GITHUB_TOKEN, so it runs the same
    outside the Action. See docs/github-action.md."""


@github_group.command("pr", short_help="pull_request: validate, plan, comment, status, artifact.")
@_common
@click.option(
    "--segment-size",
    type=click.IntRange(1, 1_000_000),
    default=None,
    envvar="DSGIT_SEGMENT_SIZE",
    metavar="N",
    help="A plan of more changes than N goes into the artifact as a manifest and JSON Lines "
    "segments, and its comment is a summary (default 5000; env DSGIT_SEGMENT_SIZE).",
)
@pass_app
def pr_command(
    app: AppContext,
    environments: tuple[str, ...],
    bot_login: str | None,
    audit_branch: str,
    plan_workflow: str | None,
    segment_size: int | None,
) -> None:
    """On pull_request: validate (annotations on changed lines), plan each environment, keep
    one sticky comment per environment, set the dsgit/approval/<env> status, stage the plans
    for upload as the artifact dsgit-plan-<envs>-<head sha>, apply to preview environments;
    on close, reset preview environments. Forks get validation only.

    Exit codes: 0 planned (see the has-changes output), 1 error, validation failed or a plan
    with error diagnostics (live data not read completely), 3 a plan is blocked by its
    diagnostics."""
    from dsgit.github.pr import run_pr

    ws = _workspace(app, bot_login, audit_branch, plan_workflow, segment_size)
    _finish(ws, run_pr(ws, _split(environments)))


@github_group.command(
    "review", short_help="pull_request_review, /dsgit approve: re-check approvals."
)
@_common
@pass_app
def review_command(
    app: AppContext,
    environments: tuple[str, ...],
    bot_login: str | None,
    audit_branch: str,
    plan_workflow: str | None,
) -> None:
    """On pull_request_review or an issue_comment starting with `/dsgit approve`: re-check the
    approvals of each environment's reviewed plan (read from its artifact) and update the
    comment and the dsgit/approval/<env> status. Exit 0 (see the approved output), 1 error."""
    from dsgit.github.review import run_review

    ws = _workspace(app, bot_login, audit_branch, plan_workflow)
    _finish(ws, run_review(ws, _split(environments)))


@github_group.command("apply", short_help="push to the default branch: apply the merged plan.")
@_common
@pass_app
def apply_command(
    app: AppContext,
    environments: tuple[str, ...],
    bot_login: str | None,
    audit_branch: str,
    plan_workflow: str | None,
) -> None:
    """On push to the default branch: find the merged pull request, fetch and verify its plan
    artifact for the merged head, apply it (every check of `dsgit apply`), commit the ledger
    files to the audit branch and comment the result.

    Exit codes as `dsgit apply`: 0 applied, 1 error, 3 refused by policy (approvals), 4 stale
    or untrusted plan, 5 conflicts, 6 partial."""
    from dsgit.github.merge import run_apply

    ws = _workspace(app, bot_login, audit_branch, plan_workflow)
    _finish(ws, run_apply(ws, _split(environments)))


@github_group.command("drift", short_help="schedule: one drift issue per environment.")
@_common
@pass_app
def drift_command(
    app: AppContext,
    environments: tuple[str, ...],
    bot_login: str | None,
    audit_branch: str,
    plan_workflow: str | None,
) -> None:
    """On schedule: look for drift in each environment and open, update or close its issue
    (found by a hidden marker and the bot's login). Exit 0 (see the has-changes and drifted
    outputs), 1 when live state could not be read."""
    from dsgit.github.drift import run_drift

    ws = _workspace(app, bot_login, audit_branch, plan_workflow)
    _finish(ws, run_drift(ws, _split(environments)))


COMMANDS = [github_group]
