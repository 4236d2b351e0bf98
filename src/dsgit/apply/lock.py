"""The environment lock: a lease stored in the target universe itself (DESIGN.md §6.2).

The lease is the entry ``_dsgit/global/lock`` (the reserved store planning never touches), so
applies from different machines and CI runners exclude each other. Every change to it is a
compare-and-swap:

- acquire: ``create`` (fails when the entry exists); a released lease, or our own lease from a
  killed run of the same apply (same holder id, kept in the journal), is taken with an update
  conditioned on its etag; a lease that expired without being released is taken only with
  ``--break-lock``; a live lease is never taken;
- renew: an etag-conditioned update pushing ``expires`` forward, every third of the TTL, from a
  background thread; if it fails the lease was broken by someone else and the apply stops;
- release: an etag-conditioned update marking the lease released (no delete: the entry's
  revisions stay as a history of who held the lock). It goes through the client's retries
  (429 bursts, 5xx) within the rate budget; when it still fails, ``LockNotReleased`` says
  what to do (``dsgit lock release``), and apply exits 1.

:func:`read_lease` and :func:`release_lease` are what ``dsgit lock status|release`` and a
rerun of a finished plan use: a lease is released only if it is still the one that was read
(etag-conditioned), so a lease taken meanwhile by another apply is never released by mistake.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from dsgit.errors import DsgitError, LockHeld, PreconditionFailed, RemoteError
from dsgit.ledger.records import LockBreakRecord
from dsgit.model.entry import RESERVED_STORE, EntryData, JSONValue, LiveEntry
from dsgit.remote.api import OpenCloudApi

__all__ = [
    "LOCK_KEY",
    "LOCK_SCOPE",
    "LOCK_STORE",
    "EnvironmentLock",
    "Lease",
    "LeaseState",
    "LockLost",
    "LockNotReleased",
    "read_lease",
    "release_lease",
]

LOCK_STORE = RESERVED_STORE
LOCK_SCOPE = "global"
LOCK_KEY = "lock"


class LockLost(DsgitError):
    """The lease could not be renewed: someone broke it. The apply stops (resume later)."""


class LockNotReleased(DsgitError):
    """Releasing the lease failed after the client's retries; it stays held until it expires."""


def _now() -> datetime:
    return datetime.now(UTC)


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Lease:
    """Who holds the environment lock, for which apply, until when."""

    holder: str
    apply_id: str
    plan_digest: str
    actor: str
    host: str
    pid: int
    acquired: str
    expires: str
    released: bool = False

    def break_record(self, environment: str, universe_id: int, *, expired: bool) -> LockBreakRecord:
        """The ledger record of this lease being broken (released by someone else)."""
        return LockBreakRecord(
            environment=environment,
            universe_id=universe_id,
            holder=self.holder,
            apply_id=self.apply_id,
            lease_actor=self.actor,
            host=self.host,
            expires=self.expires,
            expired=expired,
        )

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "holder": self.holder,
            "apply_id": self.apply_id,
            "plan_digest": self.plan_digest,
            "actor": self.actor,
            "host": self.host,
            "pid": self.pid,
            "acquired": self.acquired,
            "expires": self.expires,
            "released": self.released,
        }

    @classmethod
    def from_json(cls, value: JSONValue) -> Lease | None:
        """The lease an entry holds, or None when it does not look like one."""
        if not isinstance(value, dict):
            return None
        try:
            pid = value.get("pid", 0)
            return cls(
                holder=str(value["holder"]),
                apply_id=str(value.get("apply_id", "")),
                plan_digest=str(value.get("plan_digest", "")),
                actor=str(value.get("actor", "?")),
                host=str(value.get("host", "?")),
                pid=pid if isinstance(pid, int) else 0,
                acquired=str(value.get("acquired", "")),
                expires=str(value["expires"]),
                released=bool(value.get("released", False)),
            )
        except KeyError:
            return None

    def expired(self, now: datetime) -> bool:
        try:
            return _parse(self.expires) <= now
        except ValueError:
            return True

    def describe(self) -> str:
        return (
            f"held by {self.actor} on {self.host} (pid {self.pid}) for apply {self.apply_id}"
            f" since {self.acquired}, until {self.expires}"
        )


@dataclass(frozen=True)
class AcquireOutcome:
    """How the lease was obtained: ``broken`` is the expired lease taken over, if any."""

    resumed_own: bool = False
    broken: Lease | None = None


class EnvironmentLock:
    """The lease of one environment, held by one apply run."""

    def __init__(
        self,
        api: OpenCloudApi,
        *,
        holder: str,
        apply_id: str,
        plan_digest: str,
        actor: str,
        ttl: timedelta,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.api = api
        self.ttl = ttl
        self.clock = clock
        now = clock()
        self.lease = Lease(
            holder=holder,
            apply_id=apply_id,
            plan_digest=plan_digest,
            actor=actor,
            host=socket.gethostname(),
            pid=os.getpid(),
            acquired=_format(now),
            expires=_format(now + ttl),
        )
        self._etag: str | None = None
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost: DsgitError | None = None

    # --- acquire / release -------------------------------------------------------------------

    def acquire(self, *, break_lock: bool = False) -> AcquireOutcome:
        for _ in range(5):
            live = self.api.get_entry(LOCK_STORE, LOCK_KEY, LOCK_SCOPE)
            if live is None:
                try:
                    written = self.api.create_entry(LOCK_STORE, LOCK_KEY, self._data(), LOCK_SCOPE)
                except RemoteError as exc:
                    if exc.status in (400, 409, 412):
                        continue  # someone created it first: read it again
                    raise
                self._etag = written.etag
                return AcquireOutcome()
            outcome = self._take_over(live, break_lock=break_lock)
            if outcome is not None:
                return outcome
        raise LockHeld("could not acquire the environment lock: it kept changing; try again")

    def _take_over(self, live: LiveEntry, *, break_lock: bool) -> AcquireOutcome | None:
        current = None if live.state == "DELETED" else Lease.from_json(live.value)
        now = self.clock()
        outcome = AcquireOutcome()
        if current is None or current.released:
            pass
        elif current.holder == self.lease.holder:
            outcome = AcquireOutcome(resumed_own=True)
        elif not current.expired(now):
            raise LockHeld(
                f"the environment is locked: {current.describe()}. Wait for it to finish "
                "(the lease is renewed while that apply runs)"
            )
        elif break_lock:
            outcome = AcquireOutcome(broken=current)
        else:
            raise LockHeld(
                f"the environment lock expired without being released ({current.describe()}): "
                "that apply probably died. If it did, run again with --break-lock (or release "
                "it with `dsgit lock release` where it was taken)"
            )
        deleted = live.state == "DELETED"
        try:
            written = self.api.update_entry(
                LOCK_STORE,
                LOCK_KEY,
                self._data(),
                LOCK_SCOPE,
                etag=None if deleted else live.etag,
                allow_missing=deleted,
            )
        except PreconditionFailed:
            return None  # changed under us: read it again
        self._etag = written.etag
        return outcome

    def release(self) -> None:
        """Mark the lease released; raises ``LockNotReleased`` when that finally fails."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._mutex:
            if self._etag is None or self.lost is not None:
                return
            held = self.lease
            released = replace(held, released=True, expires=_format(self.clock()))
            try:
                # Broken by someone else meanwhile: nothing of ours to release.
                with contextlib.suppress(PreconditionFailed):
                    self.api.update_entry(
                        LOCK_STORE,
                        LOCK_KEY,
                        EntryData(released.to_json()),
                        LOCK_SCOPE,
                        etag=self._etag,
                    )
            except DsgitError as exc:
                raise LockNotReleased(
                    f"could not release the environment lock ({exc}); it stays held until "
                    f"{held.expires}. Release it with `dsgit lock release`, or run this apply "
                    "again (it takes its own lease back)"
                ) from exc
            self.lease = released
            self._etag = None

    # --- renewal -----------------------------------------------------------------------------

    def renew(self) -> None:
        """Push ``expires`` forward; raises ``LockLost`` when the lease is no longer ours."""
        with self._mutex:
            if self._etag is None:
                return
            self.lease = replace(self.lease, expires=_format(self.clock() + self.ttl))
            try:
                written = self.api.update_entry(
                    LOCK_STORE, LOCK_KEY, self._data(), LOCK_SCOPE, etag=self._etag
                )
            except PreconditionFailed:
                self.lost = LockLost(
                    "the environment lock was taken by someone else while this apply ran; "
                    "it stopped. Run it again to resume once the other apply is done"
                )
                self._etag = None
                raise self.lost from None
            self._etag = written.etag

    def start_renewing(self) -> None:
        interval = max(self.ttl.total_seconds() / 3, 0.05)

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.renew()
                except LockLost:
                    return
                except DsgitError:
                    continue  # a transient failure: the next tick tries again before expiry

        self._thread = threading.Thread(target=loop, name="dsgit-lock-renew", daemon=True)
        self._thread.start()

    def _data(self) -> EntryData:
        return EntryData(self.lease.to_json())


@dataclass(frozen=True)
class LeaseState:
    """The lock entry as read: its lease (None when there is none or it is unreadable)."""

    lease: Lease | None
    etag: str | None
    now: datetime

    @property
    def held(self) -> bool:
        """A lease that is neither released nor expired: an apply holds the environment."""
        return self.status == "held"

    @property
    def status(self) -> str:
        """``free``, ``released``, ``held`` or ``expired`` (held by an apply that died)."""
        if self.lease is None:
            return "free"
        if self.lease.released:
            return "released"
        return "expired" if self.lease.expired(self.now) else "held"


def read_lease(api: OpenCloudApi, now: datetime) -> LeaseState:
    """The environment's lock entry as it is now."""
    live = api.get_entry(LOCK_STORE, LOCK_KEY, LOCK_SCOPE)
    if live is None:
        return LeaseState(None, None, now)
    return LeaseState(Lease.from_json(live.value), live.etag, now)


def release_lease(api: OpenCloudApi, state: LeaseState) -> bool:
    """Mark the lease of ``state`` released, only if the entry is still that one.

    Returns False when it changed since it was read (another apply took it: left alone).
    Raises ``LockNotReleased`` when the write fails after the client's retries.
    """
    if state.lease is None or state.lease.released or state.etag is None:
        return False
    released = replace(state.lease, released=True, expires=_format(state.now))
    try:
        api.update_entry(
            LOCK_STORE, LOCK_KEY, EntryData(released.to_json()), LOCK_SCOPE, etag=state.etag
        )
    except PreconditionFailed:
        return False
    except DsgitError as exc:
        raise LockNotReleased(
            f"could not release the environment lock ({exc}); it stays held until "
            f"{state.lease.expires}. Try `dsgit lock release` again"
        ) from exc
    return True
