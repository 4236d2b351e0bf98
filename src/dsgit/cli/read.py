"""``dsgit ls``, ``dsgit get``, ``dsgit history``: look at live data, change nothing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click
import yaml

from dsgit.cli.complete import complete_keys, complete_scopes, complete_stores
from dsgit.cli.context import AppContext, env_option, format_option, pass_app
from dsgit.cli.read_configs import show_history, show_key, show_listing
from dsgit.errors import ConfigError, DsgitError, Location
from dsgit.model.configs import REPOSITORY_NAMES
from dsgit.model.declaration import KeyOverride, StorePolicy
from dsgit.model.encoding import encode_segment
from dsgit.model.entry import LiveEntry, LiveOrderedEntry
from dsgit.plan.masking import PointerPatterns
from dsgit.remote import browse
from dsgit.remote.api import DataStoreInfo, EntryKey, RevisionInfo
from dsgit.remote.connect import open_client

__all__ = ["COMMANDS", "get", "history", "ls"]


def _color() -> bool | None:
    """None lets click colour a terminal only; a non-empty NO_COLOR turns colour off."""
    return False if os.environ.get("NO_COLOR") else None


def _echo(text: str = "", *, err: bool = False) -> None:
    click.echo(text, color=_color(), err=err)


def _bold(text: str) -> str:
    return click.style(text, bold=True)


def _dim(text: str) -> str:
    return click.style(text, dim=True)


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _stream_json_array(items: Iterable[Any]) -> None:
    """A JSON array written item by item, so a listing of 100,000 keys is never held whole."""
    first = True
    click.echo("[", nl=False)
    for item in items:
        click.echo(("\n  " if first else ",\n  ") + json.dumps(item, ensure_ascii=False), nl=False)
        first = False
    click.echo("\n]" if not first else "]")


_repository_option = click.option(
    "--repository",
    default="InExperienceConfig",
    show_default=True,
    type=click.Choice(REPOSITORY_NAMES),
    help="The configs repository (with --configs / --config).",
)


# --- ls -----------------------------------------------------------------------------------------
def _store_json(info: DataStoreInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        # Listings name the state of deleted stores only; the others are active.
        "state": info.state or "ACTIVE",
        "createTime": info.create_time,
        "expireTime": info.expire_time,
    }


def _store_line(info: DataStoreInfo) -> str:
    if info.state == "DELETED":
        expiry = f", purged at {info.expire_time}" if info.expire_time else ""
        return f"{info.id}\t{_dim(f'(deleted{expiry})')}"
    return info.id


def _key_json(item: EntryKey) -> dict[str, Any]:
    return {"scope": item.scope, "key": item.key, "deleted": item.deleted}


def _key_line(item: EntryKey, all_scopes: bool) -> str:
    text = f"{item.scope}\t{item.key}" if all_scopes else item.key
    return f"{text}\t{_dim('(deleted)')}" if item.deleted else text


def _ordered_json(entry: LiveOrderedEntry) -> dict[str, Any]:
    return {"scope": entry.scope, "key": entry.key, "value": entry.value}


def _emit(lines: Iterator[str]) -> None:
    for line in lines:
        _echo(line)


@click.command("ls", short_help="List data stores, or the keys of one.")
@click.argument("store", required=False, shell_complete=complete_stores)
@click.option(
    "--scope",
    default=None,
    metavar="SCOPE",
    shell_complete=complete_scopes,
    help="Scope to list (default: global).",
)
@click.option("--all-scopes", is_flag=True, help="List the keys of every scope.")
@click.option("--prefix", default=None, metavar="P", help="Only names or keys starting with P.")
@click.option("--ordered", is_flag=True, help="STORE is an ordered data store.")
@click.option("--deleted", is_flag=True, help="Include stores or keys pending deletion.")
@click.option("--descending", is_flag=True, help="Ordered stores: highest value first.")
@click.option(
    "--configs",
    is_flag=True,
    help="List the published Experience Configs keys instead (type, value, conditional "
    "values, keys locked by a running experiment, keys the staged draft changes).",
)
@_repository_option
@env_option
@format_option("text", "json")
@pass_app
def ls(
    app: AppContext,
    store: str | None,
    scope: str | None,
    all_scopes: bool,
    prefix: str | None,
    ordered: bool,
    deleted: bool,
    descending: bool,
    configs: bool,
    repository: str,
    env_name: str | None,
    output_format: str,
) -> None:
    """List data stores, or the keys of STORE.

    \b
    dsgit ls                          data stores of the universe
    dsgit ls PlayerData               keys of PlayerData, scope global
    dsgit ls PlayerData --all-scopes  keys of every scope (scope and key, tab-separated)
    dsgit ls Wins --ordered           an ordered data store: key and value, by value
    dsgit ls --configs                published Experience Configs keys
    """
    if configs:
        if store is not None or scope or all_scopes or ordered or deleted or descending:
            raise DsgitError("--configs lists a configs repository: give no STORE or store options")
        with open_client(app.environment(env_name)) as client:
            lines = list(show_listing(client, repository, as_json=output_format == "json"))
        _emit(iter(lines))
        return
    if scope is not None and all_scopes:
        raise DsgitError("give either --scope or --all-scopes, not both")
    if store is None and (ordered or scope is not None or all_scopes or descending):
        raise DsgitError(
            "--scope, --all-scopes, --ordered and --descending need a STORE "
            "(ordered data stores cannot be listed; name one)"
        )
    if ordered and (all_scopes or deleted):
        raise DsgitError("ordered data stores list one scope at a time and keep no deletions")
    if descending and not ordered:
        raise DsgitError("--descending applies to ordered data stores (--ordered)")
    env = app.environment(env_name)
    as_json = output_format == "json"
    with open_client(env) as client:
        if store is None:
            stores = browse.list_stores(client, prefix=prefix, show_deleted=deleted)
            if as_json:
                _stream_json_array(_store_json(info) for info in stores)
            else:
                _emit(_store_line(info) for info in stores)
        elif ordered:
            entries = browse.list_ordered_entries(
                client, store, scope or "global", prefix=prefix, descending=descending
            )
            if as_json:
                _stream_json_array(_ordered_json(entry) for entry in entries)
            else:
                _emit(f"{entry.key}\t{entry.value}" for entry in entries)
        else:
            chosen = browse.ALL_SCOPES if all_scopes else (scope or "global")
            keys = browse.list_entry_keys(
                client, store, chosen, prefix=prefix, show_deleted=deleted
            )
            if as_json:
                _stream_json_array(_key_json(item) for item in keys)
            else:
                _emit(_key_line(item, all_scopes) for item in keys)


# --- get ----------------------------------------------------------------------------------------
# Only datastores/<store>/_store.yaml is read (not the whole repository), with its per-key
# overrides, so a lookup stays fast; a _store.yaml that cannot be read is an error rather than
# a reason to show a value unmasked.
_MASKED_FIELDS = ("sensitive", "encrypted")  # an encrypted secret is plaintext live


def _pointers(raw: Any, file: str, field: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ConfigError(
            f"`{field.rsplit('.', 1)[-1]}` must be a list of JSON pointers",
            Location(file, field=field),
        )
    return tuple(raw)


def sensitive_patterns(root: Path, store: str, key: str) -> PointerPatterns:
    """The pointer patterns masked for ``key`` of standard store ``store``: its `sensitive`
    and `encrypted` pointers (the plan masks both; live, an encrypted value is plaintext)."""
    path = root / "datastores" / encode_segment(store) / "_store.yaml"
    if not path.is_file():
        return PointerPatterns(())
    file = str(path.relative_to(root))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"cannot read it to mask sensitive values: {exc}", Location(file)
        ) from None
    if raw is None:
        return PointerPatterns(())
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping of store settings", Location(file))
    overrides = []
    raw_overrides = raw.get("overrides") or []
    for index, item in enumerate(raw_overrides if isinstance(raw_overrides, list) else []):
        if isinstance(item, dict) and isinstance(item.get("keys"), str):
            settings = {
                name: _pointers(item[name], file, f"overrides.{index}.{name}")
                for name in _MASKED_FIELDS
                if name in item
            }
            if settings:
                overrides.append(KeyOverride(item["keys"], settings))
    policy = StorePolicy(
        sensitive=_pointers(raw.get("sensitive"), file, "sensitive"),
        encrypted=_pointers(raw.get("encrypted"), file, "encrypted"),
        overrides=tuple(overrides),
    )
    try:
        chosen = policy.for_key(key)
        return PointerPatterns((*chosen.sensitive, *chosen.encrypted))
    except ValueError as exc:
        raise ConfigError(f"bad sensitive pointer: {exc}", Location(file)) from None


def entry_json(entry: LiveEntry, mask: PointerPatterns | None = None) -> dict[str, Any]:
    return {
        "store": entry.store,
        "scope": entry.scope,
        "key": entry.key,
        "value": mask.mask(entry.value) if mask is not None else entry.value,
        "attributes": dict(entry.attributes),
        "users": list(entry.users),
        "etag": entry.etag,
        "revisionId": entry.revision_id,
        "revisionCreateTime": entry.revision_create_time,
        "createTime": entry.create_time,
        "state": entry.state,
    }


def _entry_text(entry: LiveEntry, mask: PointerPatterns) -> Iterator[str]:
    yield _bold(str(entry.address))
    rows = [
        ("revision", f"{entry.revision_id}  {entry.revision_create_time}"),
        ("created", entry.create_time),
        ("etag", entry.etag),
        ("users", ", ".join(str(user) for user in entry.users) or "-"),
        ("attributes", json.dumps(dict(entry.attributes), ensure_ascii=False)),
    ]
    if entry.state != "ACTIVE":
        rows.append(("state", entry.state))
    for label, text in rows:
        yield f"{_dim(label.ljust(11))}{text}"
    yield ""
    yield _json(mask.mask(entry.value))


@click.command("get", short_help="Show one live entry (or config key) and its metadata.")
@click.argument("store", required=False, shell_complete=complete_stores)
@click.argument("key", required=False, shell_complete=complete_keys)
@click.option(
    "--scope",
    default="global",
    show_default=True,
    metavar="SCOPE",
    shell_complete=complete_scopes,
    help="Scope of the entry.",
)
@click.option("--revision", default=None, metavar="R", help="Read this revision.")
@click.option(
    "--at",
    "at_text",
    default=None,
    metavar="TIME",
    help="Read the value current at TIME (RFC 3339, a date, or an age such as 2h).",
)
@click.option("--ordered", is_flag=True, help="STORE is an ordered data store.")
@click.option(
    "--config",
    "config_key",
    default=None,
    metavar="KEY",
    help="Show the published Experience Configs key KEY instead (value, type, description, "
    "conditional values, experiment lock, staged draft).",
)
@_repository_option
@env_option
@format_option("text", "json")
@pass_app
def get(
    app: AppContext,
    store: str | None,
    key: str | None,
    scope: str,
    revision: str | None,
    at_text: str | None,
    ordered: bool,
    config_key: str | None,
    repository: str,
    env_name: str | None,
    output_format: str,
) -> None:
    """Show one live entry: its value and metadata (or an ordered entry's number).

    Parts of the value under the store's `sensitive` pointers (`_store.yaml`) show as
    "(sensitive)". With --config KEY: one published config key.
    """
    if config_key is not None:
        if store is not None or key is not None or revision or at_text or ordered:
            raise DsgitError("--config KEY shows a config key: give no STORE, KEY or entry options")
        with open_client(app.environment(env_name)) as client:
            lines = list(show_key(client, repository, config_key, as_json=output_format == "json"))
        _emit(iter(lines))
        return
    if store is None or key is None:
        raise click.UsageError("give STORE and KEY (or --config KEY)")
    if revision is not None and at_text is not None:
        raise DsgitError("give either --revision or --at, not both")
    if ordered and (revision is not None or at_text is not None):
        raise DsgitError("ordered data stores keep no revisions: --revision and --at do not apply")
    selection = browse.Selection(
        revision, browse.parse_time(at_text) if at_text is not None else None
    )
    env = app.environment(env_name)
    with open_client(env) as client:
        if ordered:
            found = browse.read_ordered_entry(client, store, key, scope)
            if output_format == "json":
                click.echo(_json(_ordered_json(found) | {"store": store}))
            else:
                _echo(_bold(str(found.address)))
                _echo(str(found.value))
            return
        entry = browse.read_entry(client, store, key, scope, selection)
    mask = sensitive_patterns(app.root, store, key)
    if output_format == "json":
        click.echo(_json(entry_json(entry, mask)))
    else:
        _emit(_entry_text(entry, mask))


# --- history ------------------------------------------------------------------------------------
def _revision_json(item: RevisionInfo) -> dict[str, Any]:
    return {
        "revisionId": item.revision_id,
        "revisionCreateTime": item.revision_create_time,
        "etag": item.etag,
        "state": item.state,
    }


@click.command("history", short_help="List the revisions of one live entry (or of configs).")
@click.argument("store", required=False, shell_complete=complete_stores)
@click.argument("key", required=False, shell_complete=complete_keys)
@click.option(
    "--scope",
    default="global",
    show_default=True,
    metavar="SCOPE",
    shell_complete=complete_scopes,
    help="Scope of the entry.",
)
@click.option(
    "--since",
    "since_text",
    default=None,
    metavar="TIME",
    help="Only revisions created at or after TIME (RFC 3339, a date, or an age such as 7d).",
)
@click.option(
    "--until",
    "until_text",
    default=None,
    metavar="TIME",
    help="Only revisions created at or before TIME.",
)
@click.option(
    "--configs",
    is_flag=True,
    help="List the published revisions of a configs repository instead (per-key changes).",
)
@click.option(
    "--config",
    "config_key",
    default=None,
    metavar="KEY",
    help="With --configs: only revisions that changed KEY, with its before and after.",
)
@_repository_option
@click.option(
    "--diff",
    "show_diff",
    is_flag=True,
    help="Show what each revision changed from the one before, by JSON pointer.",
)
@click.option(
    "--field",
    "field_pointer",
    default=None,
    metavar="POINTER",
    help="Only when the value at POINTER (e.g. /Data/Coins, @attributes/Tag, @users) "
    "changed, from what to what.",
)
@env_option
@format_option("text", "json")
@pass_app
def history(
    app: AppContext,
    store: str | None,
    key: str | None,
    scope: str,
    since_text: str | None,
    until_text: str | None,
    configs: bool,
    config_key: str | None,
    repository: str,
    show_diff: bool,
    field_pointer: str | None,
    env_name: str | None,
    output_format: str,
) -> None:
    """List the revisions of one entry (Open Cloud keeps them about 30 days).

    Read any of them with `dsgit get STORE KEY --revision R`. With --diff, each revision
    with what it changed from the one before (one read per revision); with --field POINTER,
    only the revisions where that field changed. Values under the store's `sensitive` and
    `encrypted` pointers show as "(sensitive)". With --configs: the published revisions of
    a configs repository (--config KEY: those that changed KEY).
    """
    since = browse.parse_time(since_text) if since_text is not None else None
    until = browse.parse_time(until_text) if until_text is not None else None
    if show_diff and field_pointer is not None:
        raise DsgitError("give either --diff or --field, not both")
    if show_diff or field_pointer is not None:
        from dsgit.cli.history_diff import show_history_changes

        if configs:
            raise DsgitError("--diff and --field read one entry's revisions: not with --configs")
        if store is None or key is None:
            raise click.UsageError("give STORE and KEY with --diff or --field")

        show_history_changes(
            app,
            app.environment(env_name),
            (store, key, scope),
            (since, until),
            field_pointer,
            as_json=output_format == "json",
        )
        return
    env = app.environment(env_name)
    if config_key is not None and not configs:
        raise DsgitError("--config KEY filters --configs: add --configs")
    if configs:
        if store is not None or key is not None:
            raise DsgitError("--configs lists a configs repository's revisions: give no STORE")
        with open_client(env) as client:
            lines, found = show_history(
                client,
                repository,
                key=config_key,
                since=since,
                until=until,
                as_json=output_format == "json",
            )
        if not found and output_format != "json":
            _echo(f"no revisions of {repository} in that period", err=True)
        _emit(iter(lines))
        return
    if store is None or key is None:
        raise click.UsageError("give STORE and KEY (or --configs)")
    with open_client(env) as client:
        revisions = browse.entry_history(client, store, key, scope, since=since, until=until)
    if output_format == "json":
        click.echo(_json([_revision_json(item) for item in revisions]))
        return
    if not revisions:
        _echo(f"no revisions of {store}/{scope}/{key} in that period", err=True)
        return
    width = max(len(item.revision_id) for item in revisions)
    _echo(_bold(f"{'REVISION'.ljust(width)}  {'CREATED'.ljust(30)}  STATE"))
    for item in revisions:
        _echo(
            f"{item.revision_id.ljust(width)}  {item.revision_create_time.ljust(30)}  {item.state}"
        )


COMMANDS = [ls, get, history]
