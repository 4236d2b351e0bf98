"""``dsgit lock status|release``: an environment's apply lock (docs/applying.md §2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from dsgit.cli.context import AppContext, env_option, format_option, pass_app

__all__ = ["COMMANDS", "lock_group"]


@click.group(
    "lock",
    short_help="Show or release an environment's apply lock.",
    help="""The environment lock: a lease in the universe (entry _dsgit/global/lock) that one
apply at a time holds, renews while it runs, and releases when it ends.""",
)
def lock_group() -> None:
    pass


def _report_json(report: object) -> str:
    from dsgit.apply.lock_admin import LockReport

    assert isinstance(report, LockReport)
    lease = report.state.lease
    now = report.state.now
    return json.dumps(
        {
            "status": report.state.status,
            "lease": lease.to_json() if lease is not None else None,
            "own": report.own,
            # a lease shared by the shard jobs of one plan: each of them
            "shards": [
                {
                    "shard": str(view.shard),
                    "status": view.status(now),
                    "lease": view.lease.to_json(),
                    "own": view.own_journal is not None,
                }
                for view in report.shards
            ],
            # what this command did (``status`` is the lease's state, read before it)
            "released_now": report.released,
            "broke_lock": report.broke,
            "released_shards": [str(shard) for shard in report.released_shards],
            "broken_shards": [str(shard) for shard in report.broken_shards],
        },
        indent=2,
        sort_keys=True,
    )


def _describe(report: object) -> str:
    from dsgit.apply.lock_admin import LockReport

    assert isinstance(report, LockReport)
    state, lease = report.state, report.state.lease
    if lease is None:
        return "free: no apply has taken the lock"
    whose = "this repository's" if report.own else "another repository's or machine's"
    text = {
        "released": "released",
        "held": "held",
        "expired": "expired without being released (its apply probably died)",
    }[state.status]
    described = lease.describe()
    if state.status == "released":
        described = "last " + described
    if report.shared and report.shards:
        lines = [f"{text}: shared by {len(report.shards)} shard job(s) of plan {lease.plan_digest}"]
        for view in report.shards:
            own = "this repository's" if view.own_journal is not None else "another's"
            status = view.status(state.now)
            if status == "expired":
                status = "expired without being released (its job probably died)"
            lines.append(f"  shard {view.shard}: {status}: {view.lease.describe()} ({own})")
        return "\n".join(lines)
    return f"{text}: {described} ({whose})"


@lock_group.command(
    "status",
    short_help="Show who holds the environment lock.",
    help="""Show the environment's lease: free, held (by whom, for which apply, until when),
released, or expired without being released (its apply died). A lease shared by the shard jobs
of one plan (`apply --shard K/N`) lists each shard holder and whether it is still renewed.

\b
Exit codes: 0 free or released, 1 error, 2 held or expired.""",
)
@env_option
@format_option("text", "json")
@pass_app
def status_command(app: AppContext, env_name: str | None, output_format: str) -> int:
    from dsgit.apply.lock_admin import lock_status
    from dsgit.remote.connect import open_client

    env = app.environment(env_name)
    with open_client(env) as api:
        report = lock_status(api, app.root, datetime.now(UTC))
    click.echo(_report_json(report) if output_format == "json" else _describe(report))
    return 2 if report.state.status in ("held", "expired") else 0


@lock_group.command(
    "release",
    short_help="Release the environment lock.",
    help="""Release the environment's lease, as a finished apply would have.

A lease this repository's applies took (its holder id is in .dsgit/journal/) is released
unless that apply is running on this machine now. Another's lease (another machine, another
CI runner) is released only with --break-lock, which is recorded in the audit ledger; if
its apply is still running, its next renewal fails and it stops (run it again to resume).

A lease shared by the shard jobs of one plan is released one shard at a time (--shard K/N: the
others keep running) or as a whole (--all-shards), each shard job by the same rules; each
shard broken is a lock-break record of its own.

\b
Exit codes: 0 released (or nothing to release), 1 error or refused.""",
)
@env_option
@click.option(
    "--break-lock",
    is_flag=True,
    help="Release a lease this repository did not take (recorded in the ledger).",
)
@click.option(
    "--shard",
    default=None,
    metavar="K/N",
    help="Of a lease shared by shard jobs: release only shard K of N's part.",
)
@click.option(
    "--all-shards",
    is_flag=True,
    help="Of a lease shared by shard jobs: release every shard's part.",
)
@format_option("text", "json")
@pass_app
def release_command(
    app: AppContext,
    env_name: str | None,
    break_lock: bool,
    shard: str | None,
    all_shards: bool,
    output_format: str,
) -> None:
    from dsgit.apply.lock_admin import release_lock
    from dsgit.cli.apply import current_actor
    from dsgit.ledger.signing import load_signer
    from dsgit.model.shard import Shard
    from dsgit.remote.connect import open_client

    if shard is not None and all_shards:
        raise click.UsageError("--shard and --all-shards cannot be given together")
    try:
        chosen = Shard.parse(shard) if shard is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--shard") from None
    env = app.environment(env_name)
    with open_client(env) as api:
        report = release_lock(
            api,
            app.root,
            env,
            datetime.now(UTC),
            break_lock=break_lock,
            actor=current_actor(),
            signer=load_signer() if break_lock else None,
            shard=chosen,
            all_shards=all_shards,
        )
    if output_format == "json":
        click.echo(_report_json(report))
    elif report.released_shards:
        for view in report.shards:
            if view.shard in report.released_shards:
                what = "broke and released" if view.shard in report.broken_shards else "released"
                click.echo(
                    f"{what} shard {view.shard}'s part of the environment lock of {env.name}: "
                    f"{view.lease.describe()}"
                )
        left = len(report.shards) - len(report.released_shards)
        click.echo(
            f"{left} shard job(s) still hold it" if left else "the environment lock is released"
        )
    elif report.shared and (chosen is not None or all_shards):
        click.echo(
            "the shard's part changed while it was being released (its job renewed it from "
            "elsewhere, or another took it); nothing released: see `dsgit lock status`"
        )
    elif report.released:
        what = "broke and released" if report.broke else "released"
        lease = report.state.lease
        assert lease is not None
        click.echo(f"{what} the environment lock of {env.name}: {lease.describe()}")
    elif report.state.status in ("held", "expired"):
        click.echo(
            "the lease changed while it was being released (another apply took it); "
            "nothing released: see `dsgit lock status`"
        )
    else:
        click.echo(f"nothing to release: {_describe(report)}")


COMMANDS = [lock_group]
