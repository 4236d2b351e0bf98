"""Shell completion of values: environment names, plan files, stores and plan addresses.

Each function is a click ``shell_complete=`` callback. They run while the user presses Tab,
so they read as little as they can (``dsgit.yaml``'s ``environments``, folder names under
``datastores/`` and ``ordered/``), never touch the network, and never fail: a repository that
cannot be found or read completes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import yaml
from click.shell_completion import CompletionItem

from dsgit.config import CONFIG_FILE, find_root
from dsgit.errors import DsgitError
from dsgit.model.encoding import decode_segment, encode_segment
from dsgit.model.layout import DATASTORES_DIR, ORDERED_DIR

__all__ = [
    "complete_addresses",
    "complete_apply_ids",
    "complete_environments",
    "complete_keys",
    "complete_migrations",
    "complete_plan_files",
    "complete_scopes",
    "complete_stores",
]

_DATASTORES = DATASTORES_DIR
_ORDERED = ORDERED_DIR
_ORDERED_PREFIX = "ordered:"  # how plan addresses name ordered stores (plan/targets.py)
_PREIMAGES = "audit/preimages"  # one folder per apply id (apply/preimages.py)
_MAX_YAML_BYTES = 4 * 1024 * 1024  # a Tab press must stay quick


def _start(ctx: click.Context) -> Path:
    """Where the command would run: ``-C DIR`` when given on the line, else the cwd."""
    directory = ctx.find_root().params.get("directory")
    return Path(directory) if directory else Path.cwd()


def _root(ctx: click.Context) -> Path | None:
    try:
        return find_root(_start(ctx))
    except (DsgitError, OSError):
        return None


def _folders(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as listing:
            return sorted(
                item.name
                for item in listing
                if item.is_dir(follow_symlinks=False) and not item.name.startswith(".")
            )
    except OSError:
        return []


def _files(folder: Path, suffix: str) -> list[str]:
    try:
        with os.scandir(folder) as listing:
            return sorted(
                item.name[: -len(suffix)]
                for item in listing
                if item.is_file(follow_symlinks=False)
                and item.name.endswith(suffix)
                and not item.name.startswith(("_", "."))
            )
    except OSError:
        return []


def _load_yaml(path: Path) -> Any:
    """The data of a small YAML file, or None: unreadable, too large, invalid, or using
    aliases (which could expand without bound; the scan that finds them expands nothing)."""
    try:
        if path.stat().st_size > _MAX_YAML_BYTES:
            return None
        text = path.read_text(encoding="utf-8")
        if any(isinstance(token, yaml.AliasToken) for token in yaml.scan(text, yaml.SafeLoader)):
            return None
        return yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def _decoded(segment: str) -> str | None:
    try:
        return decode_segment(segment)
    except ValueError:
        return None


def complete_environments(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The environments of ``dsgit.yaml``, with their ``description`` as help."""
    root = _root(ctx)
    if root is None:
        return []
    data = _load_yaml(root / CONFIG_FILE)
    environments = data.get("environments") if isinstance(data, dict) else None
    if not isinstance(environments, dict):
        return []
    items = []
    for name, body in environments.items():
        if not isinstance(name, str) or not name.startswith(incomplete):
            continue
        description = body.get("description") if isinstance(body, dict) else None
        help_text = description if isinstance(description, str) else None
        items.append(CompletionItem(name, help=help_text))
    return items


def complete_plan_files(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """``*.json`` files, and folders to descend into, starting with ``incomplete``."""
    head, _, prefix = incomplete.rpartition("/")
    folder = _start(ctx) / head if head or incomplete.startswith("/") else _start(ctx)
    if incomplete.startswith("/") and not head:
        folder = Path("/")
    lead = f"{head}/" if head or incomplete.startswith("/") else ""
    items: list[CompletionItem] = []
    try:
        listing = sorted(os.scandir(folder), key=lambda item: item.name)
    except OSError:
        return []
    for item in listing:
        if not item.name.startswith(prefix) or (item.name.startswith(".") and not prefix):
            continue
        if item.is_dir():
            items.append(CompletionItem(f"{lead}{item.name}/", help="folder"))
        elif item.name.endswith(".json") and item.is_file():
            items.append(CompletionItem(f"{lead}{item.name}"))
    return items


def _store_names(root: Path, top: str) -> list[str]:
    return [name for name in map(_decoded, _folders(root / top)) if name is not None]


def complete_stores(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Store names declared in the repository (folders under ``datastores/``, and under
    ``ordered/`` for commands given ``--ordered`` or ``--ordered-only``)."""
    root = _root(ctx)
    if root is None:
        return []
    kinds, ordered = ctx.params.get("kinds"), ctx.params.get("ordered")
    if ordered or kinds == "ordered":
        tops = [_ORDERED]
    elif kinds == "standard" or "ordered" in ctx.params:  # a command whose STORE is standard
        tops = [_DATASTORES]  # unless --ordered is given
    else:
        tops = [_DATASTORES, _ORDERED]
    names = {name for top in tops for name in _store_names(root, top)}
    return [CompletionItem(name) for name in sorted(names) if name.startswith(incomplete)]


def complete_addresses(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Plan addresses as ``--target``/``--exclude`` match them (``store/scope/key``, each part
    path-encoded; ``ordered:store/scope/key``), one level at a time from the repository's
    folders: a store, then its scopes, then its keys."""
    root = _root(ctx)
    if root is None:
        return []
    parts = incomplete.split("/")
    if len(parts) == 1:
        stores = [f"{store}/" for store in _folders(root / _DATASTORES)]
        stores += [f"{_ORDERED_PREFIX}{store}/" for store in _folders(root / _ORDERED)]
        return [CompletionItem(store) for store in stores if store.startswith(incomplete)]
    store = parts[0]
    ordered = store.startswith(_ORDERED_PREFIX)
    folder = (
        root / _ORDERED / store.removeprefix(_ORDERED_PREFIX)
        if ordered
        else root / _DATASTORES / store
    )
    if len(parts) == 2:
        scopes = _files(folder, ".yaml") if ordered else _folders(folder)
        candidates = [f"{store}/{scope}/" for scope in scopes]
    elif len(parts) == 3 and not ordered:
        candidates = [f"{store}/{parts[1]}/{key}" for key in _files(folder / parts[1], ".yaml")]
    elif len(parts) == 3:
        candidates = [f"{store}/{parts[1]}/{key}" for key in _ordered_keys(folder / parts[1])]
    else:
        return []
    return [CompletionItem(text) for text in candidates if text.startswith(incomplete)]


def _ordered_keys(scope_file_stem: Path) -> list[str]:
    data = _load_yaml(scope_file_stem.with_name(scope_file_stem.name + ".yaml"))
    if not isinstance(data, dict):
        return []
    return sorted(encode_segment(str(key)) for key in data)


def _store_folder(ctx: click.Context, root: Path) -> tuple[Path, bool] | None:
    """The folder of the STORE already on the line, and whether it is an ordered store."""
    store = ctx.params.get("store")
    if store is None and ctx.args:
        # completing an option's value (`get S K --scope <Tab>`): click stops parsing at the
        # option that lacks its value and leaves the positional words unassigned in ctx.args
        store = ctx.args[0]
    if not isinstance(store, str) or not store:
        return None
    ordered = bool(ctx.params.get("ordered"))
    return root / (_ORDERED if ordered else _DATASTORES) / encode_segment(store), ordered


def complete_scopes(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The scopes the repository declares for the STORE on the line."""
    root = _root(ctx)
    found = _store_folder(ctx, root) if root is not None else None
    if found is None:
        return []
    folder, ordered = found
    segments = _files(folder, ".yaml") if ordered else _folders(folder)
    names = [name for name in map(_decoded, segments) if name is not None]
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def complete_keys(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """The keys the repository declares for the STORE on the line, in its ``--scope``."""
    root = _root(ctx)
    found = _store_folder(ctx, root) if root is not None else None
    if found is None:
        return []
    folder, ordered = found
    scope = ctx.params.get("scope")
    scope_segment = encode_segment(scope if isinstance(scope, str) and scope else "global")
    if ordered:
        keys = [_decoded(key) for key in _ordered_keys(folder / scope_segment)]
    else:
        keys = [_decoded(key) for key in _files(folder / scope_segment, ".yaml")]
    return [CompletionItem(key) for key in keys if key is not None and key.startswith(incomplete)]


def complete_apply_ids(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Apply ids that kept pre-images (``audit/preimages/<id>``), newest first."""
    root = _root(ctx)
    if root is None:
        return []
    ids = sorted(_folders(root / _PREIMAGES), reverse=True)  # ids start with their UTC time
    return [CompletionItem(apply_id) for apply_id in ids if apply_id.startswith(incomplete)]


def complete_migrations(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Migration ids (``migrations/<id>.yaml``)."""
    root = _root(ctx)
    if root is None:
        return []
    ids = sorted({*_files(root / "migrations", ".yaml"), *_files(root / "migrations", ".yml")})
    return [CompletionItem(name) for name in ids if name.startswith(incomplete)]
