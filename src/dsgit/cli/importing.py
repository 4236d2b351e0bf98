"""``dsgit import``: adopt live entries into repository files (docs/import.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dsgit.cli.complete import complete_stores
from dsgit.cli.context import AppContext, env_option, format_option, pass_app
from dsgit.cli.progress import read_progress
from dsgit.crypto import load_keyring
from dsgit.importer import FileAction, ImportOptions, ImportReport, import_live
from dsgit.importer.policies import repository_policies
from dsgit.remote.connect import open_client

__all__ = ["COMMANDS", "import_command", "render_text"]


def render_text(report: ImportReport, environment: str, universe_id: int) -> str:
    """Created and updated files one a line, then the counts (unchanged files are only counted)."""
    verbs = {FileAction.CREATED: "create", FileAction.UPDATED: "update"}
    lines: list[str] = []
    for result in report.files:
        if result.action in verbs:
            verb = verbs[result.action] if report.dry_run else result.action.value
            lines.append(f"{verb:<8} {result.path}")
    summary = report.summary()
    counts = (
        f"{summary['created']} created, {summary['updated']} updated, "
        f"{summary['unchanged']} unchanged ({summary['entries']} entries)"
    )
    head = "Dry run, nothing written: would have " if report.dry_run else "Imported: "
    lines.append(f"{head}{counts} from {environment} (universe {universe_id}).")
    lines.extend(f"note: {note}" for note in report.notes)
    return "\n".join(lines)


@click.command("import", short_help="Adopt live entries into repository files.")
@env_option
@click.option(
    "--store",
    "stores",
    multiple=True,
    metavar="NAME",
    shell_complete=complete_stores,
    help="Import only this data store (repeatable). Ordered stores cannot be listed live: "
    "name them here (stores already under ordered/ are imported without it).",
)
@click.option("--scope", default=None, metavar="SCOPE", help="Import only this scope.")
@click.option("--prefix", default=None, metavar="PREFIX", help="Only keys starting with PREFIX.")
@click.option(
    "--ordered-only",
    "kinds",
    flag_value="ordered",
    default=None,
    help="Import ordered data stores only.",
)
@click.option(
    "--standard-only", "kinds", flag_value="standard", help="Import standard data stores only."
)
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Key file for values under `encrypted` pointers (default: $DSGIT_ENCRYPTION_KEY, "
    "$DSGIT_ENCRYPTION_KEYS, $DSGIT_ENCRYPTION_KEY_FILE, then .dsgit/keys/default.key).",
)
@format_option("text", "json")
@pass_app
def import_command(
    app: AppContext,
    env_name: str | None,
    stores: tuple[str, ...],
    scope: str | None,
    prefix: str | None,
    kinds: str | None,
    dry_run: bool,
    key_file: Path | None,
    output_format: str,
) -> None:
    """Adopt live entries into repository files.

    Standard entries go to datastores/<store>/<scope>/<key>.yaml (value, attributes, users),
    ordered entries to ordered/<store>/<scope>.yaml (key: integer); names are path-encoded.

    Re-importing changes only what changed live: comments, key order and layout of existing
    files are kept, and files already up to date are not rewritten. Values under a store's
    `encrypted` pointers are written encrypted. Import never deletes files.
    """
    root = app.root
    environment = app.environment(env_name)
    options = ImportOptions(
        stores=stores,
        scope=scope,
        prefix=prefix,
        standard=kinds != "ordered",
        ordered=kinds != "standard",
        dry_run=dry_run,
    )
    keyring = load_keyring(root, key_file=key_file)
    policies = repository_policies(root)
    with (
        open_client(environment) as client,
        read_progress(environment, client.meter, "import", interrupted="run it again to finish"),
    ):
        report = import_live(client, root, options, policies, keyring)
    if output_format == "json":
        payload = {
            "environment": environment.name,
            "universe_id": environment.universe_id,
            **report.to_json(),
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(report, environment.name, environment.universe_id))


COMMANDS = [import_command]
