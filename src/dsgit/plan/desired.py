"""The desired side of a plan: what each address should hold, whatever it came from.

``dsgit plan`` builds it from the repository's :class:`Declaration`
(:func:`desired_from_declaration`); undo commands build it from pre-images, an old commit or
point-in-time reads. For every address the desired state is a :class:`DesiredEntry` (write
this), a :class:`Removal` (this must not exist) or ``None`` (same as ``Removal()``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dsgit.errors import ConfigError
from dsgit.model.declaration import (
    Declaration,
    SourceInfo,
    StorePolicy,
    Suppression,
)
from dsgit.model.entry import Address, EntryData, JSONValue, StoreKind
from dsgit.model.pointers import format_pointer
from dsgit.model.sealed import is_encrypted
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.model import Diagnostic

__all__ = [
    "Decrypt",
    "DesiredEntry",
    "DesiredState",
    "Removal",
    "StoreSpec",
    "desired_from_declaration",
    "has_ciphertext",
]

# Decrypts every ENC[...] token of a value found at an address; raises ConfigError on failure.
Decrypt = Callable[[Address, JSONValue], JSONValue]


@dataclass(frozen=True)
class DesiredEntry:
    """What one address should hold.

    ``data`` is written as is (``ENC[...]`` tokens stay ciphertext in the plan); ``plain`` is
    the decrypted form compared with live values (None: ``data`` has no ciphertext).
    ``problem`` is set when the entry cannot be planned (its ciphertext cannot be read).
    """

    address: Address
    data: EntryData
    policy: StorePolicy = field(default_factory=StorePolicy)
    plain: EntryData | None = None
    file: str | None = None
    line: int | None = None
    moved_from: Address | None = None
    suppress: tuple[Suppression, ...] = ()
    reason: str | None = None
    problem: Diagnostic | None = None

    @property
    def compare_data(self) -> EntryData:
        return self.plain if self.plain is not None else self.data


@dataclass(frozen=True)
class Removal:
    """The address must not exist (undo of a create, retention, erasure)."""

    reason: str = "absent in the desired state"
    suppress: tuple[Suppression, ...] = ()


@dataclass(frozen=True)
class StoreSpec:
    """A store planning manages: its policy and the scopes to list (for prune and counts)."""

    kind: StoreKind
    name: str
    policy: StorePolicy = field(default_factory=StorePolicy)
    scopes: tuple[str, ...] = ()
    file: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind.value}:{self.name}"


@dataclass(frozen=True)
class DesiredState:
    """Desired entries by address, the managed stores, and where they came from."""

    entries: Mapping[Address, DesiredEntry | Removal | None]
    stores: Mapping[tuple[StoreKind, str], StoreSpec]
    source: SourceInfo = field(default_factory=lambda: SourceInfo(None, True, ""))

    def policy(self, address: Address) -> StorePolicy:
        """The effective policy of any address (a store without spec is owned, no prune)."""
        spec = self.stores.get((address.kind, address.store))
        base = spec.policy if spec is not None else StorePolicy()
        return base.for_key(address.key)


def has_ciphertext(value: JSONValue) -> bool:
    if is_encrypted(value):
        return True
    if isinstance(value, dict):
        return any(has_ciphertext(item) for item in value.values())
    if isinstance(value, list):
        return any(has_ciphertext(item) for item in value)
    return False


def _first_token(value: JSONValue, path: tuple[str, ...] = ()) -> str | None:
    if is_encrypted(value):
        return format_pointer(path)
    items: list[tuple[str, JSONValue]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = [(str(i), item) for i, item in enumerate(value)]
    for name, item in items:
        found = _first_token(item, (*path, name))
        if found is not None:
            return found
    return None


def _plain(
    address: Address, data: EntryData, decrypt: Decrypt | None, file: str, line: int
) -> tuple[EntryData | None, Diagnostic | None]:
    if not has_ciphertext(data.value):
        return None, None
    if decrypt is None:
        return None, diagnostic(
            DiagnosticCode.ENCRYPTED_UNCOMPARABLE,
            f"{address}: holds encrypted values (at {_first_token(data.value)}) and no "
            "encryption key is available to compare them with the live value",
            address=str(address),
            file=file,
            line=line,
        )
    try:
        value = decrypt(address, data.value)
    except ConfigError as exc:
        return None, diagnostic(
            DiagnosticCode.ENCRYPTED_UNCOMPARABLE,
            f"{address}: {exc}",
            address=str(address),
            file=file,
            line=line,
        )
    return EntryData(value, data.attributes, data.users), None


def desired_from_declaration(
    declaration: Declaration, *, decrypt: Decrypt | None = None
) -> DesiredState:
    """Every declared entry, with its effective policy; every declared store as a spec."""
    entries: dict[Address, DesiredEntry | Removal | None] = {}
    stores: dict[tuple[StoreKind, str], StoreSpec] = {}
    for (kind, name), store in declaration.stores.items():
        stores[(kind, name)] = StoreSpec(
            kind, name, store.policy, store.managed_scopes(), store.file
        )
        for declared in store.entries.values():
            policy = store.policy.for_key(declared.address.key)
            plain, problem = _plain(
                declared.address, declared.data, decrypt, declared.file, declared.line
            )
            entries[declared.address] = DesiredEntry(
                address=declared.address,
                data=declared.data,
                policy=policy,
                plain=plain,
                file=declared.file,
                line=declared.line,
                moved_from=declared.moved_from,
                suppress=declared.suppress,
                problem=problem,
            )
    return DesiredState(entries, stores, declaration.source)
