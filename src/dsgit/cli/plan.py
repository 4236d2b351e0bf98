"""``dsgit plan``, ``dsgit show PLAN`` and ``dsgit drift`` (docs/planning.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from dsgit.cli.complete import complete_plan_files
from dsgit.cli.context import AppContext, env_option, format_option, pass_app
from dsgit.cli.plan_output import (
    SHOW_LIMIT,
    PlanOutput,
    finish_plan,
    plan_output_options,
    render,
    report_errors,
)
from dsgit.cli.progress import read_progress
from dsgit.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK
from dsgit.model.declaration import Declaration
from dsgit.plan.segments import DEFAULT_SEGMENT_SIZE, Manifest
from dsgit.planfile import SegmentedPlan
from dsgit.render.drift import render_drift

__all__ = ["COMMANDS", "combine_command", "drift_command", "plan_command", "show_command"]


def _load_declaration(app: AppContext) -> Declaration:
    from dsgit.repo import load_declaration

    return load_declaration(app.root)


@click.group(
    "plan",
    invoke_without_command=True,
    short_help="Diff the declaration against live data.",
    help="""Diff the declaration against live data and show (and save) the plan.

Reads only what it needs: one listing per scope of owned stores, one read per declared entry
that exists live and per key to prune, within the environment's rate budget.

\b
Exit codes:
  0  no changes (or changes, without --detailed-exitcode)
  1  error (including error diagnostics: failed listings, schema failures)
  2  changes found, with --detailed-exitcode

`dsgit plan combine SHARD-PLANS… -o PLAN` joins the plans of N shards (made with
--shard K/N) into one segmented plan.
""",
)
@plan_output_options
@pass_app
def plan_command(
    app: AppContext,
    output: PlanOutput,
) -> None:
    if click.get_current_context().invoked_subcommand is not None:
        return  # `dsgit plan combine …`
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


@plan_command.command(
    "combine",
    short_help="Join shard plans into one segmented plan.",
    help="""Join the plans of N shards (each made with --shard K/N, or by `dsgit retention
plan --shard K/N` and the other plan-making commands) into one segmented plan: one digest to
review, approve and apply (with `dsgit apply --shard K/N` by N jobs, or by one).

The shard plans must be of one plan: same kind, environment, universe, source commit and
declaration; their changes must not overlap. Otherwise nothing is written.

\b
Exit codes:
  0  combined
  1  error: the plans are not of one plan, they overlap, or a file is not a plan
  4  a shard plan was edited after it was made, or expired""",
)
@click.argument(
    "plan_files",
    metavar="SHARD-PLANS...",
    nargs=-1,
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    shell_complete=complete_plan_files,
)
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the combined plan here (a manifest and OUT.segments/).",
)
@click.option(
    "--segment-size",
    type=click.IntRange(1, 1_000_000),
    default=DEFAULT_SEGMENT_SIZE,
    show_default=True,
    envvar="DSGIT_SEGMENT_SIZE",
    metavar="N",
    help="Changes per segment of the combined plan.",
)
@format_option("text", "markdown", "json")
@pass_app
def combine_command(
    app: AppContext,
    plan_files: tuple[Path, ...],
    out: Path,
    segment_size: int,
    output_format: str,
) -> None:
    from dsgit.errors import StalePlan
    from dsgit.planfile import read_any_plan
    from dsgit.planfile.combine import ShardPlan, combine_plans
    from dsgit.render.manifest import Page, render_manifest

    paths = [p if p.is_absolute() else app.cwd / p for p in plan_files]
    target = out if out.is_absolute() else app.cwd / out
    if target in paths:
        raise click.BadParameter("the combined plan cannot overwrite a shard plan", param_hint="-o")
    inputs = [ShardPlan(path, read_any_plan(path)) for path in paths]
    now = datetime.now(UTC)
    for item in inputs:
        if item.header.expired(now):
            raise StalePlan(f"{item.path}: the shard plan expired at {item.header.expires}")
    written = combine_plans(inputs, target, segment_size=segment_size)
    if isinstance(written, Manifest):
        found = read_any_plan(target)
        assert isinstance(found, SegmentedPlan)
        page = Page(1, SHOW_LIMIT, written.total_changes, found.changes_at(0, SHOW_LIMIT))
        click.echo(render_manifest(written, page, output_format, str(out)), nl=False)
    else:
        click.echo(render(written, output_format), nl=False)
    if output_format == "text":
        click.echo(
            f"Combined {len(inputs)} shard plans into {out}; apply it with `dsgit apply {out}`"
            " (or by N jobs, each with `--shard K/N`)."
        )


@click.command(
    "show",
    short_help="Render a saved plan file.",
    help="""Render a saved plan file (checks its digest: exit 4 if edited).

A segmented plan (a manifest and its JSON Lines segments) is shown as its summary, its
plan-level diagnostics and one page of changes: --page N (from 1) of --limit changes; every
segment's digest is checked first (exit 4 if one was edited).""",
)
@click.argument(
    "plan_file",
    type=click.Path(dir_okay=False, path_type=Path),
    shell_complete=complete_plan_files,
)
@format_option("text", "markdown", "json")
@click.option(
    "--page",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Which page of a segmented plan's changes.",
)
@click.option(
    "--limit",
    type=click.IntRange(1, 10_000),
    default=SHOW_LIMIT,
    show_default=True,
    help="Changes per page of a segmented plan.",
)
def show_command(plan_file: Path, output_format: str, page: int, limit: int) -> None:
    from dsgit.planfile import SegmentedPlan, read_any_plan

    found = read_any_plan(plan_file)
    if isinstance(found, SegmentedPlan):
        from dsgit.render.manifest import Page, render_manifest

        found.verify()
        manifest = found.manifest
        pages = max(1, -(-manifest.total_changes // limit))
        if page > pages:
            raise click.BadParameter(
                f"the plan has {manifest.total_changes:,} changes: {pages} page"
                f"{'' if pages == 1 else 's'} of {limit}",
                param_hint="--page",
            )
        changes = found.changes_at((page - 1) * limit, limit)
        shown = Page(page, limit, manifest.total_changes, changes)
        click.echo(render_manifest(manifest, shown, output_format, str(plan_file)), nl=False)
        plan = found.header
    else:
        plan = found
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
    from dsgit.cli.notify import cli_context, has_sinks, notify_cli
    from dsgit.notify.hooks import drift_report_event

    event = drift_report_event(report, cli_context(app)) if has_sinks(app) else None
    if event is not None:
        notify_cli(app, event)
    if report.errors:
        report_errors(report.errors)
        raise click.exceptions.Exit(EXIT_ERROR)
    raise click.exceptions.Exit(EXIT_CHANGES if report.items else EXIT_OK)


COMMANDS = [plan_command, show_command, drift_command]
