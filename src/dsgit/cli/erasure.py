"""``dsgit erase`` and ``dsgit webhook serve|list|requeue``: right to erasure (docs/erasure.md)."""

from __future__ import annotations

import json
import os
import signal
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dsgit.cli.apply import parse_duration
from dsgit.cli.context import AppContext, format_option, pass_app
from dsgit.cli.plan_output import PlanOutput, finish_plan, plan_output_options
from dsgit.cli.retention import default_checkpoint, scan_options

if TYPE_CHECKING:
    from dsgit.config import Environment
    from dsgit.erasure.collect import ScanSettings
    from dsgit.erasure.policy import ErasurePolicy

__all__ = ["COMMANDS", "erase_command", "webhook_group"]

DEFAULT_SECRET_ENV = "DSGIT_WEBHOOK_SECRET"
ERASURE_DIR = ".dsgit/erasure"
SEEN_FILE = ".dsgit/webhook-seen.sqlite"


def _positive_user(ctx: click.Context, param: click.Parameter, value: str) -> int:
    if not value.isdigit() or int(value) <= 0:
        raise click.BadParameter(f"{value!r} is not a Roblox user id (a positive integer)")
    return int(value)


@click.command(
    "erase",
    short_help="Plan (or verify) the erasure of one user's data.",
    help="""Plan every deletion and edit that erases user ID's data in the environment:
the entries policies/erasure.yaml's templates name (read directly), and those its rules find
(users metadata, ids inside values, key patterns, DataStore2's ordered stores). The plan is of
the `erasure` change class for approvals; diff lines show where the user was, never what they
held. Applying it purges the pre-images holding the user's data (a later revert cannot bring
them back), writes an erasure record of hashes only, and redacts the fields of earlier ledger
records that held the user (DSP098; the chain and its signatures stay valid).

A profile held by a game server's session lock is left out (DSP095) unless
`--allow DSP005=REASON`.

With --verify: read everything again and prove nothing of the user is left (live, in
pre-images or in the ledger), listing the ledger's erasure records of the user.

\b
Exit codes:
  0  plan made; --verify: nothing of the user left
  1  error
  2  changes found, with --detailed-exitcode; --verify: something of the user is left
""",
)
@click.option("--user", "user", required=True, metavar="ID", callback=_positive_user)
@click.option("--verify", is_flag=True, help="Prove nothing of the user is left.")
@scan_options
@plan_output_options
@pass_app
def erase_command(
    app: AppContext,
    user: int,
    verify: bool,
    checkpoint: Path | None,
    restart: bool,
    every_entries: int,
    every_seconds: float,
    output: PlanOutput,
) -> None:
    from dsgit.cli.scan_progress import ScanProgress
    from dsgit.erasure.collect import ScanSettings
    from dsgit.erasure.planner import ErasureRequest, plan_erasure
    from dsgit.erasure.policy_file import load_erasure
    from dsgit.erasure.proof import hashed_user, repository_salt
    from dsgit.plan.codes import DiagnosticCode
    from dsgit.remote.connect import open_client
    from dsgit.repo import load_declaration
    from dsgit.scan import Shard

    # --shard: the scan reads only this shard's entries, with share/N of the budget
    shard = Shard.of(output.shard) if output.shard is not None else None
    env = app.environment(output.env_name)
    if shard is not None:
        env = replace(env, budget=shard.budget(env.budget))
    policy = load_erasure(app.root)
    # the checkpoint's name holds the salted hash of the user, never the id
    command = "erase-verify" if verify else "erase"
    # (--verify makes no salt: without one nothing was erased, and the name is the env's)
    salt = repository_salt(app.root, create=not verify)
    named = f"{env.name}-{hashed_user(salt, user)[-12:]}" if salt else env.name
    settings = ScanSettings(
        checkpoint=checkpoint or default_checkpoint(app.root, command, named, shard),
        restart=restart,
        every_entries=every_entries,
        every_seconds=every_seconds,
        shard=shard,
    )
    if verify:
        _verify(app, env, policy, user, output.output_format, settings)
    allow_locked = any(a.code == DiagnosticCode.SESSION_LOCKED for a in output.allowances)
    request = ErasureRequest(
        env.name,
        env.universe_id,
        user,
        allow_locked=allow_locked,
        expires_in=output.expires_in,
        source=load_declaration(app.root).source,
        scan=settings,
    )
    progress = ScanProgress("erase", env.name)
    try:
        with open_client(env) as api:
            run = plan_erasure(api, policy, request, app.root, observer=progress)
    except KeyboardInterrupt:
        progress.close()
        click.echo(
            f"erase: interrupted; the scan resumes from {settings.checkpoint} next run", err=True
        )
        raise
    progress.close()
    try:
        finish_plan(run.plan, output)
    except click.exceptions.Exit:
        run.done()  # the plan is out: the finished scan (masked changes only) goes
        raise


def _verify(
    app: AppContext,
    env: Environment,
    policy: ErasurePolicy,
    user: int,
    output_format: str,
    settings: ScanSettings,
) -> None:
    from dsgit.erasure.verify import verify_erased
    from dsgit.errors import EXIT_CHANGES, EXIT_OK
    from dsgit.ledger import Ledger
    from dsgit.remote.connect import open_client

    if policy.empty:
        from dsgit.errors import ConfigError, Location

        raise ConfigError("no erasure templates or rules to verify", Location(policy.source))
    records = tuple(Ledger(app.root).records(skip_malformed=True))
    with open_client(env) as api:
        result = verify_erased(
            api, policy, user, app.root, records, environment=env.name, settings=settings
        )
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "clean": result.clean,
                    "left": list(result.left),
                    "preimages": list(result.preimages),
                    "ledger": [
                        {"file": r.file, "seq": r.seq, "fields": list(r.fields)}
                        for r in result.ledger
                    ],
                    "read": result.read,
                    "erasure_records": [
                        {"seq": r.seq, "time": r.time, "hash": r.hash} for r in result.records
                    ],
                },
                indent=2,
                sort_keys=True,
            )
        )
    else:
        read = ", ".join(f"{label}: {count} read" for label, count in result.read.items())
        if result.clean:
            click.echo(f"Nothing of the user is left in {env.name} ({read}).")
        else:
            click.echo(f"The user's data is still in {env.name} ({read}):")
            for address in result.left:
                click.echo(f"  live: {address}")
            for path in result.preimages:
                click.echo(f"  pre-image: {path}")
            for item in result.ledger:
                click.echo(
                    f"  ledger: {item.file} seq {item.seq} ({', '.join(item.fields)}): "
                    "plan the erasure again (`dsgit erase --user ID`) to redact it"
                )
        for record in result.records:
            click.echo(f"Erasure record #{record.seq} at {record.time} ({record.hash}).")
    raise click.exceptions.Exit(EXIT_OK if result.clean else EXIT_CHANGES)


@click.group(
    "webhook",
    short_help="Roblox's erasure webhook: serve, list, requeue.",
    help="Roblox's webhooks (docs/erasure.md).",
)
def webhook_group() -> None:
    pass


@webhook_group.command(
    "serve",
    short_help="Take RightToErasureRequest notifications and plan each erasure.",
    help=f"""Serve Roblox's right-to-erasure webhook: POSTs at any path (it prints its URL).

Each request is checked (its `roblox-signature` over the raw body with the secret from
${DEFAULT_SECRET_ENV} or --secret-env, a timestamp at most 10 minutes old and not in the
future, the body size, the JSON, a universe dsgit.yaml knows, a NotificationId not seen
before), answered 200 at once, and queued. A background worker plans the erasure for each
environment whose universe the request names, writes it to
{ERASURE_DIR}/<NotificationId>.json (<NotificationId>.<env>.json when several; or --out), and
applies it (`dsgit apply`) only where policies/erasure.yaml says `auto_apply` (an applied
plan is then removed: it names the user's entries); other plans wait for approval, listed in
queue.jsonl beside them. A plan that fails is retried after 1 minute, doubling up to
--retry-every, 8 times at most; a plan that left out profiles held by a session lock is made
again every --retry-every until nothing is left out or 30 days have passed. The secret is
never printed.

\b
Exit codes:
  0  stopped (Ctrl-C or SIGTERM)
  1  error (no secret in the variable, a broken policies/erasure.yaml)
""",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--secret-env",
    default=DEFAULT_SECRET_ENV,
    show_default=True,
    metavar="NAME",
    help="The environment variable holding the webhook secret.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Where plans are written (default {ERASURE_DIR}).",
)
@click.option(
    "--retry-every",
    default="15m",
    show_default=True,
    metavar="DURATION",
    callback=lambda ctx, param, value: parse_duration(value),
    help="How often a plan that left out session-locked profiles is made again, and the "
    "longest wait between retries of a failed one (90s, 15m, 1h).",
)
@pass_app
def serve_command(
    app: AppContext,
    host: str,
    port: int,
    secret_env: str,
    out: Path | None,
    retry_every: timedelta,
) -> None:
    from dsgit.erasure.policy_file import load_erasure
    from dsgit.erasure.seen import SeenNotifications
    from dsgit.erasure.server import WebhookServer, WebhookSettings
    from dsgit.erasure.worker import ErasureWorker
    from dsgit.errors import ConfigError

    secret = os.environ.get(secret_env, "")
    if not secret:
        raise ConfigError(
            f"no webhook secret: set ${secret_env} to the secret configured for the webhook "
            "in the Creator Hub"
        )
    load_erasure(app.root)  # a broken policy fails now, not at the first request
    folder = out if out is not None else app.root / ERASURE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    universes: dict[int, tuple[str, ...]] = {}
    for name, env in sorted(app.config.environments.items()):
        universes[env.universe_id] = (*universes.get(env.universe_id, ()), name)
    worker = ErasureWorker(
        app.root, app.config, folder, log=lambda line: click.echo(line, err=True)
    )
    every = retry_every.total_seconds()
    server = WebhookServer(
        WebhookSettings(secret, universes, retry_every=every, first_retry=min(60.0, every)),
        SeenNotifications(app.root / SEEN_FILE),
        worker,
        host=host,
        port=port,
        log=lambda line: click.echo(line, err=True),
        gave_up=worker.gave_up,
    )
    click.echo(f"Listening on {server.url} (Ctrl-C stops)", err=True)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.", err=True)


@webhook_group.command(
    "list",
    short_help="List the requests the webhook server accepted, and their state.",
    help=f"""List the requests in {SEEN_FILE}, oldest first: the NotificationId, its state
(queued, waiting-for-session, failed, done), failed attempts, when it was accepted, when it
is next tried, and the environments a retry still has to plan. Never the user id.

\b
Exit codes:
  0  listed (nothing accepted yet is an empty list)
  1  error
""",
)
@format_option("text", "json")
@pass_app
def list_command(app: AppContext, output_format: str) -> None:
    from dsgit.erasure.seen import SeenNotifications

    path = app.root / SEEN_FILE
    rows = []
    if path.exists():
        store = SeenNotifications(path)
        try:
            rows = store.rows()
        finally:
            store.close()
    listed = [
        {
            "notification_id": row.notification_id,
            "state": row.state,
            "attempts": row.attempts,
            "accepted": _iso(row.accepted),
            "retry_at": None if row.retry_at is None else _iso(row.retry_at),
            "remaining": None if row.remaining is None else list(row.remaining),
        }
        for row in rows
    ]
    if output_format == "json":
        click.echo(json.dumps(listed, indent=2))
        return
    if not listed:
        click.echo(f"No requests in {SEEN_FILE}.")
        return
    for row in rows:
        line = f"{row.notification_id}  {row.state}  accepted {_iso(row.accepted)}"
        if row.attempts:
            line += f", {row.attempts} failed attempt(s)"
        if row.retry_at is not None and row.state != "failed":
            line += f", next try {_iso(row.retry_at)}"
        if row.remaining:
            line += f", still to plan: {', '.join(row.remaining)}"
        click.echo(line)


@webhook_group.command(
    "requeue",
    short_help="Queue a request the webhook server gave up on again.",
    help=f"""Queue the `failed` request NOTIFICATION_ID in {SEEN_FILE} again, its attempts
counted from zero: a running `dsgit webhook serve` tries it within a minute, a stopped one
when it starts. Only a failed request can be requeued (an open one is still being tried, a
done one keeps only its id).

\b
Exit codes:
  0  queued again
  1  no failed request by that id
""",
)
@click.argument("notification_id", metavar="NOTIFICATION_ID")
@pass_app
def requeue_command(app: AppContext, notification_id: str) -> None:
    import time

    from dsgit.erasure.seen import FAILED, SeenNotifications
    from dsgit.errors import ConfigError, Location

    path = app.root / SEEN_FILE
    before = row = None
    if path.exists():
        store = SeenNotifications(path)
        try:
            before = store.get(notification_id)
            row = store.requeue(notification_id, time.time())
        finally:
            store.close()
    if row is None or before is None:
        if before is None:
            why = "no such request"
        elif before.state != FAILED:
            why = f"it is {before.state}, not {FAILED}"
        else:
            why = "its request was not kept"
        raise ConfigError(f"cannot requeue {notification_id!r}: {why}", Location(SEEN_FILE))
    click.echo(f"Queued {notification_id} again (after {before.attempts} failed attempts).")


def _iso(unix: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


COMMANDS = [erase_command, webhook_group]
