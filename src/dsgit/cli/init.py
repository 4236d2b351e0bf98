"""``dsgit init``: scaffold a repository, minimal or from an example."""

from __future__ import annotations

from pathlib import Path

import click

from dsgit.cli.context import AppContext, pass_app
from dsgit.repo.scaffold import available_examples, init_repository

__all__ = ["COMMANDS", "init"]


@click.command("init", short_help="Create a repository, or a copy of an example.")
@click.argument(
    "directory", required=False, type=click.Path(file_okay=False, path_type=Path), default=None
)
@click.option(
    "--example",
    metavar="NAME",
    default=None,
    help=f"Start from a complete example ({', '.join(available_examples())}).",
)
@pass_app
def init(app: AppContext, directory: Path | None, example: str | None) -> None:
    """Create a dsgit repository in DIRECTORY (default: the current folder).

    Writes dsgit.yaml (environment `local`: the embedded emulator, works at once), .gitignore
    (.dsgit stays local), the file schemas editors use (schemas/dsgit/, with an entry schema
    per store that has a value schema) and a first store;
    with --example, a complete game repository whose secret values are encrypted with
    DSGIT_ENCRYPTION_KEY or a new key in .dsgit/keys/default.key. Never overwrites an
    existing file."""
    target = directory if directory is not None else app.cwd
    if not target.is_absolute():
        target = app.cwd / target
    result = init_repository(target, example)
    what = f"example {result.example!r}" if result.example else "a new repository"
    click.echo(f"Created {what} in {target} ({len(result.written)} files).")
    if result.encrypted_values:
        click.echo(f"Encrypted {result.encrypted_values} example value(s).")
    if result.key_file:
        click.echo(
            f"New encryption key: {result.key_file} (gitignored; back it up, never commit it)."
        )
    click.echo("Next: dsgit validate && dsgit plan")


COMMANDS = [init]
