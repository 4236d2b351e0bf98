"""``dsgit keys generate``, ``dsgit approve PLAN`` and ``dsgit approvals check PLAN``
(docs/approvals.md)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from dsgit.cli.complete import complete_plan_files
from dsgit.cli.context import AppContext, format_option, pass_app
from dsgit.cli.plan_output import read_plan_file
from dsgit.errors import EXIT_OK, EXIT_POLICY, EXIT_STALE, ConfigError, StalePlan

__all__ = ["COMMANDS", "approvals_group", "approve_command", "github_options", "keys_group"]

F = TypeVar("F", bound=Callable[..., Any])


def _absolute(app: AppContext, path: Path) -> Path:
    return path if path.is_absolute() else app.cwd / path


@click.group(
    "keys",
    short_help="Make an approver's key pair.",
    help="Approver keys (Ed25519) for `dsgit approve`.",
)
def keys_group() -> None:
    pass


@keys_group.command(
    "generate",
    short_help="Make an approver key pair; print the public key line.",
    help="""Make an Ed25519 key pair for signing approvals.

The private key goes to ~/.config/dsgit/keys/NAME.key (or --out), mode 0600, never over an
existing file; keep it out of the repository. The public key line is printed on stdout: put it
in your approver entry in policies/approvals.yaml as `key: "ed25519:…"`.""",
)
@click.option("--name", required=True, metavar="NAME", help="Your approver name in the policy.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Private key file (default ~/.config/dsgit/keys/NAME.key).",
)
@pass_app
def generate_command(app: AppContext, name: str, out: Path | None) -> None:
    from dsgit.approvals.keys import generate_key_file

    path, public = generate_key_file(name, _absolute(app, out) if out is not None else None)
    click.echo(f"Wrote the private key to {path} (mode 0600; never commit it).", err=True)
    click.echo("Add this line to your entry in policies/approvals.yaml:", err=True)
    click.echo(f'    key: "{public}"', err=True)
    click.echo(public)


@click.command(
    "approve",
    short_help="Sign a saved plan with an approver's key.",
    help="""Sign a saved plan with your approver key.

The signature covers the plan's digest, environment and universe, your approver name and the
time, so it approves exactly this plan. Writes PLAN.approvals/<name>.json (or --out), where
`dsgit apply PLAN` and `dsgit approvals check PLAN` find it, and prints the approval as a text
block that can be pasted into a pull-request comment.

Your name is the approver in policies/approvals.yaml whose key matches FILE (--name when the
repository is not at hand).

\b
Exit codes: 0 signed, 1 error (unknown key, unreadable plan), 4 the plan is stale (edited or
expired).""",
)
@click.argument(
    "plan_file",
    metavar="PLAN",
    type=click.Path(dir_okay=False, path_type=Path),
    shell_complete=complete_plan_files,
)
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Your private key (from `dsgit keys generate`).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the approval here instead of PLAN.approvals/<name>.json.",
)
@click.option("--name", default=None, metavar="NAME", help="Approver name, without a policy.")
@format_option("text", "json")
@pass_app
def approve_command(
    app: AppContext,
    plan_file: Path,
    key_file: Path,
    out: Path | None,
    name: str | None,
    output_format: str,
) -> None:
    from dsgit.approvals.document import approval_to_json, approval_to_text, sign_plan
    from dsgit.approvals.files import approvals_dir, write_approval
    from dsgit.approvals.keys import check_name, load_key
    from dsgit.approvals.policy_file import load_policy
    from dsgit.config import find_root

    plan_file = _absolute(app, plan_file)
    plan = read_plan_file(plan_file)
    now = datetime.now(UTC)
    if plan.expired(now):
        raise StalePlan(f"the plan expired at {plan.expires}; approve a new plan")
    key = load_key(_absolute(app, key_file))
    person = None
    try:
        policy = load_policy(find_root(app.cwd))
    except ConfigError:
        if name is None:
            raise
        policy = None
    if policy is not None:
        person = policy.approver_by_key(key.public)
    if name is None:
        if person is None:
            raise ConfigError(
                "this key is not in policies/approvals.yaml; add its public key line "
                f'(key: "{key.public}") to your approver entry, or pass --name'
            )
        name = person.name
    elif person is not None and person.name != name:
        raise ConfigError(
            f"this key belongs to approver {person.name!r} in the policy, not {name!r}"
        )
    check_name(name)
    approval = sign_plan(plan, key, name, now)
    target = _absolute(app, out) if out is not None else approvals_dir(plan_file) / f"{name}.json"
    write_approval(target, approval)
    if output_format == "json":
        body = {**approval_to_json(approval), "file": str(target), "reference": approval.reference}
        click.echo(json.dumps(body, indent=2, sort_keys=True))
        return
    changes = sum(1 for change in plan.changes if not change.is_noop)
    click.echo(
        f"Approved plan {plan.digest[:19]}… ({changes} change(s), environment "
        f"{plan.environment!r}) as {name}; wrote {target}."
    )
    click.echo("To approve in a pull request, paste this block into a comment:\n")
    click.echo(approval_to_text(approval), nl=False)


def github_options(function: F) -> F:
    """``--github-pr`` / ``--github-repo`` / ``--github-head``: GitHub reviews as approvals."""
    decorators = [
        click.option(
            "--github-pr",
            "github_pr",
            type=click.IntRange(1),
            default=None,
            envvar="DSGIT_GITHUB_PR",
            metavar="NUMBER",
            help="Count the reviews of this pull request (token from GITHUB_TOKEN; env "
            "DSGIT_GITHUB_PR).",
        ),
        click.option(
            "--github-repo",
            "github_repo",
            default=None,
            metavar="OWNER/NAME",
            help="Repository of --github-pr (default $GITHUB_REPOSITORY).",
        ),
        click.option(
            "--github-head",
            "github_head",
            default=None,
            metavar="SHA",
            help="Head commit the plan was made for (default: recorded in the plan).",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def github_source(pr: int | None, repo: str | None, head: str | None) -> Any:
    """The :class:`GitHubSource` the options name, or None."""
    from dsgit.approvals.check import GitHubSource

    if pr is None:
        return None
    repository = repo or os.environ.get("GITHUB_REPOSITORY")
    if not repository:
        raise click.UsageError("--github-pr needs --github-repo or $GITHUB_REPOSITORY")
    return GitHubSource(repository=repository, number=pr, head_commit=head)


def approvals_paths_option(function: F) -> F:
    return click.option(
        "--approvals",
        "approval_paths",
        multiple=True,
        type=click.Path(path_type=Path),
        metavar="PATH",
        help="More approvals: a file (JSON, or text with approval blocks) or a folder; "
        "repeatable. PLAN.approvals/ is always read.",
    )(function)


@click.group(
    "approvals",
    short_help="Check a plan's approvals against the policy.",
    help="Approvals of saved plans (policies/approvals.yaml).",
)
def approvals_group() -> None:
    pass


@approvals_group.command(
    "check",
    short_help="Say what each rule still needs (exit 3 until satisfied).",
    help="""Evaluate a plan's approvals against policies/approvals.yaml, as `dsgit apply` will.

Reads PLAN.approvals/, every --approvals PATH, and with --github-pr the pull request's
reviews. Prints each rule that applies, the approvals that count, the ones that do not and
why, and what is still missing.

\b
Exit codes: 0 satisfied, 1 error, 3 not satisfied, 4 the plan is stale (edited,
expired, or made under an approvals policy that has changed since), as apply would say.""",
)
@click.argument(
    "plan_file",
    metavar="PLAN",
    type=click.Path(dir_okay=False, path_type=Path),
    shell_complete=complete_plan_files,
)
@approvals_paths_option
@github_options
@format_option("text", "markdown", "json")
@pass_app
def check_command(
    app: AppContext,
    plan_file: Path,
    approval_paths: tuple[Path, ...],
    github_pr: int | None,
    github_repo: str | None,
    github_head: str | None,
    output_format: str,
) -> int:
    from dsgit.approvals.check import ApprovalSources, check_plan_approvals
    from dsgit.approvals.stamp import plan_policy_digest
    from dsgit.policy.render import render_verdict

    plan_file = _absolute(app, plan_file)
    plan = read_plan_file(plan_file)
    env = app.environment(plan.environment)
    sources = ApprovalSources(
        plan_file=plan_file,
        paths=tuple(_absolute(app, path) for path in approval_paths),
        github=github_source(github_pr, github_repo, github_head),
    )
    now = datetime.now(UTC)
    verdict = check_plan_approvals(plan, app.root, env, sources, now=now)
    click.echo(render_verdict(verdict, output_format), nl=False)
    if plan.expired(now):
        # Approvals never outlive their plan: apply refuses an expired plan as stale.
        click.echo(f"note: the plan expired at {plan.expires}; apply will refuse it", err=True)
        return EXIT_STALE
    recorded = plan_policy_digest(plan)
    if recorded is not None and recorded != verdict.policy_digest:
        # The policy file is one of the plan's inputs: apply refuses such a plan as stale.
        click.echo(
            "note: the approvals policy changed since the plan was made; apply will refuse "
            "it as stale (make a new plan)",
            err=True,
        )
        return EXIT_STALE
    return EXIT_OK if verdict.satisfied else EXIT_POLICY


COMMANDS = [keys_group, approve_command, approvals_group]
