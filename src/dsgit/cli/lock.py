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
    return json.dumps(
        {
            "status": report.state.status,
            "lease": lease.to_json() if lease is not None else None,
            "own": report.own,
            # what this command did (``status`` is the lease's state, read before it)
            "released_now": report.released,
            "broke_lock": report.broke,
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
    return f"{text}: {described} ({whose})"


@lock_group.command(
    "status",
    short_help="Show who holds the environment lock.",
    help="""Show the environment's lease: free, held (by whom, for which apply, until when),
released, or expired without being released (its apply died).

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

\b
Exit codes: 0 released (or nothing to release), 1 error or refused.""",
)
@env_option
@click.option(
    "--break-lock",
    is_flag=True,
    help="Release a lease this repository did not take (recorded in the ledger).",
)
@format_option("text", "json")
@pass_app
def release_command(
    app: AppContext, env_name: str | None, break_lock: bool, output_format: str
) -> None:
    from dsgit.apply.lock_admin import release_lock
    from dsgit.cli.apply import current_actor
    from dsgit.ledger.signing import load_signer
    from dsgit.remote.connect import open_client

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
        )
    if output_format == "json":
        click.echo(_report_json(report))
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
