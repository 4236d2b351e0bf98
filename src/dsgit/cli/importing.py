"""``dsgit import``: adopt live entries into repository files (docs/import.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from dsgit.cli.complete import complete_stores
from dsgit.cli.context import AppContext, env_option, format_option, pass_app
from dsgit.cli.progress import read_progress
from dsgit.config import Environment
from dsgit.crypto import load_keyring
from dsgit.erasure.policy import TEMPLATES_REPOSITORY
from dsgit.importer import FileAction, ImportOptions, ImportReport, read_import, write_import
from dsgit.importer.configs import import_configs
from dsgit.importer.ownership import OwnershipSource
from dsgit.importer.policies import placement_of, policies_of, read_store_settings
from dsgit.importer.store_settings import OwnershipChooser
from dsgit.importer.templates import TemplatesImport, import_templates, import_templates_too
from dsgit.model.configs import REPOSITORY_NAMES
from dsgit.model.declaration import Ownership
from dsgit.model.entry import StoreKind
from dsgit.remote.connect import open_client

__all__ = ["COMMANDS", "import_command", "render_text"]

_OWNERSHIPS = [ownership.value for ownership in Ownership]


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _ownership_lines(report: ImportReport) -> list[str]:
    if not report.stores:
        return []
    width = max(len(store.label) for store in report.stores)
    lines = ["Ownership of the stores imported into:"]
    for store in report.stores:
        ownership = store.ownership.value if store.ownership is not None else "?"
        if store.source is OwnershipSource.UNDECIDED:
            why = "new store, needs --ownership owned|seed|observed"
        elif store.written:
            why = f"new _store.yaml: {store.reason}"
        else:
            why = store.reason
        lines.append(f"  {store.label:<{width}}  {ownership:<8}  {why}")
    return lines


def render_text(report: ImportReport, environment: str, universe_id: int) -> str:
    """Created and updated files one a line, each store's ownership and why, then the counts
    (unchanged files are only counted). Entries and files are counted apart: an ordered scope
    file holds many entries."""
    verbs = {FileAction.CREATED: "create", FileAction.UPDATED: "update"}
    lines: list[str] = []
    pending = {
        (store.kind, store.store): store.settings_file
        for store in report.settings_written
        if store.ownership is not None
    }
    for result in report.files:
        new_settings = pending.pop((result.kind, result.store), None)
        if new_settings is not None:  # a store's new _store.yaml before its first file
            lines.append(f"{'create' if report.dry_run else 'created':<8} {new_settings}")
        if result.action in verbs:
            verb = verbs[result.action] if report.dry_run else result.action.value
            lines.append(f"{verb:<8} {result.path}")
    lines.extend(_ownership_lines(report))
    summary = report.summary()
    files = (
        f"{_plural(summary['files'], 'file')} ({summary['created']} created, "
        f"{summary['updated']} updated, {summary['unchanged']} unchanged)"
    )
    written = sum(1 for store in report.settings_written if store.ownership is not None)
    new = f", {_plural(written, 'new _store.yaml', 'new _store.yaml files')}" if written else ""
    where = f"{environment} (universe {universe_id})"
    entries = _plural(summary["entries"], "entry", "entries")
    if report.dry_run:
        lines.append(
            f"Dry run, nothing written: would import {entries} from {where} into {files}{new}."
        )
    else:
        lines.append(f"Imported {entries} from {where} into {files}{new}.")
    lines.extend(f"note: {note}" for note in report.notes)
    return "\n".join(lines)


def _is_interactive() -> bool:
    """Both ends on a terminal: someone can answer the ownership prompt."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def _prompt_ownership(kind: StoreKind, store: str, entries: int) -> Ownership:
    label = store if kind is StoreKind.STANDARD else f"ordered:{store}"
    click.echo(
        f"New store {label} ({_plural(entries, 'entry', 'entries')}) does not look like player "
        "data. Who owns it? owned: git wins; seed: created when missing, never overwritten; "
        "observed: never written.",
        err=True,
    )
    answer = click.prompt(
        f"Ownership of {label}", type=click.Choice(_OWNERSHIPS), err=True, show_choices=True
    )
    return Ownership(answer)


def _chooser(ownership: Ownership | None) -> OwnershipChooser | None:
    if ownership is None and _is_interactive():
        return _prompt_ownership
    return None


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
@click.option(
    "--ownership",
    type=click.Choice(_OWNERSHIPS),
    default=None,
    help="Ownership written to the _store.yaml of new stores whose data does not look like "
    "player data (those are always observed). Without it: asked on a terminal, refused "
    "otherwise.",
)
@click.option(
    "--configs",
    "configs",
    is_flag=True,
    help="Import the published Experience Configs into configs/<repository>.yaml instead of "
    "data stores (values, types, descriptions, conditions and conditional values).",
)
@click.option(
    "--repository",
    default=None,
    type=click.Choice(REPOSITORY_NAMES),
    help="The one configs repository --configs imports. Default: InExperienceConfig, and "
    "DataStoresConfig's erasure templates into policies/erasure.yaml when that file exists "
    "or the universe publishes templates.",
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
    ownership: str | None,
    configs: bool,
    repository: str | None,
    dry_run: bool,
    key_file: Path | None,
    output_format: str,
) -> None:
    """Adopt live entries into repository files.

    Standard entries go to datastores/<store>/<scope>/<key>.yaml (value, attributes, users),
    ordered entries to ordered/<store>/<scope>.yaml (key: integer); names are path-encoded.

    Each new store gets a _store.yaml with its ownership: observed (never written) when its
    data looks like player data (ProfileService/ProfileStore saves, DataStore2 stores, keys
    holding user ids, entries with `users`), else --ownership or the answer at the prompt.
    An existing _store.yaml is never changed.

    Re-importing changes only what changed live: comments, key order and layout of existing
    files are kept, and files already up to date are not rewritten. Values under a store's
    `encrypted` pointers are written encrypted. Import never deletes files.

    With several environments in dsgit.yaml, importing one (-e ENV) changes only what it
    sees: while another environment sees an entry's declared value as it is, that value
    stays and ENV's differences become a merge patch under `environments: ENV:`.
    """
    root = app.root
    environment = app.environment(env_name)
    if configs:
        others = tuple(name for name in app.config.environments if name != environment.name)
        _import_configs(environment, others, root, repository, dry_run, output_format)
        return
    declaration = read_store_settings(root)
    names = tuple(app.config.environments)
    options = ImportOptions(
        stores=stores,
        scope=scope,
        prefix=prefix,
        standard=kinds != "ordered",
        ordered=kinds != "standard",
        dry_run=dry_run,
        ownership=Ownership(ownership) if ownership is not None else None,
        placement=placement_of(declaration, environment.name, names),
    )
    keyring = load_keyring(root, key_file=key_file)
    policies = policies_of(declaration)
    with (
        open_client(environment) as client,
        read_progress(environment, client.meter, "import", interrupted="run it again to finish"),
    ):
        pending = read_import(client, root, options, policies, keyring)
    # The prompt (if any) comes after every read, with the progress display and the connection
    # closed.
    report = write_import(pending, None if dry_run else _chooser(options.ownership))
    if output_format == "json":
        payload = {
            "environment": environment.name,
            "universe_id": environment.universe_id,
            **report.to_json(),
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(report, environment.name, environment.universe_id))


def _import_configs(
    environment: Environment,
    others: tuple[str, ...],
    root: Path,
    repository: str | None,
    dry_run: bool,
    output_format: str,
) -> None:
    """One repository with ``--repository``; else InExperienceConfig, then the templates
    (:func:`import_templates_too`)."""
    if repository == TEMPLATES_REPOSITORY:
        _import_templates(environment, root, dry_run, output_format)
        return
    name = repository or "InExperienceConfig"
    templates: TemplatesImport | None = None
    with (
        open_client(environment) as client,
        read_progress(environment, client.meter, "import", interrupted="run it again"),
    ):
        done = import_configs(
            client, root, name, dry_run=dry_run, environment=environment.name, others=others
        )
        if repository is None:
            templates = import_templates_too(client, root, dry_run=dry_run, others=others)
    if output_format == "json":
        report: dict[str, object] = {**done.to_json(), "notes": list(done.notes)}
        if templates is not None:
            report["erasure_templates"] = {**templates.to_json(), "notes": list(templates.notes)}
        _echo_json(environment, report)
        return
    verb = {FileAction.CREATED: "create", FileAction.UPDATED: "update"}.get(done.action)
    lines = []
    if verb is not None:
        lines.append(f"{verb if dry_run else done.action.value:<8} {done.path}")
    what = (
        f"{_plural(done.keys, 'config key')} and {_plural(done.conditions, 'condition')} "
        f"of {name} (configVersion {done.version}) from {environment.name} "
        f"(universe {environment.universe_id})"
    )
    state = "unchanged" if done.action is FileAction.UNCHANGED else done.action.value
    if dry_run:
        lines.append(f"Dry run, nothing written: would import {what} into {done.path} ({state}).")
    else:
        lines.append(f"Imported {what} into {done.path} ({state}).")
    lines.extend(f"note: {note}" for note in done.notes)
    if templates is not None:
        lines.extend(_templates_lines(templates, environment, dry_run))
    click.echo("\n".join(lines))


def _echo_json(environment: Environment, report: dict[str, object]) -> None:
    payload = {"environment": environment.name, "universe_id": environment.universe_id, **report}
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False))


def _import_templates(
    environment: Environment, root: Path, dry_run: bool, output_format: str
) -> None:
    """DataStoresConfig's published user_data_templates -> policies/erasure.yaml."""
    with (
        open_client(environment) as client,
        read_progress(environment, client.meter, "import", interrupted="run it again"),
    ):
        done = import_templates(client, root, dry_run=dry_run)
    if output_format == "json":
        _echo_json(environment, {**done.to_json(), "notes": list(done.notes)})
        return
    click.echo("\n".join(_templates_lines(done, environment, dry_run)))


def _templates_lines(done: TemplatesImport, environment: Environment, dry_run: bool) -> list[str]:
    lines = []
    if done.action is not FileAction.UNCHANGED:
        verb = {FileAction.CREATED: "create", FileAction.UPDATED: "update"}[done.action]
        lines.append(f"{verb if dry_run else done.action.value:<8} {done.path}")
    if done.templates is not None:
        state = "unchanged" if done.action is FileAction.UNCHANGED else done.action.value
        what = (
            f"{_plural(done.templates, 'template')} of {done.repository} (configVersion "
            f"{done.version}) from {environment.name} (universe {environment.universe_id})"
        )
        verb = "Dry run, nothing written: would import" if dry_run else "Imported"
        lines.append(f"{verb} {what} into {done.path} ({state}).")
    lines.extend(f"note: {note}" for note in done.notes)
    return lines


COMMANDS = [import_command]
