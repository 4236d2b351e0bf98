"""``dsgit plan``, ``dsgit show PLAN`` and ``dsgit drift`` (docs/planning.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from dsgit.cli.complete import complete_plan_files
from dsgit.cli.context import AppContext, env_option, format_option, pass_app
from dsgit.cli.plan_output import (
    PlanOutput,
    finish_plan,
    plan_output_options,
    read_plan_file,
    render,
    report_errors,
)
from dsgit.cli.progress import read_progress
from dsgit.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK
from dsgit.model.declaration import Declaration
from dsgit.render.drift import render_drift

__all__ = ["COMMANDS", "drift_command", "plan_command", "show_command"]


def _load_declaration(app: AppContext) -> Declaration:
    from dsgit.repo import load_declaration

    return load_declaration(app.root)


@click.command(
    "plan",
    short_help="Diff the declaration against live data.",
    help="""Diff the declaration against live data and show (and save) the plan.

Reads only what it needs: one listing per scope of owned stores, one read per declared entry
that exists live and per key to prune, within the environment's rate budget.

\b
Exit codes:
  0  no changes (or changes, without --detailed-exitcode)
  1  error (including error diagnostics: failed listings, schema failures)
  2  changes found, with --detailed-exitcode
""",
)
@plan_output_options
@pass_app
def plan_command(
    app: AppContext,
    output: PlanOutput,
) -> None:
    from dsgit.crypto import load_keyring
    from dsgit.planning.usecase import LedgerLookup, PlanRequest, make_plan
    from dsgit.remote.connect import open_client

    env = app.environment(output.env_name)
    declaration = _load_declaration(app)
    request = PlanRequest(
        env.name, env.universe_id, output.targets, output.excludes, output.expires_in
    )
    with open_client(env) as api, read_progress(env, api.meter, "plan") as progress:
        plan = make_plan(
            declaration,
            api,
            request,
            ledger=LedgerLookup(app.root),
            keyring=load_keyring(app.root),
            observer=progress,
        )
    finish_plan(plan, output)


@click.command(
    "show",
    short_help="Render a saved plan file.",
    help="Render a saved plan file (checks its digest: exit 4 if edited).",
)
@click.argument(
    "plan_file",
    type=click.Path(dir_okay=False, path_type=Path),
    shell_complete=complete_plan_files,
)
@format_option("text", "markdown", "json")
def show_command(plan_file: Path, output_format: str) -> None:
    plan = read_plan_file(plan_file)
    click.echo(render(plan, output_format), nl=False)
    if plan.expired(datetime.now(UTC)):
        click.echo(f"note: this plan expired at {plan.expires}; apply will refuse it", err=True)


@click.command(
    "drift",
    short_help="Report live changes not in git (exit 2).",
    help="""Report live changes not in git: owned entries that differ or are missing live,
and live keys without a file in pruned stores.

\b
Exit codes:
  0  no drift
  1  error (the live state could not be read completely)
  2  drift found
""",
)
@env_option
@format_option("text", "markdown", "json")
@pass_app
def drift_command(app: AppContext, env_name: str | None, output_format: str) -> None:
    from dsgit.crypto import load_keyring
    from dsgit.planning.usecase import PlanRequest, find_drift
    from dsgit.remote.connect import open_client

    env = app.environment(env_name)
    declaration = _load_declaration(app)
    with (
        open_client(env) as api,
        read_progress(env, api.meter, "drift", interrupted="no report") as progress,
    ):
        report = find_drift(
            declaration,
            api,
            PlanRequest(env.name, env.universe_id),
            keyring=load_keyring(app.root),
            observer=progress,
        )
    click.echo(render_drift(report, output_format), nl=False)
    if report.errors:
        report_errors(report.errors)
        raise click.exceptions.Exit(EXIT_ERROR)
    raise click.exceptions.Exit(EXIT_CHANGES if report.items else EXIT_OK)


COMMANDS = [plan_command, show_command, drift_command]
