"""``dsgit plan``, ``dsgit show PLAN`` and ``dsgit drift`` (docs/planning.md)."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from dsgit.cli.context import AppContext, env_option, format_option, pass_app
from dsgit.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, ConfigError, Location
from dsgit.model.declaration import Declaration
from dsgit.plan.io import plan_from_json, plan_to_json
from dsgit.plan.model import Plan, Severity
from dsgit.render.drift import render_drift
from dsgit.render.json import render_json
from dsgit.render.markdown import render_markdown
from dsgit.render.text import render_text, use_color

__all__ = ["COMMANDS", "drift_command", "parse_expiry", "plan_command", "show_command"]

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_expiry(text: str) -> timedelta:
    """``30m``, ``24h``, ``7d``."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) <= 0:
        raise click.BadParameter(f"{text!r} is not a duration such as 30m, 24h or 7d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _expiry_option(ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
    return parse_expiry(value)


def render(plan: Plan, output_format: str) -> str:
    """The plan in ``text`` (coloured on a terminal), ``markdown`` or ``json``."""
    if output_format == "json":
        return render_json(plan)
    if output_format == "markdown":
        return render_markdown(plan)
    return render_text(plan, color=use_color(sys.stdout))


def write_plan_file(path: Path, plan: Plan) -> None:
    """Write atomically: a reader never sees half a plan."""
    data = plan_to_json(plan)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".plan-", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(f"cannot write the plan: {exc.strerror}", Location(str(path))) from None


def _load_declaration(app: AppContext) -> Declaration:
    from dsgit.repo import load_declaration

    return load_declaration(app.root)


@click.command(
    "plan",
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
@env_option
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the plan file here (canonical JSON, for `dsgit apply`).",
)
@format_option("text", "markdown", "json")
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="ADDR",
    help="Only addresses matching this glob (store/scope/key); repeatable.",
)
@click.option(
    "--exclude",
    "excludes",
    multiple=True,
    metavar="ADDR",
    help="Leave out addresses matching this glob; repeatable.",
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 when the plan has changes, 0 when none."
)
@click.option(
    "--expires-in",
    default="24h",
    show_default=True,
    callback=_expiry_option,
    help="How long the plan stays applicable (30m, 24h, 7d).",
)
@pass_app
def plan_command(
    app: AppContext,
    env_name: str | None,
    out: Path | None,
    output_format: str,
    targets: tuple[str, ...],
    excludes: tuple[str, ...],
    detailed_exitcode: bool,
    expires_in: timedelta,
) -> None:
    from dsgit.crypto import load_keyring
    from dsgit.plan.usecase import LedgerLookup, PlanRequest, make_plan
    from dsgit.remote.connect import open_client

    env = app.environment(env_name)
    declaration = _load_declaration(app)
    request = PlanRequest(env.name, env.universe_id, targets, excludes, expires_in)
    with open_client(env) as api:
        plan = make_plan(
            declaration,
            api,
            request,
            ledger=LedgerLookup(app.root),
            keyring=load_keyring(app.root),
        )
    if out is not None:
        write_plan_file(out, plan)
    click.echo(render(plan, output_format), nl=False)
    if out is not None and output_format == "text":
        click.echo(f"Saved the plan to {out}; apply it with `dsgit apply {out}`.")
    raise click.exceptions.Exit(_plan_exit(plan, detailed_exitcode))


def _plan_exit(plan: Plan, detailed: bool) -> int:
    if any(diag.severity is Severity.ERROR for diag in plan.all_diagnostics):
        return EXIT_ERROR
    if detailed and plan.has_changes:
        return EXIT_CHANGES
    return EXIT_OK


@click.command("show", help="Render a saved plan file (checks its digest: exit 4 if edited).")
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@format_option("text", "markdown", "json")
def show_command(plan_file: Path, output_format: str) -> None:
    try:
        data = plan_file.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the plan: {exc.strerror}", Location(str(plan_file))
        ) from None
    plan = plan_from_json(data, source=str(plan_file))
    click.echo(render(plan, output_format), nl=False)
    if plan.expired(datetime.now(UTC)):
        click.echo(f"note: this plan expired at {plan.expires}; apply will refuse it", err=True)


@click.command(
    "drift",
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
    from dsgit.plan.usecase import PlanRequest, find_drift
    from dsgit.remote.connect import open_client

    env = app.environment(env_name)
    declaration = _load_declaration(app)
    with open_client(env) as api:
        report = find_drift(
            declaration,
            api,
            PlanRequest(env.name, env.universe_id),
            keyring=load_keyring(app.root),
        )
    click.echo(render_drift(report, output_format), nl=False)
    if report.errors:
        raise click.exceptions.Exit(EXIT_ERROR)
    raise click.exceptions.Exit(EXIT_CHANGES if report.items else EXIT_OK)


COMMANDS = [plan_command, show_command, drift_command]
