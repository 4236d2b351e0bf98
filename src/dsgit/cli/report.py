"""``dsgit report``: one self-contained HTML file of the live data (DESIGN §14)."""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import click

from dsgit.cli.context import AppContext, env_option, format_option, pass_app
from dsgit.errors import DsgitError

__all__ = ["COMMANDS", "report_command"]


@click.command("report", short_help="Write one self-contained HTML report of the live data.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("report.html"),
    show_default=True,
    help="The HTML file to write.",
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    metavar="N",
    help="Entries read per store (every key is still counted).",
)
@click.option("--stale-days", type=click.IntRange(min=0), default=365, show_default=True)
@click.option("--lifetime-users", type=click.IntRange(min=0), default=None, metavar="N")
@click.option("--no-drift", is_flag=True, help="Leave the drift section out.")
@click.option("--no-storage-metric", is_flag=True, help="Do not query the Analytics Query API.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@env_option
@format_option("text", "json")
@pass_app
def report_command(
    app: AppContext,
    output: Path,
    sample: int,
    stale_days: int,
    lifetime_users: int | None,
    no_drift: bool,
    no_storage_metric: bool,
    quiet: bool,
    env_name: str | None,
    output_format: str,
) -> None:
    """Write an HTML report (no script, no network: it opens anywhere, offline) with charts
    and tables: value sizes per store, conformance to each store's schema, revisions over
    time, ledger activity (audit/ledger) and drift, plus every `dsgit scan` finding. It
    shows keys, pointers, counts and sizes, never a value.
    """
    from dsgit.cli.scan import ScanProgress, storage_query
    from dsgit.insight.html import render_html
    from dsgit.insight.report import gather_report
    from dsgit.insight.scan import ScanRequest
    from dsgit.remote.connect import open_client
    from dsgit.repo import load_declaration
    from dsgit.yamlio.atomic import write_atomic

    env = app.environment(env_name)
    declaration = load_declaration(app.root)
    request = ScanRequest(
        sample=sample,
        stale_days=stale_days,
        lifetime_users=lifetime_users,
    )
    now = datetime.now(UTC)
    with ExitStack() as stack:
        client = stack.enter_context(open_client(env))
        data = gather_report(
            app.root,
            client,
            request,
            environment=env.name,
            now=now,
            declaration=declaration,
            drift=not no_drift,
            observer=None if quiet else ScanProgress,
            storage_metric=storage_query(stack, env, now, enabled=not no_storage_metric),
        )
    target = output if output.is_absolute() else app.cwd / output
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, render_html(data))
    except OSError as exc:
        raise DsgitError(f"cannot write {output}: {exc.strerror}") from None
    stores = len(data.scan.stores)
    drift = "not computed" if data.drift is None else f"{len(data.drift):,} drifted entries"
    if output_format == "json":
        body = {
            "file": str(output),
            "stores": stores,
            "drift": None if data.drift is None else len(data.drift),
        }
        click.echo(json.dumps(body, indent=2))
    else:
        click.echo(f"wrote {output}: {stores:,} stores, {drift}")


COMMANDS = [report_command]
