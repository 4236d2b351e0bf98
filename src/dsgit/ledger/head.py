"""The chain head an environment's universe holds: the order every checkout's ledger follows.

Each environment's chain head is the entry ``_dsgit/global/ledger-head.<environment>`` in the
environment's universe, beside the apply lock (the reserved store no plan touches). Its value::

    {"format": 1, "environment": "prod", "seq": 41, "hash": "sha256:…", "time": "…",
     "batches": [{"first": 40, "last": 41, "hash": "sha256:…", "name": "<apply id>"}, …]}

``seq``/``hash`` name the last record of the chain; ``batches`` lists the most recent appends
(at most :data:`MAX_BATCHES`), so ``audit verify --against`` can name the applies a checkout
lacks. An append extends the head it reads and moves it with a compare-and-swap on the entry's
etag: two appends that read the same head cannot both succeed, wherever they run, so the chain
stays linear even when the files are written on different branches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from dsgit.errors import LedgerError, PreconditionFailed, RemoteError
from dsgit.model.entry import RESERVED_STORE, EntryData, JSONValue
from dsgit.remote.api import OpenCloudApi

__all__ = [
    "HEAD_SCOPE",
    "MAX_BATCHES",
    "Batch",
    "ChainHead",
    "HeadMoved",
    "HeadStore",
    "UniverseHead",
    "head_key",
]

HEAD_SCOPE = "global"
MAX_BATCHES = 256
_FORMAT = 1
_MAX_KEY = 50  # Open Cloud's limit on key names


def head_key(environment: str) -> str:
    """``ledger-head.<environment>``, or a digest of the name when that would be too long."""
    key = f"ledger-head.{environment}"
    if len(key.encode("utf-8")) <= _MAX_KEY:
        return key
    return "ledger-head.~" + hashlib.sha256(environment.encode("utf-8")).hexdigest()[:32]


class HeadMoved(LedgerError):
    """The head changed between reading and moving it: another append won; read it again."""


@dataclass(frozen=True)
class Batch:
    """One append: the records ``first``..``last`` of the chain, written to file ``name``."""

    first: int
    last: int
    hash: str  # of record ``last``
    name: str

    def to_json(self) -> dict[str, JSONValue]:
        return {"first": self.first, "last": self.last, "hash": self.hash, "name": self.name}


@dataclass(frozen=True)
class ChainHead:
    """The last record of an environment's chain, and the most recent batches before it."""

    environment: str
    seq: int
    hash: str
    time: str
    batches: tuple[Batch, ...] = ()

    def extended(self, batch: Batch, time: str) -> ChainHead:
        kept = (*self.batches, batch)[-MAX_BATCHES:]
        return replace(self, seq=batch.last, hash=batch.hash, time=time, batches=kept)

    @classmethod
    def first(cls, environment: str, batch: Batch, time: str) -> ChainHead:
        return cls(environment, batch.last, batch.hash, time, (batch,))

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "format": _FORMAT,
            "environment": self.environment,
            "seq": self.seq,
            "hash": self.hash,
            "time": self.time,
            "batches": [batch.to_json() for batch in self.batches],
        }

    @classmethod
    def from_json(cls, value: Any, environment: str) -> ChainHead:
        """Parse the entry's value; anything else is a ``LedgerError`` (never guessed at)."""
        try:
            if not isinstance(value, Mapping) or value.get("format") != _FORMAT:
                raise ValueError("not a ledger head written by dsgit")
            if value["environment"] != environment:
                raise ValueError(f"it is the head of environment {value['environment']!r}")
            seq = value["seq"]
            if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
                raise ValueError(f"bad seq {seq!r}")
            batches = tuple(
                Batch(int(b["first"]), int(b["last"]), str(b["hash"]), str(b["name"]))
                for b in value.get("batches") or ()
            )
            return cls(environment, seq, str(value["hash"]), str(value["time"]), batches)
        except (KeyError, TypeError, ValueError) as exc:
            raise LedgerError(
                f"the ledger head {RESERVED_STORE}/{HEAD_SCOPE}/{head_key(environment)} in the "
                f"universe is not readable ({exc}); nothing was appended"
            ) from None


class HeadStore(Protocol):
    """Where an environment's chain head is kept (the universe; tests may use a fake)."""

    def read(self) -> tuple[ChainHead | None, str | None]:
        """The head and a token for :meth:`advance` (None, None when there is none yet)."""
        ...

    def advance(self, new: ChainHead, token: str | None) -> None:
        """Replace the head read with ``token`` by ``new``; ``HeadMoved`` if it changed since."""
        ...


class UniverseHead:
    """The head kept in the environment's universe, moved by etag compare-and-swap."""

    def __init__(self, api: OpenCloudApi, environment: str) -> None:
        self.api = api
        self.environment = environment
        self.key = head_key(environment)

    def read(self) -> tuple[ChainHead | None, str | None]:
        live = self.api.get_entry(RESERVED_STORE, self.key, HEAD_SCOPE)
        if live is None or live.state == "DELETED":
            return None, None
        return ChainHead.from_json(live.value, self.environment), live.etag

    def advance(self, new: ChainHead, token: str | None) -> None:
        data = EntryData(new.to_json())
        try:
            if token is None:
                self.api.create_entry(RESERVED_STORE, self.key, data, HEAD_SCOPE)
            else:
                self.api.update_entry(RESERVED_STORE, self.key, data, HEAD_SCOPE, etag=token)
        except PreconditionFailed:
            raise HeadMoved("the ledger head moved while appending") from None
        except RemoteError as exc:
            if token is None and exc.status in (400, 409, 412):
                raise HeadMoved("the ledger head was created while appending") from None
            raise
