"""Entries as declared in the repository and as read live."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, TypeAlias

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


class StoreKind(str):
    """The name of a resource kind: ``standard`` and ``ordered`` data stores, ``configs``...

    Open, not an enum: a kind module in :mod:`dsgit.kinds` defines its name with
    :meth:`define`, and nothing here changes. Names are interned, so ``kind is
    StoreKind.ORDERED`` holds for every ordered address; ``StoreKind(text)`` looks a defined
    name up and raises ``ValueError`` for any other.
    """

    STANDARD: ClassVar[StoreKind]
    ORDERED: ClassVar[StoreKind]
    _defined: ClassVar[dict[str, StoreKind]] = {}

    def __new__(cls, name: str) -> StoreKind:
        found = cls._defined.get(name)
        if found is None:
            raise ValueError(f"{name!r} is not a resource kind")
        return found

    @classmethod
    def define(cls, name: str) -> StoreKind:
        """The kind called ``name`` (lower-case letters, digits and ``-``), defined once."""
        found = cls._defined.get(name)
        if found is None:
            if not _KIND_NAME.fullmatch(name):
                raise ValueError(f"{name!r} cannot name a resource kind")
            found = str.__new__(cls, name)
            cls._defined[name] = found
        return found

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"StoreKind({self.value!r})"

    def __reduce__(self) -> tuple[type[StoreKind], tuple[str]]:
        return (StoreKind, (self.value,))


_KIND_NAME = re.compile(r"[a-z][a-z0-9-]*")
StoreKind.STANDARD = StoreKind.define("standard")
StoreKind.ORDERED = StoreKind.define("ordered")


@dataclass(frozen=True, order=True)
class Address:
    """One resource: kind, store, scope, key. ``str()`` gives the plan address.

    The plan address is ``store/scope/key`` with each part path-encoded (so a store name with
    ``/`` stays unambiguous), prefixed ``<kind>:`` for every kind but standard data stores
    (``ordered:Wins/global/alice``). Kinds without scopes (a configs repository holds keys
    directly) have ``scope == ""`` and the address ``<kind>:store/key``. ``:`` is always
    encoded in a part, so the prefix cannot be mistaken for one.
    """

    kind: StoreKind
    store: str
    scope: str
    key: str

    def __str__(self) -> str:
        parts = (self.store, self.scope, self.key) if self.scope else (self.store, self.key)
        text = "/".join(encode_segment(part) for part in parts)
        return text if self.kind is StoreKind.STANDARD else f"{self.kind.value}:{text}"

    @classmethod
    def standard(cls, store: str, key: str, scope: str = DEFAULT_SCOPE) -> Address:
        return cls(StoreKind.STANDARD, store, scope, key)

    @classmethod
    def ordered(cls, store: str, key: str, scope: str = DEFAULT_SCOPE) -> Address:
        return cls(StoreKind.ORDERED, store, scope, key)

    @classmethod
    def parse(cls, text: str) -> Address:
        """Invert ``str()``. Raises ``ValueError`` on a malformed address or unknown kind."""
        from dsgit.model.encoding import decode_segment

        kind = StoreKind.STANDARD
        prefix, colon, rest = text.partition(":")
        if colon and "/" not in prefix:
            kind, text = StoreKind(prefix), rest
        parts = text.split("/")
        if len(parts) == 2:
            store, key = (decode_segment(part) for part in parts)
            return cls(kind, store, "", key)
        if len(parts) != 3:
            raise ValueError(f"address {text!r} is not store/scope/key (or store/key)")
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
