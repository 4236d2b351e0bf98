from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from dsgit.apply.lock import LOCK_KEY, LOCK_STORE, EnvironmentLock, Lease, LockLost
from dsgit.apply.result import ApplyStatus
from dsgit.apply.run import ApplyOptions
from dsgit.errors import LockHeld
from dsgit.model.entry import Address, EntryData
from support import declaration_of

from .conftest import World

ENTRY = Address.standard("Config", "a")


def lock_for(world: World, holder: str, ttl: float = 60.0, **kw: object) -> EnvironmentLock:
    return EnvironmentLock(
        world.client,
        holder=holder,
        apply_id=f"apply-{holder}",
        plan_digest="sha256:" + "0" * 64,
        actor=holder,
        ttl=timedelta(seconds=ttl),
        **kw,  # type: ignore[arg-type]
    )


def lease_value(world: World) -> dict[str, object]:
    live = world.client.get_entry(LOCK_STORE, LOCK_KEY)
    assert live is not None and isinstance(live.value, dict)
    return live.value


def test_second_holder_is_refused_while_the_lease_lives(world: World) -> None:
    first = lock_for(world, "first")
    first.acquire()
    with pytest.raises(LockHeld, match="locked: held by first"):
        lock_for(world, "second").acquire()
    with pytest.raises(LockHeld, match="locked"):
        lock_for(world, "second").acquire(break_lock=True)  # a live lease is never broken
    first.release()
    assert lease_value(world)["released"] is True
    second = lock_for(world, "second")
    second.acquire()
    assert lease_value(world)["holder"] == "second"
    second.release()


def test_expired_lease_needs_break_lock(world: World) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    stale = lock_for(world, "dead", clock=lambda: past)
    stale.acquire()  # expired an hour ago and never released
    with pytest.raises(LockHeld, match="--break-lock"):
        lock_for(world, "next").acquire()
    taker = lock_for(world, "next")
    outcome = taker.acquire(break_lock=True)
    assert outcome.broken is not None and outcome.broken.holder == "dead"
    taker.release()


def test_same_holder_takes_its_own_lease_back(world: World) -> None:
    lock_for(world, "me").acquire()  # a killed run never released it
    outcome = lock_for(world, "me").acquire()
    assert outcome.resumed_own


def test_renewal_extends_and_a_broken_lease_is_noticed(world: World) -> None:
    lock = lock_for(world, "me", ttl=60)
    lock.acquire()
    before = lease_value(world)["expires"]
    later = datetime.now(UTC) + timedelta(minutes=5)
    lock.clock = lambda: later
    lock.renew()
    assert lease_value(world)["expires"] != before
    # Someone breaks it (an etag-less overwrite): the next renewal fails and marks it lost.
    world.client.update_entry(LOCK_STORE, LOCK_KEY, EntryData({"holder": "x", "expires": "z"}))
    with pytest.raises(LockLost):
        lock.renew()
    assert lock.lost is not None
    lock.release()  # nothing of ours left: must not overwrite the new holder
    assert lease_value(world)["holder"] == "x"


def test_background_renewal_runs(world: World) -> None:
    lock = lock_for(world, "me", ttl=0.3)
    lock.acquire()
    first = world.client.get_entry(LOCK_STORE, LOCK_KEY)
    lock.start_renewing()
    time.sleep(0.5)
    lock.release()
    last = world.client.get_entry(LOCK_STORE, LOCK_KEY)
    assert first is not None and last is not None
    assert len(list(world.client.list_revisions(LOCK_STORE, LOCK_KEY))) >= 3


def test_apply_refuses_while_another_apply_holds_the_lock(world: World) -> None:
    declaration = declaration_of({ENTRY: EntryData(1)})
    plan = world.plan(declaration)
    other = lock_for(world, "other")
    other.acquire()
    with pytest.raises(LockHeld):
        world.apply(plan, declaration)
    assert world.live(ENTRY) is None
    other.release()
    assert world.apply(plan, declaration).status is ApplyStatus.COMPLETE


def test_apply_breaks_an_expired_lock_only_when_asked(world: World) -> None:
    declaration = declaration_of({ENTRY: EntryData(1)})
    plan = world.plan(declaration)
    past = datetime.now(UTC) - timedelta(hours=1)
    lock_for(world, "crashed", clock=lambda: past).acquire()
    with pytest.raises(LockHeld, match="--break-lock"):
        world.apply(plan, declaration)
    result = world.apply(plan, declaration, ApplyOptions(break_lock=True, workers=2))
    assert result.status is ApplyStatus.COMPLETE and result.broke_lock
    assert "crashed" in result.broke_lock
    from dsgit.ledger import Ledger, LockBreakRecord

    breaks = [r.body for r in Ledger(world.root).records() if isinstance(r.body, LockBreakRecord)]
    assert len(breaks) == 1 and breaks[0].expired and breaks[0].environment == world.env.name


def test_lease_parsing_is_lenient() -> None:
    assert Lease.from_json("nonsense") is None
    assert Lease.from_json({"expires": "x"}) is None
    lease = Lease.from_json({"holder": "h", "expires": "not a time"})
    assert lease is not None and lease.expired(datetime.now(UTC))


class BreaksTheLock:
    """After the first data write, someone else takes the lease (without the etag)."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.broken = False

    def __getattr__(self, name: str) -> object:
        attr = getattr(self.inner, name)
        if name != "update_entry":
            return attr

        def update(store: str, *args: object, **kw: object) -> object:
            result = attr(store, *args, **kw)  # type: ignore[operator]
            if store != LOCK_STORE and not self.broken:
                self.broken = True
                other = EntryData({"holder": "thief", "expires": "2999-01-01T00:00:00Z"})
                self.inner.update_entry(LOCK_STORE, LOCK_KEY, other)  # type: ignore[attr-defined]
                time.sleep(0.3)  # long enough for a renewal to notice
            return result

        return update


def test_apply_stops_when_its_lease_is_taken(world: World) -> None:
    entries = {Address.standard("Config", f"k{n}"): EntryData(0) for n in range(5)}
    world.seed(entries)
    declaration = declaration_of({a: EntryData(1) for a in entries})
    plan = world.plan(declaration)
    api = BreaksTheLock(world.client)
    options = ApplyOptions(workers=1, lock_ttl=timedelta(seconds=0.15))
    result = world.apply(plan, declaration, options, api=api)
    assert result.status is ApplyStatus.PARTIAL
    assert "taken by someone else" in (result.failure or "")
    assert 1 <= len(result.written) < 5
    assert lease_value(world)["holder"] == "thief"  # not released over the new holder
