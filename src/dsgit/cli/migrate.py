"""``dsgit migrate list|show|plan``: data migrations over live entries (docs/lifecycle.md).

``migrate plan ID`` makes an ordinary plan (``kind: migration``) that ``show``, ``approve``,
``apply`` and ``revert`` handle as any other, and takes the output options of ``dsgit plan``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click

from dsgit.cli.complete import complete_migrations
from dsgit.cli.context import AppContext, format_option, pass_app
from dsgit.cli.plan_output import PlanOutput, finish_plan, plan_output_options
from dsgit.cli.retention import default_checkpoint, scan_options

__all__ = ["COMMANDS", "migrate_group"]

_EXIT_HELP = """
\b
Exit codes:
  0  plan made (no changes, or changes without --detailed-exitcode)
  1  error (a bad migration file, a failed listing or read, error diagnostics)
  2  changes found, with --detailed-exitcode
  130 interrupted (the checkpoint is saved)
"""


@click.group(
    "migrate",
    short_help="Plan data migrations over live entries.",
    help="""Data migrations: migrations/<id>.yaml selects live entries (store, scope, keys,
an optional JSON Schema the old value matches) and transforms them (rename, move, default,
convert, RFC 6902 JSON Patch). `dsgit migrate plan ID` writes an ordinary plan.""",
)
def migrate_group() -> None:
    pass


def _describe_selection(selection: object) -> str:
    from dsgit.migrate.model import Selection

    assert isinstance(selection, Selection)
    parts = [f"store {selection.store}", f"scope {selection.scope}"]
    if selection.keys is not None:
        parts.append(f"keys {selection.keys}")
    if selection.prefix is not None:
        parts.append(f"prefix {selection.prefix}")
    if selection.key_pattern is not None:
        parts.append(f"key_pattern {selection.key_pattern}")
    if selection.match is not None:
        shown = selection.match if isinstance(selection.match, str) else "inline schema"
        parts.append(f"match {shown}")
    return ", ".join(parts)


def _step_text(step: object) -> str:
    from dsgit.migrate.model import Convert, Default, Move, Patch, Rename

    match step:
        case Rename(path=path, to=to):
            return f"rename {path} to {to}"
        case Move(source=source, target=target):
            return f"move {source} to {target}"
        case Default(path=path, value=value):
            return f"default {path} = {json.dumps(value, ensure_ascii=False)}"
        case Convert(path=path, to=to):
            return f"convert {path or '/'} to {to.value}"
        case Patch(operations=operations):
            ops = ", ".join(f"{op.get('op')} {op.get('path')}" for op in operations)
            return f"patch: {ops}"
    raise AssertionError(step)


@migrate_group.command("list", short_help="List the migrations of the repository.")
@format_option("text", "json")
@pass_app
def list_command(app: AppContext, output_format: str) -> None:
    """List migrations/<id>.yaml: id, selection and description."""
    from dsgit.migrate.files import list_migrations, load_migration

    found = [load_migration(app.root, name).migration for name in list_migrations(app.root)]
    if output_format == "json":
        rows = [
            {
                "id": m.id,
                "file": m.file,
                "description": m.description,
                "store": m.selection.store,
                "scope": m.selection.scope,
                "steps": len(m.steps),
            }
            for m in found
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("No migrations (add migrations/<id>.yaml; see docs/lifecycle.md).")
        return
    for migration in found:
        about = f": {migration.description}" if migration.description else ""
        click.echo(f"{migration.id}{about}")
        click.echo(f"    {_describe_selection(migration.selection)}; {len(migration.steps)} steps")


@migrate_group.command("show", short_help="Show one migration: selection and steps.")
@click.argument("migration_id", metavar="ID", shell_complete=complete_migrations)
@pass_app
def show_command(app: AppContext, migration_id: str) -> None:
    """Show migration ID (its file checked as `dsgit validate` does)."""
    from dsgit.migrate.files import load_migration
    from dsgit.repo import load_declaration
    from dsgit.repo.value_schemas import ValueSchemas

    declaration = load_declaration(app.root)
    loaded = load_migration(
        app.root, migration_id, ValueSchemas.from_documents(declaration.schemas)
    )
    migration = loaded.migration
    click.echo(f"migration {migration.id} ({migration.file}, {loaded.digest})")
    if migration.description:
        click.echo(f"  {migration.description}")
    click.echo(f"  selects: {_describe_selection(migration.selection)}")
    for index, step in enumerate(migration.steps, start=1):
        line = migration.lines.get(index)
        where = f" (line {line})" if line is not None else ""
        click.echo(f"  {index}. {_step_text(step)}{where}")


@migrate_group.command(
    "plan",
    short_help="Plan a migration over the matching live entries.",
    help="""Plan migration ID (migrations/ID.yaml) against live data.

Lists and reads the selected entries within the environment's budget, runs the steps on each
value and plans an update of every entry they change. Shows the counts (read, to migrate,
already migrated, not matching, held by a session lock, failed), the first --sample-diffs
changes in full, and every entry whose migrated value would fail the store's schema (DSP080,
blocking). Profiles a game server holds (MetaData.ActiveSession) are left out and retried by a
later run, unless --allow DSP005=REASON. Running a finished migration again plans nothing. The
scan checkpoints as it goes (default .dsgit/scans/migrate-ID-ENV.json): run the same command
again after a kill or Ctrl-C to resume. With --shard K/N the scan reads only shard K's entries,
with share/N of the environment's budget; `dsgit plan combine` joins the N shard plans.
"""
    + _EXIT_HELP,
)
@click.argument("migration_id", metavar="ID", shell_complete=complete_migrations)
@click.option(
    "--sample-diffs",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Changes shown in full in the text output (default: the migration's sample_diffs, 5).",
)
@scan_options
@plan_output_options
@pass_app
def plan_command(
    app: AppContext,
    migration_id: str,
    sample_diffs: int | None,
    checkpoint: Path | None,
    restart: bool,
    every_entries: int,
    every_seconds: float,
    output: PlanOutput,
) -> None:
    from dsgit.cli.scan_progress import ScanProgress
    from dsgit.crypto import load_keyring
    from dsgit.migrate.files import load_migration
    from dsgit.migrate.planner import MigrationRequest
    from dsgit.migrate.usecase import ScanSettings, plan_migration
    from dsgit.remote.connect import open_client
    from dsgit.repo import load_declaration
    from dsgit.repo.value_schemas import ValueSchemas
    from dsgit.scan import Shard

    # --shard (of the plan options): the scan reads only this shard's entries, with share/N
    # of the budget, so the plan holds exactly this shard's changes (`dsgit plan combine`).
    shard = Shard.of(output.shard) if output.shard is not None else None
    declaration = load_declaration(app.root)
    source = load_migration(
        app.root, migration_id, ValueSchemas.from_documents(declaration.schemas)
    )
    name = source.migration.id
    env = app.environment(output.env_name)
    if shard is not None:
        env = replace(env, budget=shard.budget(env.budget))
    request = MigrationRequest(
        env.name,
        env.universe_id,
        allow_locked=any(a.code == "DSP005" for a in output.allowances),
        targets=output.targets,
        excludes=output.excludes,
        expires_in=output.expires_in,
    )
    scan = ScanSettings(
        checkpoint=checkpoint or default_checkpoint(app.root, f"migrate-{name}", env.name, shard),
        restart=restart,
        shard=shard,
        every_entries=every_entries,
        every_seconds=every_seconds,
    )
    progress = ScanProgress(f"migrate {name}", env.name)
    try:
        with open_client(env) as api:
            run = plan_migration(
                api,
                source,
                declaration,
                request,
                keyring=load_keyring(app.root),
                scan=scan,
                observer=progress,
            )
    except KeyboardInterrupt:
        progress.close()
        click.echo(
            f"migrate {name}: interrupted; the scan resumes from {scan.checkpoint} next run",
            err=True,
        )
        raise
    progress.close()
    sample = sample_diffs if sample_diffs is not None else source.migration.sample_diffs
    try:
        finish_plan(run.plan, output, sample=sample)
    except click.exceptions.Exit:
        run.done()  # the plan is out (saved when asked): the finished scan is not needed
        raise


COMMANDS = [migrate_group]
