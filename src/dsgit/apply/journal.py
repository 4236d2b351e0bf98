"""The apply journal: ``.dsgit/journal/<plan digest>.jsonl``, fsync'd before and after each write.

A killed apply leaves intents without a completion; running the same plan again reads them and
decides from the live entry whether the write landed (see :mod:`dsgit.apply.execute`), so nothing
is written twice. Lines are JSON objects with a ``t`` field:

- ``begin``: apply id, lock holder id, plan digest, time (one per run; the first one fixes ids);
- ``snapshot``: the Open Cloud snapshot was taken (not taken again on resume);
- ``intent``: about to write ``a`` (address); for increments the live revision and integer before;
- ``done``: ``a`` finished with an outcome (written, skipped, conflict) and before/after states;
- ``end``: the run finished with a status.

Concurrent workers append through :meth:`Journal.write`, which fsyncs in groups: a writer waits
until some fsync covered its line, so many threads share one fsync.

Every ``begin`` names the plan digest; a journal whose runs were of another plan is refused.

A right-to-erasure apply masks the lines about the entries it erased
(:mod:`dsgit.apply.journal_purge`): their ``a`` becomes :func:`erased_key` of the address,
a salted hash. :class:`AddressMap` finds such a line by the plain address all the same, so a
rerun of the plan still knows what it did (and never writes an erased entry again).

The file is held with an exclusive ``flock`` for the whole run: a second ``dsgit apply`` of the
same plan on this machine is refused instead of racing the first.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsgit.errors import ConfigError, Location, LockHeld
from dsgit.yamlio.safe_paths import open_nofollow, safe_path

__all__ = [
    "ERASED_PREFIX",
    "JOURNAL_DIR",
    "AddressMap",
    "Journal",
    "JournalState",
    "erased_key",
    "journal_path",
]

JOURNAL_DIR = ".dsgit/journal"
ERASED_PREFIX = "erased:sha256:"


def erased_key(plan_digest: str, address: str) -> str:
    """The ``a`` of a journal line an erasure masked: the address hashed with the plan digest.

    Pseudonymisation, not secrecy: whoever has the journal (its name is the digest) and guesses
    an address can check the guess; nobody reads the user's id off the line."""
    return ERASED_PREFIX + hashlib.sha256(f"{plan_digest}\n{address}".encode()).hexdigest()


class AddressMap(dict[str, dict[str, Any]]):
    """Journal lines by address; a line an erasure masked answers to its plain address too."""

    def __init__(self, plan_digest: str | None = None) -> None:
        super().__init__()
        self.plan_digest = plan_digest
        self.masked = False  # some key is an erased one

    def _key(self, address: str) -> str:
        if not self.masked or self.plan_digest is None or dict.__contains__(self, address):
            return address
        return erased_key(self.plan_digest, address)

    def __setitem__(self, key: str, value: dict[str, Any]) -> None:
        self.masked = self.masked or key.startswith(ERASED_PREFIX)
        super().__setitem__(key, value)

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str):
            return False
        return dict.__contains__(self, self._key(address))

    def __getitem__(self, address: str) -> dict[str, Any]:
        return dict.__getitem__(self, self._key(address))

    def get(self, address: str, default: Any = None) -> Any:
        return dict.get(self, self._key(address), default)


def journal_path(root: Path, plan_digest: str) -> Path:
    name = plan_digest.replace("sha256:", "") + ".jsonl"
    return safe_path(root, f"{JOURNAL_DIR}/{name}")  # DS106: .dsgit/ or journal/ is a symlink


@dataclass
class JournalState:
    """What earlier runs of this plan recorded (empty for a first run)."""

    apply_id: str | None = None
    holder: str | None = None
    started: str | None = None
    runs: int = 0
    ended: int = 0  # runs that wrote their ``end`` (fewer than ``runs``: the last one died)
    snapshot_time: str | None = None
    intents: dict[str, dict[str, Any]] = field(default_factory=AddressMap)
    done: dict[str, dict[str, Any]] = field(default_factory=AddressMap)
    last_status: str | None = None

    @property
    def pending(self) -> Mapping[str, dict[str, Any]]:
        """Intents with no completion: the writes a killed run may or may not have made."""
        pending = AddressMap(getattr(self.intents, "plan_digest", None))
        for address, record in self.intents.items():
            if not dict.__contains__(self.done, address):
                pending[address] = record
        return pending


class Journal:
    """An open journal file, locked for this process."""

    def __init__(
        self,
        path: Path,
        plan_digest: str | None = None,
        *,
        on_line: Callable[[], None] | None = None,
    ) -> None:
        self.path = path
        self.plan_digest = plan_digest
        self._on_line = on_line  # the test-only stop hook (dsgit.apply.stop_points)
        self._handle = open_nofollow(path)
        try:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._handle.close()
            raise LockHeld(
                f"another `dsgit apply` of this plan is running on this machine ({path})"
            ) from None
        self._write_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._written = 0
        self._synced = 0
        try:
            self.state = self._read()
        except BaseException:
            self.close()
            raise

    def _read(self) -> JournalState:
        self._handle.seek(0)
        data = self._handle.read()
        if data and not data.endswith(b"\n"):
            # A run killed mid-line: that line never counted (its write waited for the fsync).
            keep = data.rfind(b"\n") + 1
            self._handle.truncate(keep)
            os.fsync(self._handle.fileno())
            data = data[:keep]
        intents, done = AddressMap(self.plan_digest), AddressMap(self.plan_digest)
        state = JournalState(intents=intents, done=done)
        for number, line in enumerate(data.splitlines(), start=1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise ConfigError(
                    "journal line is not JSON (delete the journal to start over)",
                    Location(str(self.path), number),
                ) from None
            kind = record.get("t")
            if kind == "begin":
                if self.plan_digest is not None and record.get("plan_digest") != self.plan_digest:
                    # A journal copied or restored from another plan would pass that plan's
                    # completions off as this one's: the writes would be skipped as done.
                    raise ConfigError(
                        f"journal belongs to another plan ({record.get('plan_digest')}, not "
                        f"{self.plan_digest}); move it away to apply this plan",
                        Location(str(self.path), number),
                    )
                state.runs += 1
                if intents.plan_digest is None:  # opened without a plan: the journal's own
                    intents.plan_digest = done.plan_digest = record.get("plan_digest")
                if state.apply_id is None:
                    state.apply_id = record["apply_id"]
                    state.holder = record["holder"]
                    state.started = record["time"]
            elif kind == "snapshot":
                state.snapshot_time = record.get("time")
            elif kind == "intent":
                state.intents[record["a"]] = record
            elif kind == "done":
                state.done[record["a"]] = record
            elif kind == "end":
                state.ended += 1
                state.last_status = record["status"]
        return state

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one record and return once it is on disk."""
        line = (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode()
        with self._write_lock:
            self._handle.seek(0, os.SEEK_END)
            self._handle.write(line)
            self._written += 1
            mine = self._written
        with self._sync_lock:
            if self._synced < mine:
                with self._write_lock:
                    self._handle.flush()
                    covered = self._written
                os.fsync(self._handle.fileno())
                self._synced = covered
        if self._on_line is not None:
            self._on_line()

    def close(self) -> None:
        if self._handle.closed:
            return
        try:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
        finally:
            self._handle.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
