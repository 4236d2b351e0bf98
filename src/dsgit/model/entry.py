"""Entries as declared in the repository and as read live."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias

from dsgit.model.encoding import encode_segment

__all__ = [
    "DEFAULT_SCOPE",
    "RESERVED_STORE",
    "Address",
    "EntryData",
    "JSONValue",
    "LiveEntry",
    "LiveOrderedEntry",
    "StoreKind",
]

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"

DEFAULT_SCOPE = "global"

# dsgit's own data store in each universe (the apply lock lives there): never planned,
# imported or pruned.
RESERVED_STORE = "_dsgit"


class StoreKind(StrEnum):
    """Standard data stores hold JSON values with metadata; ordered ones hold integers."""

    STANDARD = "standard"
    ORDERED = "ordered"


@dataclass(frozen=True, order=True)
class Address:
    """One entry: kind, store, scope, key. ``str()`` gives the plan address.

    The plan address is ``store/scope/key`` with each part path-encoded (so a store name with
    ``/`` stays unambiguous), prefixed ``ordered:`` for ordered data stores.
    """

    kind: StoreKind
    store: str
    scope: str
    key: str

    def __str__(self) -> str:
        text = "/".join(encode_segment(part) for part in (self.store, self.scope, self.key))
        return f"ordered:{text}" if self.kind is StoreKind.ORDERED else text

    @classmethod
    def standard(cls, store: str, key: str, scope: str = DEFAULT_SCOPE) -> Address:
        return cls(StoreKind.STANDARD, store, scope, key)

    @classmethod
    def ordered(cls, store: str, key: str, scope: str = DEFAULT_SCOPE) -> Address:
        return cls(StoreKind.ORDERED, store, scope, key)

    @classmethod
    def parse(cls, text: str) -> Address:
        """Invert ``str()``. Raises ``ValueError`` on a malformed address."""
        from dsgit.model.encoding import decode_segment

        kind = StoreKind.STANDARD
        if text.startswith("ordered:"):
            kind, text = StoreKind.ORDERED, text[len("ordered:") :]
        parts = text.split("/")
        if len(parts) != 3:
            raise ValueError(f"address {text!r} is not store/scope/key")
        store, scope, key = (decode_segment(part) for part in parts)
        return cls(kind, store, scope, key)


@dataclass(frozen=True)
class EntryData:
    """What one write sets: the value and the metadata (omitted metadata is cleared on write).

    For ordered entries ``value`` is an int and ``attributes``/``users`` stay empty.
    """

    value: JSONValue
    attributes: Mapping[str, JSONValue] = field(default_factory=dict)
    users: tuple[int, ...] = ()


@dataclass(frozen=True)
class LiveEntry:
    """A standard entry as read from Open Cloud (one GET, or one revision of it)."""

    store: str
    scope: str
    key: str
    value: JSONValue
    attributes: Mapping[str, JSONValue]
    users: tuple[int, ...]
    etag: str
    revision_id: str
    revision_create_time: str
    create_time: str
    state: str = "ACTIVE"

    @property
    def address(self) -> Address:
        return Address(StoreKind.STANDARD, self.store, self.scope, self.key)

    @property
    def data(self) -> EntryData:
        return EntryData(self.value, self.attributes, self.users)


@dataclass(frozen=True)
class LiveOrderedEntry:
    """An ordered data store entry: an integer, no metadata, no revisions."""

    store: str
    scope: str
    key: str
    value: int

    @property
    def address(self) -> Address:
        return Address(StoreKind.ORDERED, self.store, self.scope, self.key)
