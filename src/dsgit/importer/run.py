"""``dsgit import``: adopt live entries into repository files (DESIGN.md §3).

Everything is read and every file's new text computed first; only then are files written, each
whole (temporary file + rename). A problem found while reading or encrypting therefore changes
nothing on disk. Files already holding the live data are not rewritten (byte for byte the same).
Import adopts and never deletes: files of entries that are not live are left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dsgit.crypto.keys import Keyring
from dsgit.errors import ConfigError, DsgitError, Location
from dsgit.importer.files import ordered_scope_text, standard_entry_text
from dsgit.importer.layout import ORDERED_DIR, entry_file, ordered_scope_file
from dsgit.importer.report import FileAction, FileResult, ImportReport
from dsgit.model.declaration import StorePolicy
from dsgit.model.encoding import decode_segment
from dsgit.model.entry import DEFAULT_SCOPE, LiveEntry, StoreKind
from dsgit.remote.api import OpenCloudApi
from dsgit.yamlio.atomic import write_atomic

__all__ = ["ImportOptions", "PolicySource", "import_live"]

PolicySource = Callable[[StoreKind, str], StorePolicy]
"""The policy of a store as ``_store.yaml`` declares it (the default policy when it has none)."""

ALL_SCOPES = "-"


@dataclass(frozen=True)
class ImportOptions:
    """Filters: exact store names (all standard stores when empty), one scope, a key prefix."""

    stores: tuple[str, ...] = ()
    scope: str | None = None
    prefix: str | None = None
    standard: bool = True
    ordered: bool = True
    dry_run: bool = False


@dataclass(frozen=True)
class _Planned:
    result: FileResult
    text: str | None


def _safe_path(root: Path, relative: PurePosixPath) -> Path:
    """``root/relative``, refusing a path that leaves the repository through a link."""
    path = root.joinpath(*relative.parts)
    if path.is_symlink() or not path.resolve().is_relative_to(root.resolve()):
        raise ConfigError(
            "is a link leaving the repository; import will not follow it",
            Location(relative.as_posix()),
        )
    return path


def _read(path: Path, relative: PurePosixPath) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid UTF-8: {exc.reason}", Location(relative.as_posix())) from None


def _action(existing: str | None, text: str | None) -> FileAction:
    if existing is None:
        return FileAction.CREATED
    return FileAction.UNCHANGED if text is None else FileAction.UPDATED


def _matches(key: str, options: ImportOptions) -> bool:
    return options.prefix is None or key.startswith(options.prefix)


def _standard_entries(
    api: OpenCloudApi, store: str, policy: StorePolicy, options: ImportOptions
) -> Iterator[LiveEntry]:
    scope = options.scope or ALL_SCOPES
    # With every scope listed at once, a server-side prefix could be read as "scope/key":
    # filter here instead.
    server_prefix = options.prefix if options.scope is not None else None
    requests = [
        (store, item.scope, item.key)
        for item in api.list_keys(store, scope, prefix=server_prefix)
        if not item.deleted
        and _matches(item.key, options)
        and (options.scope is not None or policy.scopes is None or item.scope in policy.scopes)
    ]
    found = [entry for _request, entry in api.get_entries(requests) if entry is not None]
    return iter(sorted(found, key=lambda entry: (entry.scope, entry.key)))


def _plan_standard(
    api: OpenCloudApi,
    root: Path,
    options: ImportOptions,
    policies: PolicySource,
    keyring: Keyring | None,
) -> list[_Planned]:
    stores = options.stores or tuple(sorted(info.id for info in api.list_data_stores()))
    planned: list[_Planned] = []
    for store in stores:
        policy = policies(StoreKind.STANDARD, store)
        for entry in _standard_entries(api, store, policy, options):
            relative = entry_file(entry.address)
            path = _safe_path(root, relative)
            existing = _read(path, relative)
            text = standard_entry_text(
                existing,
                entry.address,
                entry.value,
                entry.attributes,
                entry.users,
                filename=relative.as_posix(),
                encrypted=policy.for_key(entry.key).encrypted,
                keyring=keyring,
            )
            result = FileResult(
                relative.as_posix(),
                _action(existing, text),
                StoreKind.STANDARD,
                store,
                entry.scope,
                1,
            )
            planned.append(_Planned(result, text))
    return planned


def _declared_ordered_stores(root: Path) -> list[str]:
    folder = root / ORDERED_DIR
    if not folder.is_dir():
        return []
    names: list[str] = []
    for child in sorted(folder.iterdir()):
        if child.is_dir():
            try:
                names.append(decode_segment(child.name))
            except ValueError:
                continue
    return names


def _ordered_scopes(
    root: Path, store: str, policy: StorePolicy, options: ImportOptions
) -> list[str]:
    if options.scope is not None:
        return [options.scope]
    if policy.scopes is not None:
        return list(policy.scopes)
    folder = root / ordered_scope_file(store, DEFAULT_SCOPE).parent
    scopes: set[str] = {DEFAULT_SCOPE}
    if folder.is_dir():
        for child in folder.glob("*.yaml"):
            if child.name != "_store.yaml":
                try:
                    scopes.add(decode_segment(child.name[: -len(".yaml")]))
                except ValueError:
                    continue
    return sorted(scopes)


def _plan_ordered(
    api: OpenCloudApi, root: Path, options: ImportOptions, policies: PolicySource
) -> tuple[list[_Planned], list[str]]:
    notes: list[str] = []
    stores = list(options.stores) or _declared_ordered_stores(root)
    if not stores:
        notes.append(
            "ordered data stores cannot be listed through Open Cloud: name them with --store "
            "to import them"
        )
    planned: list[_Planned] = []
    for store in stores:
        policy = policies(StoreKind.ORDERED, store)
        for scope in _ordered_scopes(root, store, policy, options):
            relative = ordered_scope_file(store, scope)
            if relative.name == "_store.yaml":
                raise DsgitError(
                    f"ordered store {store!r}: scope {scope!r} cannot be stored as a file "
                    "(its name is the store settings file)"
                )
            entries = [
                (entry.key, entry.value)
                for entry in api.list_ordered(store, scope)
                if _matches(entry.key, options)
            ]
            path = _safe_path(root, relative)
            existing = _read(path, relative)
            if not entries and existing is None:
                continue
            text = ordered_scope_text(existing, entries, filename=relative.as_posix())
            result = FileResult(
                relative.as_posix(),
                _action(existing, text),
                StoreKind.ORDERED,
                store,
                scope,
                len(entries),
            )
            planned.append(_Planned(result, text))
    return planned, notes


def import_live(
    api: OpenCloudApi,
    root: Path,
    options: ImportOptions,
    policies: PolicySource,
    keyring: Keyring | None,
) -> ImportReport:
    """Adopt the live entries ``options`` select into files under ``root``; see the module doc."""
    planned: list[_Planned] = []
    notes: list[str] = []
    if options.standard:
        planned += _plan_standard(api, root, options, policies, keyring)
    if options.ordered:
        ordered, ordered_notes = _plan_ordered(api, root, options, policies)
        planned += ordered
        notes += ordered_notes
    if not options.dry_run:
        for item in planned:
            if item.text is not None:
                _write(root, item.result.path, item.text)
    return ImportReport(tuple(item.result for item in planned), options.dry_run, tuple(notes))


def _write(root: Path, relative: str, text: str) -> None:
    try:
        write_atomic(root / relative, text)
    except OSError as exc:
        raise ConfigError(
            f"cannot write: {exc.strerror or type(exc).__name__}", Location(relative)
        ) from None
