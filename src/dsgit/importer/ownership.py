"""Who owns a store import creates: player data is ``observed``, anything else is the user's call.

Game servers write player saves; if import declared them ``owned`` (git wins), the next plan would
write the imported snapshot back over every save that moved on since. So a store whose live data
looks like player data is imported ``observed`` whatever ``--ownership`` says, and the reason is
reported. The signals, each enough on its own:

- ProfileService / ProfileStore saves: a value that is an object with ``Data`` and ``MetaData``;
- DataStore2's per-player stores: a store named ``<name>/<user id>`` (``DATA/12345``, its
  standard store and its ordered twin);
- keys that embed a user id (``Player_12345``, ``user/45348281``, ``uid-7``, ``12345678``);
- entries that carry ``users`` metadata (the user ids a GDPR erasure would look for).

This module is pure: it looks at names and values already read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from dsgit.model.declaration import Ownership
from dsgit.model.entry import JSONValue, StoreKind

__all__ = [
    "OwnershipSource",
    "SampledEntry",
    "StoreOwnership",
    "player_data_reason",
]

_DATASTORE2_NAME = re.compile(r"^.+/\d+$")
_USER_WORD = r"(?:player|plr|user|usr|uid|profile|member|account)"
_USER_KEY = re.compile(
    rf"^(?:[A-Za-z]*{_USER_WORD}[A-Za-z]*)[\s_:/.#-]?\d+$"  # Player_1, user/45348281, Player12
    r"|^\d{4,}$"  # a bare user id (ids below 1000 are Roblox's own accounts)
    rf"|^\d+[\s_:/.#-]{_USER_WORD}[A-Za-z]*$",  # 12345_player
    re.IGNORECASE,
)


class OwnershipSource(StrEnum):
    """Why a store got its ownership."""

    DETECTED = "detected"  # its data looks like player data: observed
    FLAG = "flag"  # --ownership
    CHOSEN = "chosen"  # answered at the terminal prompt
    EXISTING = "existing"  # the store's _store.yaml was already there
    DEFAULT = "default"  # the store's folder was there without a _store.yaml: owned by default
    UNDECIDED = "undecided"  # a new store nobody chose for (dry run only)


@dataclass(frozen=True)
class SampledEntry:
    """What classification looks at for one live entry (ordered entries: value only)."""

    key: str
    value: JSONValue
    users: tuple[int, ...] = ()


@dataclass(frozen=True)
class StoreOwnership:
    """The ownership import gives one store and why; ``settings_file`` is its ``_store.yaml``.

    ``written`` is True when this import creates the ``_store.yaml`` (or would, in a dry run);
    ``ownership`` is None only for an undecided store of a dry run, or for an existing store
    without settings (which is ``owned`` by default: then ``ownership`` says so).
    """

    kind: StoreKind
    store: str
    ownership: Ownership | None
    source: OwnershipSource
    reason: str
    settings_file: str
    written: bool
    entries: int

    @property
    def label(self) -> str:
        return self.store if self.kind is StoreKind.STANDARD else f"ordered:{self.store}"


def _is_profile(value: JSONValue) -> bool:
    return isinstance(value, Mapping) and "Data" in value and "MetaData" in value


def player_data_reason(kind: StoreKind, store: str, entries: Iterable[SampledEntry]) -> str | None:
    """Why the store's data looks like player data (one short phrase), or None if it does not."""
    if _DATASTORE2_NAME.match(store):
        if kind is StoreKind.ORDERED:
            return f"the name {store!r} is a DataStore2 per-player ordered store (<name>/<user id>)"
        return f"the name {store!r} is a DataStore2 per-player store (<name>/<user id>)"
    user_keys: list[str] = []
    for entry in entries:
        if _is_profile(entry.value):
            return (
                f"the value of {entry.key!r} is a ProfileService/ProfileStore save "
                "(Data + MetaData)"
            )
        if entry.users:
            return f"the entry {entry.key!r} carries `users` metadata (user ids)"
        if _USER_KEY.match(entry.key):
            user_keys.append(entry.key)
    if user_keys:
        if len(user_keys) > 1:
            return f"the key {user_keys[0]!r} and {len(user_keys) - 1} more embed user ids"
        return f"the key {user_keys[0]!r} embeds a user id"
    return None
