"""The declaration slice a plan depends on: the inputs its changes and diagnostics read.

A plan is stale when what it was computed from changed, not when anything in the repository
did: with several pull requests open, merging one must not force the others to plan again.
The slice of a plan is, for every change and diagnostic it holds:

- the declared entry at the change's address (and at the address it was ``moved_from``), or
  its absence (a prune delete depends on the file staying absent);
- the settings of the entry's store (``_store.yaml``: ownership, prune, schema, pointers,
  suppressions...), or their absence;
- the value schema the store names for that key, and every schema document its ``$ref``
  reach;
- every declaration file a diagnostic names;
- the approval policy files (``policies/approvals.yaml``), whatever the plan holds.

Each input is digested on its own (entries and store settings by content, so comments and
layout do not count; schemas by their parsed document; policy files by their bytes), and the
slice digest covers them all. Apply recomputes the slice from the plan's changes against the
declaration it finds (never trusting the plan's list of inputs) and names each input whose
digest differs. Pure: no I/O.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from urllib.parse import quote, urldefrag, urljoin

from dsgit.model.declaration import Declaration, DeclaredEntry, StoreDeclaration
from dsgit.model.entry import Address, JSONValue, StoreKind
from dsgit.plan.digest import canonical_json, sha256_digest
from dsgit.plan.model import Change, Diagnostic

__all__ = [
    "ABSENT",
    "ChangedInput",
    "DeclarationSlice",
    "InputKind",
    "SliceInput",
    "changed_inputs",
    "slice_of",
]

ABSENT = "absent"  # the digest of an input that does not exist (no file, no store settings)


class InputKind(StrEnum):
    """What one slice input is."""

    ENTRY = "entry"  # one declared entry, named by its plan address
    STORE = "store"  # one store's settings, named "standard:NAME" / "ordered:NAME"
    SCHEMA = "schema"  # one schema document, named by its repository path
    FILE = "file"  # a policy file or another file a diagnostic names, by repository path


@dataclass(frozen=True, order=True)
class SliceInput:
    """One thing a plan read, with the file a reviewer would look at (None when there is none,
    e.g. a store without ``_store.yaml``) and ``sha256:<hex>`` of its content, or ``absent``."""

    kind: InputKind
    name: str
    file: str | None
    digest: str


@dataclass(frozen=True)
class DeclarationSlice:
    """The inputs of one plan, sorted, and the digest over all of them."""

    inputs: tuple[SliceInput, ...]
    digest: str

    @classmethod
    def of(cls, inputs: Iterable[SliceInput]) -> DeclarationSlice:
        ordered = tuple(sorted(set(inputs)))
        rows = [[item.kind.value, item.name, item.digest] for item in ordered]
        return cls(ordered, sha256_digest(canonical_json(rows)))

    def by_key(self) -> dict[tuple[InputKind, str], SliceInput]:
        return {(item.kind, item.name): item for item in self.inputs}


def _digest(value: object) -> str:
    return sha256_digest(canonical_json(value))


def _store_name(kind: StoreKind, name: str) -> str:
    return f"{kind.value}:{name}"


def _entry_input(address: Address, entry: DeclaredEntry | None) -> SliceInput:
    if entry is None:
        return SliceInput(InputKind.ENTRY, str(address), None, ABSENT)
    data = entry.data
    body: list[JSONValue] = [
        data.value,
        dict(data.attributes),
        list(data.users),
        str(entry.moved_from) if entry.moved_from is not None else None,
        [[s.code, s.reason, s.count] for s in entry.suppress],
    ]
    return SliceInput(InputKind.ENTRY, str(address), entry.file, _digest(body))


def _store_input(kind: StoreKind, name: str, store: StoreDeclaration | None) -> SliceInput:
    label = _store_name(kind, name)
    if store is None:
        return SliceInput(InputKind.STORE, label, None, ABSENT)
    policy = asdict(store.policy)
    for suppression in policy["suppress"]:
        suppression.pop("file", None)
        suppression.pop("line", None)
    return SliceInput(InputKind.STORE, label, store.file, _digest(policy))


class _Schemas:
    """The declaration's schema documents, by path and by the URI a ``$ref`` resolves to."""

    def __init__(self, documents: Mapping[str, JSONValue]) -> None:
        self.documents = documents
        self.by_uri: dict[str, str] = {}
        for path, document in documents.items():
            self.by_uri[self.file_uri(path)] = path
            identifier = document.get("$id") if isinstance(document, dict) else None
            if isinstance(identifier, str):
                self.by_uri[urldefrag(identifier).url] = path

    @staticmethod
    def file_uri(path: str) -> str:
        return "file:///" + quote(path)

    def reach(self, reference: str) -> list[str]:
        """The document a store's ``schema:`` names and every one its ``$ref`` reach."""
        start = reference.partition("#")[0]
        found: list[str] = []
        pending = [start]
        while pending:
            path = pending.pop()
            if path in found:
                continue
            found.append(path)
            document = self.documents.get(path)
            if document is None:
                continue
            identifier = document.get("$id") if isinstance(document, dict) else None
            base = identifier if isinstance(identifier, str) else self.file_uri(path)
            for ref in _refs(document):
                target = self.by_uri.get(urldefrag(urljoin(base, ref)).url)
                if target is not None and target not in found:
                    pending.append(target)
        return found

    def input(self, path: str) -> SliceInput:
        document = self.documents.get(path)
        digest = ABSENT if document is None else _digest(document)
        return SliceInput(InputKind.SCHEMA, path, path, digest)


def _refs(node: JSONValue) -> Iterable[str]:
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for name, child in item.items():
                if name == "$ref" and isinstance(child, str):
                    yield child
                else:
                    pending.append(child)
        elif isinstance(item, list):
            pending.extend(item)


def _declared_files(declaration: Declaration) -> dict[str, list[SliceInput]]:
    """Inputs by the file that holds them, for diagnostics that name only a file."""
    by_file: dict[str, list[SliceInput]] = {}
    for (kind, name), store in declaration.stores.items():
        if store.file is not None:
            by_file.setdefault(store.file, []).append(_store_input(kind, name, store))
        for entry in store.entries.values():
            by_file.setdefault(entry.file, []).append(_entry_input(entry.address, entry))
    return by_file


class _Collector:
    def __init__(self, declaration: Declaration, policies: Mapping[str, str]) -> None:
        self.declaration = declaration
        self.policies = policies
        self.schemas = _Schemas(declaration.schemas)
        self.found: set[SliceInput] = set()
        self._by_file: dict[str, list[SliceInput]] | None = None

    def address(self, address: Address) -> None:
        self.found.add(_entry_input(address, self.declaration.entry(address)))
        store = self.declaration.stores.get((address.kind, address.store))
        self.found.add(_store_input(address.kind, address.store, store))
        if store is None:
            return
        reference = store.policy.for_key(address.key).schema
        if reference is not None:
            self.found.update(self.schemas.input(path) for path in self.schemas.reach(reference))

    def store(self, label: str) -> None:
        kind_text, _, name = label.partition(":")
        try:
            kind = StoreKind(kind_text)
        except ValueError:
            return
        store = self.declaration.stores.get((kind, name))
        self.found.add(_store_input(kind, name, store))
        if store is not None and store.policy.schema is not None:
            reach = self.schemas.reach(store.policy.schema)
            self.found.update(self.schemas.input(path) for path in reach)

    def file(self, path: str) -> None:
        if path in self.policies:
            return
        if self._by_file is None:
            self._by_file = _declared_files(self.declaration)
        if path in self.declaration.schemas:
            self.found.add(self.schemas.input(path))
        self.found.update(self._by_file.get(path, ()))

    def diagnostic(self, diag: Diagnostic) -> None:
        if diag.address is not None:
            with contextlib.suppress(ValueError):  # a plan-level pseudo address
                self.address(Address.parse(diag.address))
        if diag.store is not None:
            self.store(diag.store)
        if diag.file is not None:
            self.file(diag.file)


def slice_of(
    changes: Iterable[Change],
    diagnostics: Iterable[Diagnostic],
    declaration: Declaration,
    policies: Mapping[str, str],
) -> DeclarationSlice:
    """The slice of a plan with ``changes`` and plan-level ``diagnostics``.

    ``policies`` maps each approval policy file's repository path to ``sha256:<hex>`` of its
    bytes, or ``absent``; every plan depends on all of them.
    """
    collect = _Collector(declaration, policies)
    for change in changes:
        collect.address(change.address)
        if change.moved_from is not None:
            collect.address(change.moved_from)
        for diag in change.diagnostics:
            collect.diagnostic(diag)
    for diag in diagnostics:
        collect.diagnostic(diag)
    for path, digest in policies.items():
        collect.found.add(SliceInput(InputKind.FILE, path, path, digest))
    return DeclarationSlice.of(collect.found)


@dataclass(frozen=True)
class ChangedInput:
    """One input whose digest differs: as the plan recorded it and as it is now (None when the
    one side does not list it)."""

    before: SliceInput | None
    after: SliceInput | None

    @property
    def kind(self) -> InputKind:
        return (self.after or self.before or _NOWHERE).kind

    @property
    def name(self) -> str:
        return (self.after or self.before or _NOWHERE).name

    @property
    def file(self) -> str | None:
        """The file to look at: where it is now, else where it was."""
        for side in (self.after, self.before):
            if side is not None and side.file is not None:
                return side.file
        return None

    @property
    def removed(self) -> bool:
        return self.after is not None and self.after.digest == ABSENT

    @property
    def in_both(self) -> bool:
        return self.before is not None and self.after is not None


_NOWHERE = SliceInput(InputKind.FILE, "", None, ABSENT)


def changed_inputs(planned: DeclarationSlice, current: DeclarationSlice) -> list[ChangedInput]:
    """The inputs whose digest differs between the plan's slice and the current one."""
    before = planned.by_key()
    after = current.by_key()
    changed: list[ChangedInput] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old is not None and new is not None and old.digest == new.digest:
            continue
        changed.append(ChangedInput(old, new))
    return changed
