"""Applying segmented plans: streaming, resume, refusal of edited segments, shards."""

from __future__ import annotations

import threading

import pytest

from dsgit.apply.lock import read_lease
from dsgit.apply.result import ApplyStatus
from dsgit.apply.run import ApplyOptions
from dsgit.apply.stream import apply_segmented
from dsgit.errors import LockHeld, StalePlan
from dsgit.ledger import ChangeOutcome, ChangeRecord, Ledger, verify_ledger
from dsgit.model.declaration import Declaration, StorePolicy, Suppression
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.model.shard import Shard
from dsgit.plan.model import Plan
from dsgit.planfile import SegmentedPlan, read_any_plan, write_plan
from support import declaration_of

from .conftest import World

PRUNED = {
    (StoreKind.STANDARD, "Old"): StorePolicy(
        prune=True,
        suppress=(
            Suppression("DSP002", "old keys are retired"),
            Suppression("DSP003", "all of them", count=6),
        ),
    ),
}
OLD = [Address.standard("Old", f"gone_{n}") for n in range(6)]
NEW = [Address.standard("Shop", f"item_{n:03d}") for n in range(31)]
CHANGED = Address.standard("Shop", "item_004")


def scenario(world: World) -> Declaration:
    world.seed({address: EntryData({"old": True}) for address in OLD})
    world.seed({CHANGED: EntryData({"price": 1})})
    world.seed({Address.standard("Old", "keep"): EntryData(1)})
    entries: dict[Address, EntryData | int] = {a: EntryData({"price": 10}) for a in NEW}
    entries[Address.standard("Old", "keep")] = EntryData(1)
    return declaration_of(entries, PRUNED)


def segmented(world: World, plan: Plan, size: int = 7) -> SegmentedPlan:
    path = world.root / "plan.json"
    write_plan(path, plan, segment_size=size)
    found = read_any_plan(path)
    assert isinstance(found, SegmentedPlan)
    return found


def test_a_segmented_plan_applies_once_and_replans_empty(world: World) -> None:
    declaration = scenario(world)
    plan = world.plan(declaration)
    found = segmented(world, plan)
    assert len(found.manifest.segments) == 6  # 30 creates, 1 update, 6 deletes
    result = apply_segmented(found, world.deps(declaration), ApplyOptions(workers=4))
    assert result.status is ApplyStatus.COMPLETE, result.failure
    assert result.totals == {"written": 37, "skipped": 0, "conflict": 0, "pending": 0}
    assert result.changes == ()  # memory holds conflicts and pending changes only
    assert all(world.live(a) is None for a in OLD)
    assert world.live(CHANGED) == EntryData({"price": 10})
    assert all(world.revisions(a) == 1 for a in NEW if a != CHANGED)
    assert not world.plan(declaration).has_changes
    records = [r.body for r in Ledger(world.root).records()]
    changes = [b for b in records if isinstance(b, ChangeRecord)]
    assert len(changes) == 37 and len({b.address for b in changes}) == 37
    assert verify_ledger(world.root).ok
    # a rerun finds everything done and writes nothing
    again = apply_segmented(found, world.deps(declaration), ApplyOptions(workers=4))
    assert again.already_complete and again.status is ApplyStatus.COMPLETE
    assert all(world.revisions(a) == 1 for a in NEW if a != CHANGED)
    assert not read_lease(world.client, world.deps(declaration).clock()).held


def test_an_edited_segment_is_refused_before_anything_is_written(world: World) -> None:
    declaration = scenario(world)
    found = segmented(world, world.plan(declaration))
    last = world.root / found.manifest.segments[-1].file
    last.write_bytes(last.read_bytes().replace(b"gone_5", b"gone_9"))
    with pytest.raises(StalePlan, match="does not match the plan"):
        apply_segmented(found, world.deps(declaration))
    assert all(world.live(a) is None for a in NEW if a != CHANGED)
    assert not list(Ledger(world.root).records())


def test_four_shards_apply_one_plan_concurrently_each_entry_once(world: World) -> None:
    declaration = scenario(world)
    found = segmented(world, world.plan(declaration), size=5)
    results = {}
    errors: list[BaseException] = []

    def job(index: int) -> None:
        try:
            results[index] = apply_segmented(
                found, world.deps(declaration), ApplyOptions(workers=2), shard=Shard(index, 4)
            )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=job, args=(k,)) for k in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(r.status is ApplyStatus.COMPLETE for r in results.values())
    assert sum(r.count(ChangeOutcome.WRITTEN) for r in results.values()) == 37
    # each shard took the changes of its keys, every change exactly once
    for index, result in results.items():
        assert result.apply_id.endswith(f"-s{index}of4")
    assert all(world.revisions(a) == 1 for a in NEW if a != CHANGED)
    assert all(world.live(a) is None for a in OLD)
    assert not world.plan(declaration).has_changes
    assert not read_lease(world.client, world.deps(declaration).clock()).held
    assert verify_ledger(world.root).ok


def test_a_shard_lease_excludes_other_applies_and_the_same_shard(world: World) -> None:
    from datetime import timedelta

    from dsgit.apply.lock import EnvironmentLock
    from dsgit.apply.shard_lease import ShardLease

    def lease(index: int, holder: str) -> ShardLease:
        return ShardLease(
            world.client,
            shard=Shard(index, 4),
            holder=holder,
            apply_id=f"a-s{index}of4",
            plan_digest="sha256:" + "ab" * 32,
            actor="t",
            ttl=timedelta(minutes=2),
        )

    first, second = lease(1, "h1"), lease(2, "h2")
    first.acquire()
    second.acquire()  # another shard of the same plan joins
    with pytest.raises(LockHeld, match="shard 1/4 of this plan is being applied"):
        lease(1, "other").acquire()
    other = EnvironmentLock(
        world.client,
        holder="x",
        apply_id="x",
        plan_digest="sha256:" + "cd" * 32,
        actor="t",
        ttl=timedelta(minutes=2),
    )
    with pytest.raises(LockHeld, match="the environment is locked"):
        other.acquire()
    first.renew()
    second.renew()
    first.release()
    assert read_lease(world.client, world.deps(None).clock()).held  # shard 2 still runs
    with pytest.raises(LockHeld):
        other.acquire()
    second.release()
    assert not read_lease(world.client, world.deps(None).clock()).held
    other.acquire()  # the last shard out released it
    other.release()


class _StopAfter:
    """Progress that interrupts the apply (as Ctrl-C does) at the ``n``-th finished change."""

    def __init__(self, n: int) -> None:
        self.left = n

    def start(self, total: int, done: int) -> None: ...

    def note(self, text: str) -> None: ...

    def close(self) -> None: ...

    def update(self, result: object) -> None:
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt


def renamed(world: World) -> tuple[Declaration, Address, Address]:
    from dataclasses import replace

    from dsgit.repo.digest import declaration_digest

    old, new = Address.standard("Items", "sword"), Address.standard("Items", "blade")
    world.seed({old: EntryData({"dmg": 5})})
    policies = {
        (StoreKind.STANDARD, "Items"): StorePolicy(
            prune=True, suppress=(Suppression("DSP002", "renamed"),)
        )
    }
    fillers = {Address.standard("Z", f"a{n}"): EntryData(n) for n in range(6)}
    declaration = declaration_of({new: EntryData({"dmg": 5}), **fillers}, policies)
    key = (StoreKind.STANDARD, "Items")
    entries = dict(declaration.stores[key].entries)
    entries[("global", "blade")] = replace(entries[("global", "blade")], moved_from=old)
    stores = {**declaration.stores, key: replace(declaration.stores[key], entries=entries)}
    source = replace(declaration.source, digest=declaration_digest(stores, {}))
    return replace(declaration, stores=stores, source=source), old, new


def test_a_rename_delete_in_a_later_segment_waits_for_its_create_across_a_resume(
    world: World,
) -> None:
    declaration, old, new = renamed(world)
    found = segmented(world, world.plan(declaration), size=3)
    segments = [[str(c.address) for c in found.segment(i)] for i in range(3)]
    assert segments[0][0] == str(new) and segments[-1][-1] == str(old)
    # a game server creates the new key first: the create conflicts
    world.client.create_entry("Items", "blade", EntryData({"dmg": 1}))
    first = apply_segmented(found, world.deps(declaration, progress=_StopAfter(4)))
    assert first.status is ApplyStatus.INTERRUPTED
    assert 1 <= first.count(None) <= 3  # segment 1 finished; 2 stopped (changes in flight end)
    again = apply_segmented(found, world.deps(declaration))  # segment 1 is only counted
    assert again.status is ApplyStatus.CONFLICT and again.resumed
    assert world.live(old) == EntryData({"dmg": 5})  # never deleted: its rename did not land
    assert {str(c.address) for c in again.conflicts} == {str(old), str(new)}
    assert again.totals == {"written": 6, "skipped": 0, "conflict": 2, "pending": 0}


def test_the_review_of_a_segmented_plan_is_never_applied(world: World) -> None:
    from dsgit.apply.run import apply_plan
    from dsgit.errors import DsgitError

    declaration = scenario(world)
    found = segmented(world, world.plan(declaration))
    with pytest.raises(DsgitError, match="review of a segmented plan, without its values"):
        apply_plan(found.review(), world.deps(declaration))
    assert all(world.live(a) is None for a in NEW if a != CHANGED)
