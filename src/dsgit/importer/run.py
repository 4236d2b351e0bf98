"""``dsgit import``: adopt live entries into repository files (DESIGN.md §3).

Everything is read and every file's new text computed first; only then are files written, each
whole (temporary file + rename). A problem found while reading or encrypting therefore changes
nothing on disk. Files already holding the live data are not rewritten (byte for byte the same).
Import adopts and never deletes: files of entries that are not live are left alone.

Each store import creates gets a ``_store.yaml`` with an explicit ``ownership`` (see
``store_settings``); a new store nobody decided for stops the import before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dsgit.crypto.keys import Keyring
from dsgit.crypto.walk import find_encrypted
from dsgit.errors import ConfigError, Location
from dsgit.importer.environments import EnvironmentPlacement, declared_ordered
from dsgit.importer.files import ordered_scope_text, standard_entry_text
from dsgit.importer.layout import schema_header
from dsgit.importer.ownership import SampledEntry, StoreOwnership
from dsgit.importer.report import FileAction, FileResult, ImportReport
from dsgit.importer.store_settings import (
    OwnershipChooser,
    decide_ownership,
    player_data_note,
    refuse_undecided,
    settings_file,
    settings_text,
)
from dsgit.model.declaration import Ownership, StorePolicy
from dsgit.model.encoding import decode_segment
from dsgit.model.entry import DEFAULT_SCOPE, RESERVED_STORE, LiveEntry, StoreKind
from dsgit.model.layout import ORDERED_DIR, STORE_FILE, entry_file, ordered_scope_file
from dsgit.remote.api import OpenCloudApi
from dsgit.yamlio.atomic import write_atomic
from dsgit.yamlio.document import load_document

__all__ = [
    "ImportOptions",
    "PendingImport",
    "PolicySource",
    "import_live",
    "read_import",
    "write_import",
]

PolicySource = Callable[[StoreKind, str], StorePolicy]
"""The policy of a store as ``_store.yaml`` declares it (the default policy when it has none)."""

ALL_SCOPES = "-"
_NAME_MAX = 255  # bytes in one file name on common file systems


@dataclass(frozen=True)
class ImportOptions:
    """Filters: exact store names (all standard stores when empty), one scope, a key prefix;
    ``ownership``: of new stores whose data does not look like player data (``--ownership``)."""

    stores: tuple[str, ...] = ()
    scope: str | None = None
    prefix: str | None = None
    standard: bool = True
    ordered: bool = True
    dry_run: bool = False
    ownership: Ownership | None = None
    placement: EnvironmentPlacement | None = None  # the environment imported, and the others


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


def _line_endings(path: Path, text: str | None) -> str | None:
    """``text`` with CRLF line endings when the file it replaces has them (a Windows checkout):
    otherwise every line of the file would change, not just the updated ones."""
    if text is None:
        return None
    try:
        crlf = b"\r\n" in path.read_bytes()
    except OSError:
        return text
    return text.replace("\n", "\r\n") if crlf else text


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


class _Planner:
    """Collects every file's new text (phase 1) before anything is written (phase 2)."""

    def __init__(
        self,
        api: OpenCloudApi,
        root: Path,
        options: ImportOptions,
        policies: PolicySource,
        keyring: Keyring | None,
    ) -> None:
        self.api, self.root, self.options = api, root, options
        self.policies, self.keyring = policies, keyring
        self.planned: list[_Planned] = []
        self.notes: list[str] = []
        self.samples: dict[tuple[StoreKind, str], list[SampledEntry]] = {}

    def sample(self, kind: StoreKind, store: str, entry: SampledEntry) -> None:
        self.samples.setdefault((kind, store), []).append(entry)

    def writable(self, relative: PurePosixPath, what: str) -> bool:
        too_long = [part for part in relative.parts if len(part.encode("utf-8")) > _NAME_MAX]
        if too_long:
            self.notes.append(
                f"skipped {what}: its file name would be longer than {_NAME_MAX} bytes "
                "once path-encoded"
            )
        return not too_long

    def representable(self, entry: LiveEntry) -> bool:
        """A live string that reads as an ``ENC[...]`` token cannot be written faithfully: the
        file would hold a token that plan decrypts (or rejects as malformed), not that text."""
        lookalikes = find_encrypted(entry.value)
        if lookalikes:
            where = ", ".join(repr(pointer) for pointer in lookalikes)
            self.notes.append(
                f"skipped entry {entry.address}: its live value holds text that reads as an "
                f"ENC[...] token at {where}, which a file cannot keep as plain text"
            )
        return not lookalikes

    def standard(self) -> None:
        api, options = self.api, self.options
        stores = options.stores or tuple(sorted(info.id for info in api.list_data_stores()))
        for store in stores:
            if store == RESERVED_STORE:
                self.notes.append(f"skipped {store}: dsgit's own store (the apply lock)")
                continue
            policy = self.policies(StoreKind.STANDARD, store)
            placement = options.placement
            others: tuple[str, ...] = ()
            if placement is not None:
                others = placement.others(StoreKind.STANDARD, store)
                if not self.exists_here(StoreKind.STANDARD, store, store):
                    continue
            for entry in _standard_entries(api, store, policy, options):
                relative = entry_file(entry.address)
                if not self.writable(relative, f"entry {entry.address}"):
                    continue
                if not self.representable(entry):
                    continue
                existing = _read(_safe_path(self.root, relative), relative)
                text = standard_entry_text(
                    existing,
                    entry.address,
                    entry.value,
                    entry.attributes,
                    entry.users,
                    filename=relative.as_posix(),
                    encrypted=policy.for_key(entry.key).encrypted,
                    keyring=self.keyring,
                    header=schema_header("entry", self.root, relative),
                    environment=placement.environment if placement is not None else None,
                    others=others,
                )
                text = _line_endings(_safe_path(self.root, relative), text)
                self.sample(
                    StoreKind.STANDARD, store, SampledEntry(entry.key, entry.value, entry.users)
                )
                result = FileResult(
                    relative.as_posix(),
                    _action(existing, text),
                    StoreKind.STANDARD,
                    store,
                    entry.scope,
                    1,
                )
                self.planned.append(_Planned(result, text))

    def exists_here(self, kind: StoreKind, store: str, label: str) -> bool:
        """False (with a note) for a store whose ``_store.yaml`` leaves out the environment
        imported: its files serve other environments only."""
        placement = self.options.placement
        allowed = placement.stores.get((kind, store)) if placement is not None else None
        if placement is None or allowed is None or placement.environment in allowed:
            return True
        self.notes.append(
            f"skipped {label}: its _store.yaml says it exists only in {', '.join(allowed)}, "
            f"not in {placement.environment}"
        )
        return False

    def drop_case_collisions(self) -> None:
        """Files whose paths differ only by letter case would overwrite each other on macOS and
        Windows checkouts (and fail validation): import neither, say which."""
        groups: dict[str, list[_Planned]] = {}
        for item in self.planned:
            groups.setdefault(item.result.path.casefold(), []).append(item)
        clashing = {id(item) for group in groups.values() if len(group) > 1 for item in group}
        for group in groups.values():
            if len(group) > 1:
                names = ", ".join(item.result.path for item in group)
                self.notes.append(f"skipped files that differ only by letter case: {names}")
        self.planned = [item for item in self.planned if id(item) not in clashing]


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
            if child.name != STORE_FILE:
                try:
                    scopes.add(decode_segment(child.name[: -len(".yaml")]))
                except ValueError:
                    continue
    return sorted(scopes)


def _keep_declared(
    planner: _Planner,
    existing: str,
    entries: list[tuple[str, int]],
    relative: PurePosixPath,
    others: tuple[str, ...],
) -> list[tuple[str, int]]:
    """Ordered entries have no per-environment values: a declared key whose live value
    differs keeps the declared one, which ``others`` see too (noted, not overwritten)."""
    declared = declared_ordered(load_document(existing, relative.as_posix()))
    differing = [key for key, number in entries if declared.get(key, number) != number]
    if not differing:
        return entries
    shown = ", ".join(repr(key) for key in differing[:5])
    more = f" and {len(differing) - 5} more" if len(differing) > 5 else ""
    planner.notes.append(
        f"kept the declared values of {shown}{more} in {relative.as_posix()}: they differ live, "
        f"but {', '.join(others)} use the same file and ordered entries have no "
        "per-environment values"
    )
    return [(key, declared.get(key, number)) for key, number in entries]


def _plan_ordered(planner: _Planner) -> None:
    api, root, options = planner.api, planner.root, planner.options
    stores = list(options.stores) or _declared_ordered_stores(root)
    if not stores:
        planner.notes.append(
            "ordered data stores cannot be listed through Open Cloud: name them with --store "
            "to import them"
        )
    placement = options.placement
    for store in stores:
        policy = planner.policies(StoreKind.ORDERED, store)
        others: tuple[str, ...] = ()
        if placement is not None:
            others = placement.others(StoreKind.ORDERED, store)
            if not planner.exists_here(StoreKind.ORDERED, store, f"ordered store {store!r}"):
                continue
        scopes = _ordered_scopes(root, store, policy, options)
        found = 0
        for scope in scopes:
            relative = ordered_scope_file(store, scope)
            if relative.name == STORE_FILE:
                planner.notes.append(
                    f"skipped scope {scope!r} of ordered store {store!r}: its file would be the "
                    "store's settings file"
                )
                continue
            if not planner.writable(relative, f"scope {scope!r} of ordered store {store!r}"):
                continue
            entries = [
                (entry.key, entry.value)
                for entry in api.list_ordered(store, scope)
                if _matches(entry.key, options)
            ]
            found += len(entries)
            for key, number in entries:
                planner.sample(StoreKind.ORDERED, store, SampledEntry(key, number))
            existing = _read(_safe_path(root, relative), relative)
            if not entries and existing is None:
                continue
            if others and existing is not None:
                entries = _keep_declared(planner, existing, entries, relative, others)
            text = ordered_scope_text(
                existing,
                entries,
                filename=relative.as_posix(),
                header=schema_header("ordered-scope", root, relative),
            )
            text = _line_endings(_safe_path(root, relative), text)
            result = FileResult(
                relative.as_posix(),
                _action(existing, text),
                StoreKind.ORDERED,
                store,
                scope,
                len(entries),
            )
            planner.planned.append(_Planned(result, text))
        if found and options.scope is None and policy.scopes is None:
            planner.notes.append(
                f"ordered store {store!r}: Open Cloud cannot list its scopes, so only "
                f"{', '.join(repr(s) for s in scopes)} were read; name others with --scope or "
                "`scopes:` in its _store.yaml"
            )


def _ownerships(
    planner: _Planner, choose: OwnershipChooser | None
) -> tuple[list[StoreOwnership], list[_Planned]]:
    """The ownership of every store import writes into, and the new ``_store.yaml`` files."""
    stores = sorted(
        {(item.result.kind, item.result.store) for item in planner.planned},
        key=lambda pair: (pair[0] is not StoreKind.STANDARD, pair[1]),
    )
    decisions: list[StoreOwnership] = []
    settings: list[_Planned] = []
    for kind, store in stores:
        samples = planner.samples.get((kind, store), [])
        relative = settings_file(kind, store)
        _safe_path(planner.root, relative)
        decision = decide_ownership(
            planner.root,
            kind,
            store,
            samples,
            declared=planner.policies(kind, store).ownership,
            flag=planner.options.ownership,
            choose=choose,
        )
        decisions.append(decision)
        note = player_data_note(decision, samples)
        if note is not None:
            planner.notes.append(note)
        if decision.written and decision.ownership is not None:
            schema = "store" if kind is StoreKind.STANDARD else "ordered-store"
            text = settings_text(decision, schema_header(schema, planner.root, relative))
            result = FileResult(relative.as_posix(), FileAction.CREATED, kind, store, "", 0)
            settings.append(_Planned(result, text))
    return decisions, settings


class PendingImport:
    """Everything read and every file's new text (phase 1), waiting for the stores' ownership
    and the writes (phase 2, :func:`write_import`). Holds no connection: phase 2 sends nothing.
    """

    def __init__(self, planner: _Planner) -> None:
        self._planner = planner

    def write(self, choose: OwnershipChooser | None) -> ImportReport:
        planner = self._planner
        decisions, settings = _ownerships(planner, choose)
        if not planner.options.dry_run:
            refuse_undecided(decisions)
            # Settings first: a crash between the two leaves a store observed with no entries,
            # never entries of player data without the settings that protect them.
            for item in (*settings, *planner.planned):
                if item.text is not None:
                    _write(planner.root, item.result.path, item.text)
        results = tuple(item.result for item in planner.planned)
        return ImportReport(
            results, planner.options.dry_run, tuple(planner.notes), tuple(decisions)
        )


def read_import(
    api: OpenCloudApi,
    root: Path,
    options: ImportOptions,
    policies: PolicySource,
    keyring: Keyring | None,
) -> PendingImport:
    """Phase 1: read the live entries ``options`` select and compute every file's new text."""
    planner = _Planner(api, root, options, policies, keyring)
    if options.standard:
        planner.standard()
    if options.ordered:
        _plan_ordered(planner)
    planner.drop_case_collisions()
    return PendingImport(planner)


def write_import(pending: PendingImport, choose: OwnershipChooser | None = None) -> ImportReport:
    """Phase 2: decide each new store's ownership and write the files (not in a dry run).

    ``choose`` is asked who owns each new store that does not look like player data when
    ``--ownership`` was not given (the CLI prompts on a terminal, after reading has finished).
    A new store left undecided raises :class:`ConfigError` before anything is written, except
    in a dry run.
    """
    return pending.write(choose)


def import_live(
    api: OpenCloudApi,
    root: Path,
    options: ImportOptions,
    policies: PolicySource,
    keyring: Keyring | None,
    choose: OwnershipChooser | None = None,
) -> ImportReport:
    """Adopt the live entries ``options`` select into files under ``root``; see the module doc.
    Both phases at once: :func:`read_import`, then :func:`write_import`."""
    return write_import(read_import(api, root, options, policies, keyring), choose)


def _write(root: Path, relative: str, text: str) -> None:
    try:
        write_atomic(root / relative, text)
    except OSError as exc:
        raise ConfigError(
            f"cannot write: {exc.strerror or type(exc).__name__}", Location(relative)
        ) from None
