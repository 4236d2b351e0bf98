"""Issue 7's promises in process (fast): counters, creates over tombstones, ordered resumes,
the lease released in every outcome, `dsgit lock` rules, unrecorded applies, the stop hook."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dsgit.apply.audit import unrecorded_applies
from dsgit.apply.journal import Journal, journal_path
from dsgit.apply.lock import LOCK_KEY, LOCK_SCOPE, LOCK_STORE, Lease, read_lease
from dsgit.apply.lock_admin import release_lock
from dsgit.apply.result import ApplyStatus
from dsgit.apply.run import ApplyOptions
from dsgit.apply.stop_points import NEVER, from_environment
from dsgit.errors import ConfigError, LockHeld, StalePlan, TransportError
from dsgit.ledger import Ledger, LockBreakRecord
from dsgit.ledger.query import recorded_apply
from dsgit.model.declaration import StorePolicy
from dsgit.model.entry import Address, EntryData, StoreKind
from support import declaration_of, drop_ledger

from .conftest import World

COUNTERS = {
    (StoreKind.STANDARD, "Stats"): StorePolicy(counters=("c*",)),
    (StoreKind.ORDERED, "Board"): StorePolicy(counters=("*",)),
}
C0, C1 = Address.standard("Stats", "c0"), Address.standard("Stats", "c1")
WINS = Address.ordered("Board", "wins")
SWORD = Address.standard("Shop", "sword")


def test_an_increment_of_a_counter_deleted_since_the_plan_is_a_conflict(world: World) -> None:
    world.seed({C0: EntryData(10), C1: EntryData(10), WINS: 10})
    declared = declaration_of({C0: EntryData(15), C1: EntryData(15), WINS: 15}, COUNTERS)
    plan = world.plan(declared)
    world.client.delete_entry("Stats", "c0")
    world.client.delete_ordered("Board", "wins")
    world.client.update_entry("Stats", "c1", EntryData(100))  # a game server's set
    result = world.apply(plan, declared)
    assert result.status is ApplyStatus.CONFLICT and result.exit_code == 5
    assert {str(c.address) for c in result.conflicts} == {str(C0), str(WINS)}
    assert world.live(C0) is None and world.live(WINS) is None
    assert world.revisions(C0) == 2  # created, deleted: nothing re-created
    assert world.live(C1) == EntryData(105)  # a concurrent set is incremented on top


def test_a_create_over_a_tombstone_newer_than_the_plan_is_a_conflict(world: World) -> None:
    declared = declaration_of({SWORD: EntryData({"price": 1})})
    plan = world.plan(declared)
    world.client.create_entry("Shop", "sword", EntryData("game"))
    world.client.delete_entry("Shop", "sword")
    result = world.apply(plan, declared)
    assert result.status is ApplyStatus.CONFLICT
    assert "newer than the plan" in result.conflicts[0].message
    assert world.revisions(SWORD) == 2


def test_a_create_over_a_tombstone_older_than_the_plan_is_made(world: World) -> None:
    world.client.create_entry("Shop", "sword", EntryData("old"))
    world.client.delete_entry("Shop", "sword")
    declared = declaration_of({SWORD: EntryData({"price": 1})})
    result = world.apply(world.plan(declared), declared)
    assert result.status is ApplyStatus.COMPLETE and world.revisions(SWORD) == 3


def test_an_interrupted_ordered_write_is_never_repeated(world: World) -> None:
    board = Address.ordered("Board", "alice")
    declared = declaration_of({board: 7})
    plan = world.plan(declared)
    # a run that journaled its intent and died; then a game server undid whatever it did
    path = journal_path(world.root, plan.digest)
    with Journal(path, plan.digest) as journal:
        journal.write(
            {"t": "begin", "apply_id": "20261203T000000Z-x", "holder": "h", "time": "t"}
            | {"plan_digest": plan.digest}
        )
        journal.write({"t": "intent", "a": str(board), "before": {"exists": False}})
    result = world.apply(plan, declared)
    assert result.status is ApplyStatus.CONFLICT and world.live(board) is None
    assert "keep no revisions" in result.conflicts[0].message


class FailingRelease:
    """Delegates to a client; writes to the lock entry fail once the lease was taken."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.taken = False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name != "update_entry":
            return attr

        def update(store: str, *args: Any, **kw: Any) -> Any:
            if store == LOCK_STORE and self.taken:
                raise TransportError("PATCH", "/lock", "the service went away")
            return attr(store, *args, **kw)

        return update

    def create_entry(self, store: str, *args: Any, **kw: Any) -> Any:
        written = self.inner.create_entry(store, *args, **kw)
        self.taken = self.taken or store == LOCK_STORE
        return written


def test_a_failed_release_exits_1_and_a_rerun_releases_the_lease(world: World) -> None:
    declared = declaration_of({SWORD: EntryData(1)})
    plan = world.plan(declared)
    result = world.apply(plan, declared, api=FailingRelease(world.client))
    assert result.status is ApplyStatus.COMPLETE and result.exit_code == 1
    assert "dsgit lock release" in (result.lock_failure or "")
    now = datetime.now(UTC)
    assert read_lease(world.client, now).status == "held"
    again = world.apply(plan, declared)
    assert again.already_complete and again.exit_code == 0
    assert read_lease(world.client, datetime.now(UTC)).status == "released"


def _foreign_lease(world: World, expires: str) -> None:
    lease = Lease("someone", "20261203T000000Z-y", "sha256:x", "ci", "runner", 1, "t", expires)
    world.client.create_entry(LOCK_STORE, LOCK_KEY, EntryData(lease.to_json()), LOCK_SCOPE)


def test_lock_release_of_another_s_lease_needs_break_lock_and_is_recorded(
    world: World,
) -> None:
    _foreign_lease(world, "2999-01-01T00:00:00Z")
    now = datetime.now(UTC)
    with pytest.raises(LockHeld, match="--break-lock"):
        release_lock(world.client, world.root, world.env, now, break_lock=False, actor="me")
    report = release_lock(world.client, world.root, world.env, now, break_lock=True, actor="me")
    assert report.released and report.broke
    [record] = list(Ledger(world.root).records())
    assert isinstance(record.body, LockBreakRecord) and record.body.holder == "someone"
    assert not record.body.expired and record.actor == "me"
    assert read_lease(world.client, now).status == "released"


def test_lock_release_of_our_own_lease_is_refused_while_its_apply_runs(world: World) -> None:
    declared = declaration_of({SWORD: EntryData(1)})
    plan = world.plan(declared)
    world.apply(plan, declared, api=FailingRelease(world.client))  # leaves our lease held
    now = datetime.now(UTC)
    with Journal(journal_path(world.root, plan.digest)), pytest.raises(LockHeld, match="running"):
        release_lock(world.client, world.root, world.env, now, break_lock=False, actor="me")
    report = release_lock(world.client, world.root, world.env, now, break_lock=False, actor="me")
    assert report.released and report.own and not report.broke
    assert not any(isinstance(r.body, LockBreakRecord) for r in Ledger(world.root).records())


def test_an_apply_without_records_is_found_and_then_recorded_once(world: World) -> None:
    declared = declaration_of({SWORD: EntryData(1)})
    plan = world.plan(declared)
    result = world.apply(plan, declared)
    drop_ledger(world.root, world.client, world.env.name)  # what a kill before the records left
    [missing] = unrecorded_applies(world.root)
    assert missing.apply_id == result.apply_id and "pre-images" in missing.where
    again = world.apply(plan, declared, ApplyOptions(workers=1))
    assert again.already_complete
    assert unrecorded_applies(world.root) == ()
    held = recorded_apply(world.root, result.apply_id)
    assert held.addresses == {str(SWORD)} and held.statuses == {"complete"}
    world.apply(plan, declared)
    assert len(list(Ledger(world.root).records())) == 2  # one change, one apply: not twice


@pytest.mark.parametrize(
    "value",
    ["before-ledger", "journal:3", "test-only:nowhere", "test-only:journal:0", "test-only:"],
)
def test_the_stop_hook_refuses_anything_but_a_known_test_only_point(value: str) -> None:
    with pytest.raises(ConfigError, match="DSGIT_TEST_STOP_AT"):
        from_environment({"DSGIT_TEST_STOP_AT": value})


def test_the_stop_hook_is_off_unless_set() -> None:
    assert from_environment({}) is NEVER
    point = from_environment({"DSGIT_TEST_STOP_AT": "test-only:after-write:Shop/global/a"})
    assert point.point == "after-write:Shop/global/a"
    point.reached("after-write", "Shop/global/b")  # another address: nothing happens
    NEVER.reached("before-ledger")
    NEVER.journal_line()


def test_a_run_refused_before_any_change_is_not_an_unrecorded_apply(world: World) -> None:
    declared = declaration_of({SWORD: EntryData(1)})
    plan = world.plan(declared)
    _foreign_lease(world, "2999-01-01T00:00:00Z")
    with pytest.raises(LockHeld):
        world.apply(plan, declared)
    assert journal_path(world.root, plan.digest).exists()
    assert unrecorded_applies(world.root) == ()


def test_a_refused_rerun_still_releases_the_lease_its_dead_run_left(world: World) -> None:
    declared = declaration_of({SWORD: EntryData(1)})
    plan = world.plan(declared)
    world.apply(plan, declared, api=FailingRelease(world.client))  # leaves its lease held
    moved_on = declaration_of({SWORD: EntryData(2)})
    with pytest.raises(StalePlan):
        world.apply(plan, moved_on)  # the declaration changed: refused, nothing written
    assert read_lease(world.client, datetime.now(UTC)).status == "released"
    assert world.live(SWORD) == EntryData(1)
