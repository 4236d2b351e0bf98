"""``dsgit validate``: offline checks of every file; writes nothing."""

from __future__ import annotations

import os
from pathlib import Path

import click

from dsgit.cli.context import AppContext, format_option, pass_app
from dsgit.config import find_root
from dsgit.crypto import load_keyring
from dsgit.errors import ConfigError, ValidationFailed
from dsgit.repo import validate_repository
from dsgit.repo.report import render_github, render_json, render_text, summary

__all__ = ["COMMANDS", "validate"]


def _root(cwd: Path) -> Path:
    try:
        return find_root(cwd)
    except ConfigError:
        return cwd.resolve()  # reported as DS109 (no dsgit.yaml)


def _prefix(root: Path, cwd: Path) -> str:
    relative = os.path.relpath(root, cwd.resolve())
    return "" if relative == "." else Path(relative).as_posix()


@click.command("validate", short_help="Check every repository file, offline.")
@format_option("text", "json", "github")
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Key file to verify encrypted values with (default: $DSGIT_ENCRYPTION_KEY, "
    "$DSGIT_ENCRYPTION_KEYS, $DSGIT_ENCRYPTION_KEY_FILE, then .dsgit/keys/default.key).",
)
@click.option(
    "--write-schemas",
    is_flag=True,
    help="First write the editor schemas (schemas/dsgit/, with an entry schema per store "
    "in entries/) and point each entry file's yaml-language-server line at its store's "
    "(no other byte changes).",
)
@pass_app
def validate(
    app: AppContext, output_format: str, key_file: Path | None, write_schemas: bool
) -> None:
    """Check every file offline: YAML, file schemas, value schemas, Roblox limits, encodings
    and encrypted values. Prints each problem as `path:line:col: CODE message` and exits 1 on
    any error (codes: docs/validation-codes.md). Writes nothing, unless --write-schemas."""
    root = _root(app.cwd)
    if write_schemas:
        from dsgit.repo.entry_schemas import write_entry_schemas

        report = write_entry_schemas(root)
        click.echo(report.summary(), err=output_format != "text")
    keyring = load_keyring(root, key_file=key_file)
    reading = validate_repository(root, keyring=keyring)
    prefix = _prefix(root, app.cwd)
    problems = reading.problems
    if output_format == "json":
        click.echo(render_json(problems, reading.files, reading.entries, prefix))
    elif output_format == "github":
        if problems:
            click.echo(render_github(problems, prefix))
        click.echo(summary(problems, reading.files, reading.entries), err=True)
    else:
        if problems:
            click.echo(render_text(problems, prefix))
        click.echo(summary(problems, reading.files, reading.entries))
    if reading.errors:
        count = len(reading.errors)
        raise ValidationFailed(f"validation failed: {count} error{'s' if count != 1 else ''}")


COMMANDS = [validate]
