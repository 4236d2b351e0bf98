"""What a scan reads: selections (stores, scopes, keys) resolved into listing lanes.

A :class:`Selection` names stores (exact names or globs such as ``DATA/*``), scopes (``-``
for every scope of a standard store) and keys (a glob such as ``Player_*``, or a plain
prefix). Several selections over the same store and scope share one **lane**: one listing,
each key handed to the visitor once with the selections it matched. The literal start of a
key glob becomes the listing's ``id.startsWith`` filter, so ``Player_*`` lists only those keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from dsgit.model.entry import DEFAULT_SCOPE, RESERVED_STORE, StoreKind

__all__ = [
    "ALL_SCOPES",
    "Lane",
    "Selection",
    "StoreNames",
    "is_glob",
    "literal_prefix",
    "resolve_lanes",
]

ALL_SCOPES = "-"
_GLOB = re.compile(r"[*?\[]")


def is_glob(text: str) -> bool:
    return _GLOB.search(text) is not None


def literal_prefix(pattern: str) -> str:
    """The part of a glob before its first wildcard (``Player_*`` -> ``Player_``)."""
    match = _GLOB.search(pattern)
    return pattern if match is None else pattern[: match.start()]


@dataclass(frozen=True)
class Selection:
    """Entries a scan visits: stores, scopes and keys of one kind of store.

    ``stores`` are names or globs; ``scopes`` names (``-``: every scope, standard stores
    only); ``keys`` a glob over the key (None: every key) and ``prefix`` a plain prefix (both
    may be given: a key must match both). ``max_value`` (ordered stores) lists only entries
    whose value is at most that.
    """

    stores: tuple[str, ...]
    kind: StoreKind = StoreKind.STANDARD
    scopes: tuple[str, ...] = (DEFAULT_SCOPE,)
    keys: str | None = None
    prefix: str | None = None
    max_value: int | None = None

    def listing_prefix(self) -> str:
        """The ``id.startsWith`` filter the listing can use ("" for none)."""
        glob = literal_prefix(self.keys) if self.keys is not None else ""
        plain = self.prefix or ""
        # Both must hold: the longer one, when one extends the other.
        if glob.startswith(plain):
            return glob
        if plain.startswith(glob):
            return plain
        return ""  # they contradict each other: nothing matches, the key test says so

    def matches_key(self, key: str) -> bool:
        if self.prefix is not None and not key.startswith(self.prefix):
            return False
        return self.keys is None or fnmatchcase(key, self.keys)

    def matches_value(self, value: int) -> bool:
        return self.max_value is None or value <= self.max_value

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "stores": list(self.stores),
            "scopes": list(self.scopes),
            "keys": self.keys,
            "prefix": self.prefix,
            "max_value": self.max_value,
        }


@dataclass(frozen=True)
class Lane:
    """One listing: a store and scope, the selections (by index) that use it, its filter."""

    kind: StoreKind
    store: str
    scope: str
    selections: tuple[int, ...]
    prefix: str
    max_value: int | None

    @property
    def id(self) -> str:
        return f"{self.kind.value}\t{self.store}\t{self.scope}"


class StoreNames:
    """Lists standard data store names (``list_data_stores``), for store globs."""

    def __init__(self, names: Iterable[str]) -> None:
        self._names = sorted(set(names))

    def matching(self, pattern: str) -> list[str]:
        return [name for name in self._names if fnmatchcase(name, pattern)]


def _common_prefix(prefixes: Sequence[str]) -> str:
    if not prefixes:
        return ""
    first, last = min(prefixes), max(prefixes)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def resolve_lanes(selections: Sequence[Selection], names: StoreNames | None) -> list[Lane]:
    """The lanes of ``selections`` in a stable order (kind, store, scope).

    Store globs are matched against ``names`` (the standard stores' listing; Open Cloud cannot
    list ordered data stores, and DataStore2 names its ordered stores as its standard ones).
    dsgit's own ``_dsgit`` store is never scanned.
    """
    users: dict[tuple[StoreKind, str, str], list[int]] = {}
    for index, selection in enumerate(selections):
        if selection.kind is StoreKind.ORDERED and ALL_SCOPES in selection.scopes:
            raise ValueError("ordered data stores are listed one scope at a time (no '-')")
        stores: list[str] = []
        for pattern in selection.stores:
            if is_glob(pattern):
                if names is None:
                    raise ValueError(f"store pattern {pattern!r} needs the store listing")
                stores.extend(names.matching(pattern))
            else:
                stores.append(pattern)
        for store in stores:
            if store == RESERVED_STORE:
                continue
            for scope in selection.scopes:
                found = users.setdefault((selection.kind, store, scope), [])
                if index not in found:
                    found.append(index)
    lanes = []
    for (kind, store, scope), indices in sorted(users.items()):
        chosen = [selections[i] for i in indices]
        prefix = _common_prefix([s.listing_prefix() for s in chosen])
        limits = [s.max_value for s in chosen]
        bounded = [m for m in limits if m is not None]
        max_value = max(bounded) if len(bounded) == len(limits) else None
        lanes.append(Lane(kind, store, scope, tuple(indices), prefix, max_value))
    return _without_overlaps(lanes)


def _without_overlaps(lanes: list[Lane]) -> list[Lane]:
    """A store scanned with scope ``-`` covers its named scopes too: merge them into it."""
    every = {(lane.kind, lane.store): lane for lane in lanes if lane.scope == ALL_SCOPES}
    if not every:
        return lanes
    merged: dict[str, Lane] = {}
    for lane in lanes:
        whole = every.get((lane.kind, lane.store))
        if whole is None or lane.scope == ALL_SCOPES:
            merged.setdefault(lane.id, lane)
            continue
        current = merged.get(whole.id, whole)
        indices = tuple(dict.fromkeys((*current.selections, *lane.selections)))
        prefix = _common_prefix([current.prefix, lane.prefix])
        merged[whole.id] = Lane(whole.kind, whole.store, ALL_SCOPES, indices, prefix, None)
    return sorted(merged.values(), key=lambda lane: (lane.kind, lane.store, lane.scope))
