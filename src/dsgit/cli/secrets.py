"""``dsgit secrets``: keys and encrypted values in entry files (docs/encryption.md)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dsgit.cli.context import AppContext, format_option, pass_app
from dsgit.crypto import (
    DEFAULT_KEY_FILE,
    KeyFileError,
    KeyNotAvailable,
    Keyring,
    generate_key,
    key_id,
    load_keyring,
    read_key_file,
    write_key_file,
)
from dsgit.crypto.files import (
    FileUpdate,
    decrypt_file,
    edit_entry_text,
    encrypt_files,
    read_entry_file,
    rotate_files,
)
from dsgit.errors import ConfigError
from dsgit.importer.policies import repository_policies
from dsgit.model.entry import StoreKind
from dsgit.render.words import plural
from dsgit.yamlio.atomic import write_atomic

__all__ = ["COMMANDS", "secrets"]

F = TypeVar("F", bound=Callable[..., Any])

_KEY_FILE_HELP = (
    f"Key file (default: $DSGIT_ENCRYPTION_KEY, $DSGIT_ENCRYPTION_KEYS, "
    f"$DSGIT_ENCRYPTION_KEY_FILE, then {DEFAULT_KEY_FILE})."
)


def _key_file_option(help_text: str = _KEY_FILE_HELP) -> Callable[[F], F]:
    return click.option(
        "--key-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=help_text,
    )


def _here(app: AppContext, path: Path) -> Path:
    """A path from the command line, relative to where dsgit runs (``-C`` included)."""
    return path if path.is_absolute() else app.cwd / path


def _keyring(app: AppContext, key_file: Path | None) -> Keyring:
    chosen = _here(app, key_file) if key_file is not None else None
    keyring = load_keyring(app.root, key_file=chosen)
    if keyring is None:
        raise KeyNotAvailable(
            "no encryption key: set DSGIT_ENCRYPTION_KEY, pass --key-file, or create "
            f"{DEFAULT_KEY_FILE} with `dsgit secrets keygen`"
        )
    return keyring


def _report(updates: list[FileUpdate], verb: str, output_format: str, dry_run: bool) -> None:
    if output_format == "json":
        payload = {
            "dry_run": dry_run,
            "files": [{"path": update.path, "values": update.values} for update in updates],
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    for update in updates:
        click.echo(f"{verb} {plural(update.values, 'value')} in {update.path}")
    total = sum(update.values for update in updates)
    prefix = "Dry run: would have " if dry_run else ""
    click.echo(f"{prefix}{verb} {plural(total, 'value')} in {plural(len(updates), 'file')}.")


@click.group("secrets", short_help="Encrypted values and their keys.")
def secrets() -> None:
    """Encrypted values: keys, encrypt, decrypt, edit, rotate (docs/encryption.md).

    Values under a store's `encrypted` JSON pointers are kept in entry files as
    ENC[AES256_GCM,...] tokens bound to their entry and pointer. Keys come from
    DSGIT_ENCRYPTION_KEY (base64, 32 bytes), DSGIT_ENCRYPTION_KEYS (several, for rotation),
    DSGIT_ENCRYPTION_KEY_FILE, --key-file or .dsgit/keys/default.key; never from the repository.
    """


@secrets.command("keygen", short_help="Create a new random key file.")
@_key_file_option(f"Where to write the key (default: {DEFAULT_KEY_FILE} in the repository).")
@click.option("--force", is_flag=True, help="Overwrite an existing key file (its key is lost).")
@pass_app
def keygen(app: AppContext, key_file: Path | None, force: bool) -> None:
    """Create a new random key file (mode 0600). Prints its path and key id, never the key."""
    root = app.root
    path = _here(app, key_file) if key_file is not None else root / DEFAULT_KEY_FILE
    if path.exists() and not force:
        raise KeyFileError(
            f"key file {path} already exists; values encrypted with it would be lost if it were "
            "replaced (use --force to overwrite, or rotate: dsgit secrets rotate)"
        )
    material = generate_key()
    write_key_file(path, [material], root)
    click.echo(f"Wrote key {key_id(material)} to {path}")
    click.echo("Keep it out of git; share it through your secret store (e.g. a CI secret).")


@secrets.command("encrypt", short_help="Encrypt plaintext values in entry files.")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_key_file_option()
@click.option("--dry-run", is_flag=True, help="Report what would be encrypted; write nothing.")
@format_option("text", "json")
@pass_app
def encrypt(
    app: AppContext,
    paths: tuple[Path, ...],
    key_file: Path | None,
    dry_run: bool,
    output_format: str,
) -> None:
    """Encrypt, in place, every plaintext value at its store's `encrypted` pointers.

    PATHS are entry files or folders (default: all of datastores/). Comments and layout are
    kept; values already encrypted are left as they are.
    """
    root = app.root
    keyring = _keyring(app, key_file)
    resolved = [_here(app, path) for path in paths]
    updates = encrypt_files(
        root, resolved, keyring.primary, repository_policies(root), dry_run=dry_run
    )
    _report(updates, "encrypted", output_format, dry_run)


@secrets.command("decrypt", short_help="Print an entry file decrypted.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_key_file_option()
@click.option(
    "--in-place",
    is_flag=True,
    help="Write the decrypted values into the file (plaintext on disk: encrypt again before "
    "committing). Default: print to stdout.",
)
@pass_app
def decrypt(app: AppContext, file: Path, key_file: Path | None, in_place: bool) -> None:
    """Print an entry file with its encrypted values decrypted, for reading or editing."""
    path = _here(app, file)
    text = decrypt_file(app.root, path, _keyring(app, key_file), in_place=in_place)
    if in_place:
        click.echo(
            f"Decrypted {path} in place; run `dsgit secrets encrypt {file}` before committing.",
            err=True,
        )
    else:
        click.echo(text, nl=False)


@secrets.command("edit", short_help="Edit an entry file decrypted, in $EDITOR.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_key_file_option()
@pass_app
def edit(app: AppContext, file: Path, key_file: Path | None) -> None:
    """Open an entry file decrypted in $EDITOR, then encrypt it again.

    The decrypted copy lives in a private temporary file (mode 0600) only while the editor
    runs. Values you did not change keep their ciphertext, so the diff shows only your edits.
    """
    root = app.root
    keyring = _keyring(app, key_file)
    path = _here(app, file)
    entry = read_entry_file(root, path)
    policy = repository_policies(root)(StoreKind.STANDARD, entry.address.store)
    plain_text = decrypt_file(root, path, keyring)
    draft = plain_text
    while True:
        edited = click.edit(draft, extension=".yaml", require_save=True)
        if edited is None or edited == plain_text:
            click.echo("No changes.", err=True)
            return
        try:
            text = edit_entry_text(entry, edited, keyring, policy.for_key(entry.address.key))
        except ConfigError as exc:
            # The edit exists only in memory: offer to fix it rather than lose it.
            if not sys.stdin.isatty() or not click.confirm(
                f"The edited file is not valid: {exc}\nEdit it again?", default=True, err=True
            ):
                raise
            draft = edited
            continue
        break
    write_atomic(path, text)
    click.echo(f"Saved {entry.relative}", err=True)


@secrets.command("rotate", short_help="Re-encrypt every value with a new key.")
@click.option(
    "--new-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Key file holding the new key (its first key encrypts).",
)
@_key_file_option("Key file with the current key(s) (default: the usual key sources).")
@click.option("--dry-run", is_flag=True, help="Report what would be re-encrypted; write nothing.")
@format_option("text", "json")
@pass_app
def rotate(
    app: AppContext,
    new_key_file: Path,
    key_file: Path | None,
    dry_run: bool,
    output_format: str,
) -> None:
    """Re-encrypt every encrypted value of every entry file with a new key.

    Decrypts with the current keys (and the new one), encrypts with the new key. Afterwards,
    make the new key the one everybody uses and retire the old one.
    """
    root = app.root
    new_key = read_key_file(_here(app, new_key_file), root)[0]
    keyring = _keyring(app, key_file)
    updates = rotate_files(root, keyring, new_key, dry_run=dry_run)
    _report(updates, "re-encrypted", output_format, dry_run)


COMMANDS = [secrets]
