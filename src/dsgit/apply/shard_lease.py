"""The environment lease shared by the N shard applies of one plan (``apply --shard K/N``).

The environment lock is one lease per environment (:mod:`dsgit.apply.lock`): two applies never
write one universe at once. N jobs applying the shards of one plan must run together, yet still
exclude every other apply. So they hold the *same* lease entry in shared form: its ordinary
fields name a group holder (``shards:<plan digest prefix>:<N>``) and expire with the last of its
members, so any other apply sees an ordinary held lease and is refused; its ``shards`` field maps
each shard number to the job holding it (holder id, host, pid, expiry)::

    {"holder": "shards:3f2a…:4", "plan_digest": "sha256:…", "expires": <latest member>,
     "released": false, "shards": {"1": {"holder": "…", "expires": "…", …}, "3": {…}}}

Every change is a compare-and-swap on the entry, retried on a lost race: a job joins (another
job of the same plan and N is welcome, a live job of the same shard is not), renews its own
member's expiry, and leaves; the last to leave marks the lease released. A member that stopped
renewing (a killed job) is taken back by its own resume (same holder id, from its journal) or,
once expired, by a new job of that shard with ``--break-lock``.

:func:`shard_holders` and :func:`remove_shard_holders` are what ``dsgit lock status|release``
use: list each shard job holding the shared lease, and take named members out of it by hand
(compare-and-swap, only while each is still the job that was listed).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dsgit.apply.lock import (
    LOCK_KEY,
    LOCK_SCOPE,
    LOCK_STORE,
    AcquireOutcome,
    EnvironmentLock,
    Lease,
    LockLost,
    LockNotReleased,
)
from dsgit.errors import DsgitError, LockHeld, PreconditionFailed, RemoteError
from dsgit.model.entry import EntryData, JSONValue
from dsgit.model.shard import Shard
from dsgit.remote.api import OpenCloudApi

__all__ = [
    "ShardHolder",
    "ShardLease",
    "group_holder",
    "is_shared",
    "remove_shard_holders",
    "shard_holders",
]

_ATTEMPTS = 20


def group_holder(plan_digest: str, count: int) -> str:
    """The holder the shared lease names: the same for every shard job of one plan and N."""
    return f"shards:{plan_digest.removeprefix('sha256:')[:16]}:{count}"


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _expired(text: object, now: datetime) -> bool:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")) <= now
    except ValueError:
        return True


class _NoChange(Exception):
    """The mutation decided nothing needs writing."""


def _update_entry(api: OpenCloudApi, mutate: Callable[[Any], dict[str, Any]]) -> str | None:
    """Read the lock entry, ``mutate`` its value (None when absent), write it back with CAS,
    again on a lost race; the etag written, or None when ``mutate`` raised ``_NoChange``."""
    for _ in range(_ATTEMPTS):
        live = api.get_entry(LOCK_STORE, LOCK_KEY, LOCK_SCOPE)
        deleted = live is not None and live.state == "DELETED"
        current = None if live is None or deleted else live.value
        try:
            value = mutate(current)
        except _NoChange:
            return None
        data = EntryData(value)
        try:
            if live is None:
                written = api.create_entry(LOCK_STORE, LOCK_KEY, data, LOCK_SCOPE)
            else:
                written = api.update_entry(
                    LOCK_STORE,
                    LOCK_KEY,
                    data,
                    LOCK_SCOPE,
                    etag=None if deleted else live.etag,
                    allow_missing=deleted,
                )
        except PreconditionFailed:
            continue  # another job changed it first: read it again
        except RemoteError as exc:
            if live is None and exc.status in (400, 409, 412):
                continue  # created by another job first
            raise
        return written.etag
    raise LockHeld("could not update the shared environment lock: it kept changing; retry")


# --- the shared lease as ``dsgit lock`` sees it ---------------------------------------------


@dataclass(frozen=True)
class ShardHolder:
    """One shard job holding a part of the shared lease: its shard and its own lease (holder
    id, apply id ``…-sKofN``, actor, host, pid, expiry; the group's plan digest)."""

    shard: Shard
    lease: Lease


def is_shared(value: JSONValue) -> bool:
    """True for a lock entry held in shared form by the shard jobs of one plan."""
    return (
        isinstance(value, dict)
        and str(value.get("holder", "")).startswith("shards:")
        and isinstance(value.get("shards"), dict)
    )


def _count_of(value: Mapping[str, Any]) -> int:
    try:
        return int(str(value.get("holder", "")).rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return 0


def shard_holders(value: JSONValue) -> tuple[ShardHolder, ...]:
    """The shard jobs a shared lock entry names, by shard number (none for another entry)."""
    if not is_shared(value):
        return ()
    assert isinstance(value, dict)
    count = _count_of(value)
    members = value["shards"]
    assert isinstance(members, dict)
    found = []
    for number, member in members.items():
        lease = Lease.from_json(
            {**member, "plan_digest": value.get("plan_digest", "")}
            if isinstance(member, dict)
            else None
        )
        try:
            shard = Shard(int(number), count)
        except ValueError:
            continue  # not a member dsgit wrote: nothing to show or release
        if lease is not None:
            found.append(ShardHolder(shard, lease))
    return tuple(sorted(found, key=lambda holder: holder.shard.index))


def remove_shard_holders(
    api: OpenCloudApi,
    group: str,
    expected: Mapping[int, str],
    now: datetime,
) -> tuple[int, ...]:
    """Take the members ``expected`` (shard number -> member holder id) out of the shared lease
    of ``group``; the last one out marks it released. A member is removed only while it is
    still that job (a new job of the shard that took it over meanwhile stays), and nothing is
    written once the lease is another's. Returns the shard numbers removed."""
    removed: list[int] = []

    def take_out(current: Any) -> dict[str, Any]:
        removed.clear()
        if not isinstance(current, dict) or current.get("holder") != group:
            raise _NoChange
        members = dict(current.get("shards") or {})
        for number, holder in expected.items():
            member = members.get(str(number))
            if isinstance(member, dict) and member.get("holder") == holder:
                del members[str(number)]
                removed.append(number)
        if not removed:
            raise _NoChange
        left = [str(m.get("expires", "")) for m in members.values() if isinstance(m, dict)]
        return {
            **current,
            "shards": members,
            "expires": max(left) if left else _format(now),
            "released": not members,
        }

    if _update_entry(api, take_out) is None:
        return ()
    return tuple(removed)


class ShardLease(EnvironmentLock):
    """Shard ``shard`` of the plan's shared environment lease, held by one shard job."""

    def __init__(
        self,
        api: OpenCloudApi,
        *,
        shard: Shard,
        holder: str,
        apply_id: str,
        plan_digest: str,
        actor: str,
        ttl: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(
            api,
            holder=holder,
            apply_id=apply_id,
            plan_digest=plan_digest,
            actor=actor,
            ttl=ttl,
            clock=clock,
        )
        self.shard = shard
        self.group = group_holder(plan_digest, shard.count)
        self._held = False

    # --- the entry ---------------------------------------------------------------------------

    def _member(self) -> dict[str, JSONValue]:
        lease = self.lease
        return {
            "holder": lease.holder,
            "apply_id": lease.apply_id,
            "actor": lease.actor,
            "host": lease.host,
            "pid": lease.pid,
            "acquired": lease.acquired,
            "expires": _format(self.clock() + self.ttl),
        }

    def _value(self, members: Mapping[str, Any], *, released: bool = False) -> dict[str, Any]:
        now = _format(self.clock())
        latest = max((str(m.get("expires", "")) for m in members.values()), default=now)
        return {
            **Lease(
                holder=self.group,
                apply_id=f"{self.lease.apply_id.rsplit('-s', 1)[0]} (shards)",
                plan_digest=self.lease.plan_digest,
                actor=self.lease.actor,
                host=self.lease.host,
                pid=self.lease.pid,
                acquired=self.lease.acquired,
                expires=now if released else latest,
                released=released,
            ).to_json(),
            "shards": dict(members),
        }

    def _ours(self, value: Any) -> bool:
        return isinstance(value, dict) and value.get("holder") == self.group

    def _update(self, mutate: Callable[[Any], dict[str, Any]]) -> str | None:
        """Read the entry, ``mutate`` its value (None when absent), write it back with CAS."""
        return _update_entry(self.api, mutate)

    # --- acquire / renew / release -----------------------------------------------------------

    def acquire(self, *, break_lock: bool = False) -> AcquireOutcome:
        outcome = AcquireOutcome()

        def join(current: Any) -> dict[str, Any]:
            nonlocal outcome
            now = self.clock()
            lease = Lease.from_json(current) if current is not None else None
            members: dict[str, Any] = {}
            if lease is None or lease.released:
                pass
            elif self._ours(current):
                members = dict(current.get("shards") or {})
                mine = members.get(str(self.shard.index))
                if isinstance(mine, dict) and mine.get("holder") == self.lease.holder:
                    outcome = AcquireOutcome(resumed_own=True)
                elif isinstance(mine, dict) and not _expired(mine.get("expires"), now):
                    raise LockHeld(
                        f"shard {self.shard} of this plan is being applied already (by "
                        f"{mine.get('actor')} on {mine.get('host')}, pid {mine.get('pid')}, "
                        f"until {mine.get('expires')})"
                    )
                elif isinstance(mine, dict) and not break_lock:
                    raise LockHeld(
                        f"shard {self.shard} of this plan was taken by a job that stopped "
                        f"renewing it (until {mine.get('expires')}): if it died, run again "
                        "with --break-lock"
                    )
            elif not lease.expired(now):
                raise LockHeld(
                    f"the environment is locked: {lease.describe()}. Wait for it to finish "
                    "(the lease is renewed while that apply runs)"
                )
            elif break_lock:
                outcome = AcquireOutcome(broken=lease)
            else:
                raise LockHeld(
                    f"the environment lock expired without being released ({lease.describe()})"
                    ": that apply probably died. If it did, run again with --break-lock"
                )
            members[str(self.shard.index)] = self._member()
            return self._value(members)

        self._etag = self._update(join)
        self._held = True
        return outcome

    def renew(self) -> None:
        """Push this shard's expiry forward; ``LockLost`` when it is no longer ours."""
        with self._mutex:
            if not self._held:
                return

            def extend(current: Any) -> dict[str, Any]:
                members = dict(current.get("shards") or {}) if self._ours(current) else {}
                mine = members.get(str(self.shard.index))
                if not isinstance(mine, dict) or mine.get("holder") != self.lease.holder:
                    raise LockLost(
                        f"shard {self.shard}'s part of the environment lock was taken by "
                        "someone else while this apply ran; it stopped. Run it again to resume"
                    )
                members[str(self.shard.index)] = self._member()
                return self._value(members)

            try:
                self._etag = self._update(extend)
            except LockLost as exc:
                self.lost = exc
                self._held = False
                raise

    def release(self) -> None:
        """Leave the shared lease; the last shard to leave marks it released."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._mutex:
            if not self._held or self.lost is not None:
                return

            def leave(current: Any) -> dict[str, Any]:
                if not self._ours(current):
                    raise _NoChange  # broken by someone else: nothing of ours to release
                members = dict(current.get("shards") or {})
                mine = members.get(str(self.shard.index))
                if not isinstance(mine, dict) or mine.get("holder") != self.lease.holder:
                    raise _NoChange
                del members[str(self.shard.index)]
                return self._value(members, released=not members)

            try:
                with contextlib.suppress(_NoChange):
                    self._update(leave)
            except DsgitError as exc:
                raise LockNotReleased(
                    f"could not release shard {self.shard}'s part of the environment lock "
                    f"({exc}); it stays held until it expires. Run this apply again (it takes "
                    "its own part back and releases it)"
                ) from exc
            self._held = False
            self._etag = None
