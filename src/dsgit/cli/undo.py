"""``dsgit rollback``, ``dsgit revert``, ``dsgit restore``: plans that undo (docs/undo.md).

Each makes an ordinary plan (``kind`` rollback/revert/restore) that ``dsgit apply`` runs like
any other, and takes the output options of ``dsgit plan``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from dsgit.cli.complete import complete_apply_ids
from dsgit.cli.context import AppContext, pass_app
from dsgit.cli.plan_output import PlanOutput, finish_plan, plan_output_options
from dsgit.cli.progress import read_progress

if TYPE_CHECKING:
    from dsgit.model.declaration import Declaration

__all__ = [
    "COMMANDS",
    "restore_command",
    "revert_command",
    "rollback_command",
]

_EXIT_HELP = """
\b
Exit codes:
  0  plan made (no changes, or changes without --detailed-exitcode)
  1  error (including error diagnostics: failed listings or reads)
  2  changes found, with --detailed-exitcode
"""


def _require_reason(option: str, reason: str | None) -> None:
    """An override option, when given, must say why (the plan shows the reason)."""
    from dsgit.errors import ConfigError

    if reason is not None and not reason.strip():
        raise ConfigError(f"{option} needs a reason")


@click.command(
    "rollback",
    short_help="Plan the declaration as it was at a commit.",
    help="""Plan the declaration as it was at COMMIT, against live data.

Reads the old declaration from git objects (no checkout) and plans it exactly as `dsgit plan`
did then (same ownership, prune and suppressions). Entries declared now but not then stay live
(listed as DSP045); revert the apply that created them to delete them.
"""
    + _EXIT_HELP,
)
@click.option("--to", "commit", required=True, metavar="COMMIT", help="Commit, tag or branch.")
@plan_output_options
@pass_app
def rollback_command(
    app: AppContext,
    commit: str,
    output: PlanOutput,
) -> None:
    from dsgit.crypto import load_keyring
    from dsgit.planning.usecase import LedgerLookup, PlanRequest
    from dsgit.remote.connect import open_client
    from dsgit.repo import load_declaration, load_declaration_at
    from dsgit.undo import plan_rollback

    env = app.environment(output.env_name)
    then = load_declaration_at(app.root, commit)
    current = load_declaration(app.root)
    request = PlanRequest(
        env.name, env.universe_id, output.targets, output.excludes, output.expires_in
    )
    with open_client(env) as api, read_progress(env, api.meter, "rollback") as progress:
        plan = plan_rollback(
            then,
            api,
            request,
            current=current,
            ledger=LedgerLookup(app.root),
            keyring=load_keyring(app.root),
            observer=progress,
        )
    finish_plan(plan, output)


@click.command(
    "revert",
    short_help="Plan undoing one apply, from its pre-images.",
    help="""Plan putting back what one apply changed, from its pre-images.

APPLY is an apply id from the ledger (`dsgit audit log`), or a unique prefix of one. Entries the
apply created are deleted, entries it updated or deleted are written back, increments are
reverted by the opposite increment. An entry changed since the apply (by a game server or a
later apply) blocks the plan (DSP040): leave it out with --exclude, or overwrite the later
write on purpose with --overwrite-changed REASON.
"""
    + _EXIT_HELP,
)
@click.argument("apply_id", metavar="APPLY", shell_complete=complete_apply_ids)
@click.option(
    "--overwrite-changed",
    "overwrite_reason",
    default=None,
    metavar="REASON",
    help="Overwrite entries changed since the apply; the plan shows REASON.",
)
@plan_output_options
@pass_app
def revert_command(
    app: AppContext,
    apply_id: str,
    overwrite_reason: str | None,
    output: PlanOutput,
) -> None:
    from dsgit.crypto import load_keyring
    from dsgit.errors import ConfigError
    from dsgit.remote.connect import open_client
    from dsgit.repo import load_declaration
    from dsgit.undo import RevertRequest, find_apply, plan_revert

    _require_reason("--overwrite-changed", overwrite_reason)
    env = app.environment(output.env_name)
    run = find_apply(app.root, apply_id)
    if run.environment != env.name or run.universe_id != env.universe_id:
        raise ConfigError(
            f"apply {run.apply_id} was made in environment {run.environment!r} (universe "
            f"{run.universe_id}); revert it there with `-e {run.environment}`"
        )
    request = RevertRequest(
        run.apply_id,
        env.name,
        env.universe_id,
        output.targets,
        output.excludes,
        overwrite_reason=overwrite_reason,
        expires_in=output.expires_in,
    )
    with open_client(env) as api, read_progress(env, api.meter, "revert") as progress:
        # reads: each entry the apply wrote, once now (and its pre-image is local)
        progress.expect(len({change.address for change in run.changes}), 0)
        plan = plan_revert(
            app.root,
            run,
            api,
            request,
            declaration=load_declaration(app.root),
            keyring=load_keyring(app.root),
            applied=_declaration_at(app, run.source_commit),
        )
    finish_plan(plan, output)


def _declaration_at(app: AppContext, commit: str | None) -> Declaration | None:
    """The declaration at an apply's source commit (its store policies), if it can be read."""
    from dsgit.errors import DsgitError
    from dsgit.repo import load_declaration_at

    if not commit:
        return None
    try:
        return load_declaration_at(app.root, commit)
    except DsgitError:
        return None  # history rewritten or shallow: the current policies still apply


@click.command(
    "restore",
    short_help="Plan the values live at a past time.",
    help="""Plan putting data stores back to the values they held at TIME.

TIME is an RFC 3339 time (2026-01-31T12:00:00Z), a date, or an age (30m, 12h, 7d), within
Open Cloud's 30-day revision window. Every declared standard store is restored, or only those
named with --store (declared or not). Entries that did not exist at TIME are planned for
deletion (DSP001, blocking unless --allow-deletes REASON). Ordered stores have no revisions and
are left out.
"""
    + _EXIT_HELP,
)
@click.option("--at", "at_text", required=True, metavar="TIME", help="The time to restore.")
@click.option(
    "--store",
    "stores",
    multiple=True,
    metavar="STORE",
    help="Restore this standard data store (repeatable; default: every declared one).",
)
@click.option(
    "--allow-deletes",
    "allow_deletes",
    default=None,
    metavar="REASON",
    help="Let deletions of entries absent at TIME through; the plan shows REASON.",
)
@plan_output_options
@pass_app
def restore_command(
    app: AppContext,
    at_text: str,
    stores: tuple[str, ...],
    allow_deletes: str | None,
    output: PlanOutput,
) -> None:
    from dsgit.crypto import load_keyring
    from dsgit.erasure.ledger_scan import erased_entries
    from dsgit.ledger.query import parse_time
    from dsgit.remote.connect import open_client
    from dsgit.repo import load_declaration
    from dsgit.undo import RestoreRequest, plan_restore

    _require_reason("--allow-deletes", allow_deletes)
    now = datetime.now(UTC)
    at = parse_time(at_text, now=now)
    env = app.environment(output.env_name)
    request = RestoreRequest(
        at,
        env.name,
        env.universe_id,
        stores,
        output.targets,
        output.excludes,
        allow_deletes=allow_deletes,
        expires_in=output.expires_in,
        now=now,
    )
    with open_client(env) as api, read_progress(env, api.meter, "restore"):
        plan = plan_restore(
            api,
            request,
            declaration=load_declaration(app.root),
            keyring=load_keyring(app.root),
            erased=erased_entries(app.root),
        )
    finish_plan(plan, output)


COMMANDS = [rollback_command, revert_command, restore_command]
