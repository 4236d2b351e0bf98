"""``dsgit scan``: figures, health and PII findings of live stores (DESIGN §14)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import IO

import click

from dsgit.cli.complete import complete_stores
from dsgit.cli.context import AppContext, env_option, format_option, pass_app
from dsgit.config import Environment
from dsgit.errors import DsgitError
from dsgit.remote.analytics_ops import StorageUsage
from dsgit.remote.pace import format_duration
from dsgit.scan import ScanStats, Shard

__all__ = ["COMMANDS", "ScanProgress", "scan_checkpoints", "scan_command", "storage_query"]

PROGRESS_INTERVAL = 5.0


class ScanProgress:
    """Plain progress lines on stderr (never stdout: ``--format json`` stays clean): listed,
    read, and an ETA from the rate budget once the scan knows how much it will read."""

    def __init__(
        self,
        store: str,
        *,
        stream: IO[str] | None = None,
        interval: float = PROGRESS_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.clock = clock
        self._last = clock()

    def progress(self, stats: ScanStats) -> None:
        now = self.clock()
        if now - self._last < self.interval and stats.expected != stats.visited:
            return
        self._last = now
        total = f"/{stats.expected:,}" if stats.expected is not None else ""
        eta = ""
        if stats.expected is not None and stats.elapsed > 0 and stats.visited:
            left = (stats.expected - stats.visited) * stats.elapsed / stats.visited
            eta = f", about {format_duration(left)} left" if left > 0 else ""
        print(
            f"scan {self.store}: {stats.listed:,} keys listed, {stats.visited:,}{total} read{eta}",
            file=self.stream,
            flush=True,
        )

    def note(self, text: str) -> None:
        print(f"scan {self.store}: {text}", file=self.stream, flush=True)


def storage_query(
    stack: ExitStack, env: Environment, now: datetime, *, enabled: bool
) -> Callable[[], StorageUsage | None] | None:
    """The Analytics Query API's storage metric on a client of its own (run beside the scan:
    a 403 for a key without the analytics scope must not stop the scan's client)."""
    if not enabled:
        return None
    from dsgit.remote.connect import open_client

    client = stack.enter_context(open_client(env))
    return partial(client.storage_usage, now=now)


def scan_checkpoints(app: AppContext, env: Environment) -> Path:
    """``.dsgit/scans/<environment>/``: where a scan keeps what a resumed run needs."""
    return app.root / ".dsgit" / "scans" / env.name


def _shard(text: str | None) -> Shard | None:
    if text is None:
        return None
    try:
        return Shard.of(Shard.parse(text))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--shard") from None


@click.command(
    "scan",
    short_help="Statistics, health and PII findings of live stores.",
)
@click.argument("stores", nargs=-1, shell_complete=complete_stores)
@click.option(
    "--scope", default="global", show_default=True, metavar="SCOPE", help="Scope to scan."
)
@click.option("--all-scopes", is_flag=True, help="Scan every scope of each store.")
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Read N entries per store, chosen uniformly while listing (all keys are counted).",
)
@click.option(
    "--stale-days",
    type=click.IntRange(min=0),
    default=365,
    show_default=True,
    metavar="DAYS",
    help="A key whose last revision is older than this is stale.",
)
@click.option("--shard", "shard_text", default=None, metavar="K/N", help="Scan shard K of N.")
@click.option(
    "--lifetime-users",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Lifetime users of the experience: the quota is 500 MB + 1 MB each.",
)
@click.option(
    "--no-storage-metric",
    is_flag=True,
    help="Do not query the Analytics Query API (needs universe.analytics:read).",
)
@click.option(
    "--restart",
    is_flag=True,
    help="Discard the checkpoints of an interrupted scan and start again.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@env_option
@format_option("text", "json")
@pass_app
def scan_command(
    app: AppContext,
    stores: tuple[str, ...],
    scope: str,
    all_scopes: bool,
    sample: int | None,
    stale_days: int,
    shard_text: str | None,
    lifetime_users: int | None,
    no_storage_metric: bool,
    restart: bool,
    quiet: bool,
    env_name: str | None,
    output_format: str,
) -> None:
    """Scan live stores (every standard store, or STORES: names or globs such as `DATA/*`)
    and report per store: key count, value-size distribution, keys near the 4 MB limit,
    schema conformance per JSON pointer (from `_store.yaml`'s schema) with example keys,
    numeric outliers (median/MAD), stale keys, PII findings (e-mails, phone numbers, user
    ids in values of entries without `users` metadata), active session locks; and storage
    against the quota, also as the Analytics Query API measures it.

    With --sample N every key is still listed (counted) but only N entries per store are
    read; shares (conformance, locks) then hold within the stated margin at 95 % confidence.
    A scan that is killed (Ctrl-C, a lost connection) resumes where it stopped, from its
    checkpoints in .dsgit/scans/; --restart starts again. Nothing is written live; values
    never appear in the output, only keys and pointers.
    """
    from dsgit.insight.render import report_json, report_text
    from dsgit.insight.scan import ScanRequest, scan_stores
    from dsgit.remote.connect import open_client
    from dsgit.repo import load_declaration

    if all_scopes and scope != "global":
        raise DsgitError("give either --scope or --all-scopes, not both")
    env = app.environment(env_name)
    shard = _shard(shard_text)
    if shard is not None:  # N shards scan together: each takes its share of the budget
        env = replace(env, budget=shard.budget(env.budget))
    declaration = load_declaration(app.root)
    request = ScanRequest(
        stores=stores,
        scope="-" if all_scopes else scope,
        sample=sample,
        stale_days=stale_days,
        shard=shard,
        lifetime_users=lifetime_users,
        checkpoints=scan_checkpoints(app, env),
        restart=restart,
    )
    now = datetime.now(UTC)
    with ExitStack() as stack:
        client = stack.enter_context(open_client(env))
        report = scan_stores(
            client,
            request,
            environment=env.name,
            now=now,
            declaration=declaration,
            observer=None if quiet else ScanProgress,
            storage_metric=storage_query(stack, env, now, enabled=not no_storage_metric),
        )
    if output_format == "json":
        click.echo(json.dumps(report_json(report), indent=2, ensure_ascii=False))
    else:
        click.echo(report_text(report), nl=False)
    from dsgit.cli.notify import cli_context, has_sinks, notify_cli
    from dsgit.notify.hooks import scan_event

    if has_sinks(app):
        event = scan_event(report, cli_context(app))
        if event is not None:
            notify_cli(app, event)


COMMANDS = [scan_command]
