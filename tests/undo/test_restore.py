"""``plan_restore``: values current at a time, via ``@latest:<time>`` reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from dsgit.errors import ConfigError, DsgitError
from dsgit.model.declaration import Ownership, StorePolicy
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.plan.model import Action
from support import declaration_of

from .world import Clock, World

SWORD = Address.standard("Shop", "sword")
BOW = Address.standard("Shop", "bow")
AXE = Address.standard("Shop", "axe", scope="beta")
PROFILE = Address.standard("Players", "12345")
WINS = Address.ordered("Wins", "42")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(tmp_path: Path, clock: Clock) -> Iterator[World]:
    found = World(tmp_path, clock=clock)
    yield found
    found.close()


def test_restore_puts_back_the_values_of_that_time(timed: World, clock: Clock) -> None:
    timed.seed({SWORD: EntryData({"price": 100}, {"tier": "a"}, (5,)), BOW: EntryData(1)})
    clock.tick()
    at = clock.tick()
    clock.tick()
    timed.write(SWORD, EntryData({"price": 999}))
    timed.delete(BOW)
    timed.seed({Address.standard("Shop", "new"): EntryData("later")})
    clock.tick()

    declared = declaration_of({SWORD: EntryData({"price": 1})})
    plan = timed.restore(at, declared, now=clock.now)
    assert plan.kind == "restore"
    assert plan.context["at"].startswith(at.strftime("%Y-%m-%dT%H:%M:%S"))
    actions = {str(c.address): c.action for c in plan.changes}
    assert actions == {
        "Shop/global/bow": Action.CREATE,
        "Shop/global/new": Action.DELETE,
        "Shop/global/sword": Action.UPDATE,
    }
    assert [d.code for d in plan.blocking] == ["DSP001"]

    allowed = timed.restore(at, declared, now=clock.now, allow_deletes="added by a bad script")
    assert allowed.applicable
    assert timed.apply(allowed, declared, clock=clock).exit_code == 0
    assert timed.live(SWORD) == EntryData({"price": 100}, {"tier": "a"}, (5,))
    assert timed.live(BOW) == EntryData(1)
    assert timed.live(Address.standard("Shop", "new")) is None


def test_restore_names_stores_declared_or_not(timed: World, clock: Clock) -> None:
    timed.seed({PROFILE: EntryData({"Coins": 10}), AXE: EntryData("a")})
    at = clock.tick()
    clock.tick()
    timed.write(PROFILE, EntryData({"Coins": 0}))
    timed.write(AXE, EntryData("b"))
    clock.tick()
    observed = StorePolicy(ownership=Ownership.OBSERVED)
    declared = declaration_of({}, {(StoreKind.STANDARD, "Players"): observed})
    # a declared observed store is restored too: undo writes whoever owns the data
    plan = timed.restore(at, declared, now=clock.now, stores=("Players", "Shop"))
    assert {str(c.address) for c in plan.changes} == {"Players/global/12345", "Shop/beta/axe"}
    timed.apply(plan, declared, clock=clock)
    assert timed.live(PROFILE) == EntryData({"Coins": 10})
    assert timed.live(AXE) == EntryData("a")

    only = timed.restore(at, declared, now=clock.now, stores=("Shop",), targets=("Players/*",))
    assert not only.changes


def test_ordered_stores_are_left_out(timed: World, clock: Clock) -> None:
    declared = declaration_of({WINS: 3, SWORD: EntryData(1)})
    timed.seed({SWORD: EntryData(1)})
    at = clock.tick()
    plan = timed.restore(at, declared, now=clock.tick())
    assert [d.code for d in plan.diagnostics] == ["DSP044"]
    assert not plan.changes


def test_time_must_be_past_and_within_the_revision_window(timed: World, clock: Clock) -> None:
    declared = declaration_of({SWORD: EntryData(1)})
    with pytest.raises(ConfigError, match="future"):
        timed.restore(clock.now + timedelta(minutes=1), declared, now=clock.now)
    with pytest.raises(ConfigError, match="30 days"):
        timed.restore(clock.now - timedelta(days=31), declared, now=clock.now)


class FailingList:
    """The client, except that listing keys fails."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def list_keys(self, *args: object, **kw: object) -> Iterator[object]:
        raise DsgitError("listing exploded")


def test_a_failed_listing_is_an_error_never_a_deletion(timed: World, clock: Clock) -> None:
    from dsgit.undo import RestoreRequest, plan_restore

    timed.seed({SWORD: EntryData(1)})
    at = clock.tick()
    declared = declaration_of({SWORD: EntryData(1)})
    request = RestoreRequest(at, "local", 7, now=clock.tick())
    plan = plan_restore(FailingList(timed.client), request, declaration=declared)  # type: ignore[arg-type]
    assert [d.code for d in plan.blocking] == ["DSP011"]
    assert not plan.changes


def test_restored_sensitive_values_travel_sealed(timed: World, clock: Clock) -> None:
    from dsgit.crypto import Keyring, generate_key, parse_key
    from dsgit.crypto.keys import encode_key
    from dsgit.plan.io import plan_to_json

    canary = "canary-restore-41ab"
    keys = Keyring.of([parse_key(encode_key(generate_key()), "test")])
    ban = Address.standard("Bans", "7")
    timed.seed({ban: EntryData({"reason": "x", "note": canary})})
    at = clock.tick()
    clock.tick()
    timed.write(ban, EntryData({"reason": "y", "note": "edited"}))
    clock.tick()
    policy = StorePolicy(sensitive=("/note",))
    declared = declaration_of({}, {(StoreKind.STANDARD, "Bans"): policy})
    without = timed.restore(at, declared, now=clock.now)
    assert [d.code for d in without.blocking] == ["DSP017"]
    assert canary.encode() not in plan_to_json(without)

    plan = timed.restore(at, declared, keys, now=clock.now)
    assert canary.encode() not in plan_to_json(plan)
    assert "(sensitive)" in str([line.new for line in plan.changes[0].diff])
    assert timed.apply(plan, declared, keys, clock=clock).exit_code == 0
    assert timed.live(ban) == EntryData({"reason": "x", "note": canary})


def test_restore_says_how_long_before_time_each_value_was_written(
    timed: World, clock: Clock
) -> None:
    timed.seed({SWORD: EntryData({"price": 100})})
    clock.tick(3 * 3600 + 125)
    timed.seed({BOW: EntryData(1)})
    clock.tick(30)
    at = clock.tick()
    clock.tick()
    timed.write(SWORD, EntryData({"price": 999}))
    timed.delete(BOW)
    clock.tick()
    plan = timed.restore(at, declaration_of({}), now=clock.now, stores=("Shop",))
    reasons = {str(change.address): change.reason for change in plan.changes}
    when = plan.context["at"]
    assert reasons == {
        "Shop/global/bow": f"existed at {when} (written 31s before it), deleted since",
        "Shop/global/sword": f"back to its value at {when} (written 3h 2m before it)",
    }
    [note] = [d for d in plan.diagnostics if d.code == "DSP047"]
    assert note.message.startswith(
        f"restore to {when}: the 2 values found were written 31s to 3h 2m before it "
        "(farthest: Shop/global/sword). Roblox keeps one version per key per UTC hour"
    )
    assert note.count == 2


def test_with_roblox_versions_a_value_overwritten_in_its_hour_is_not_found(
    tmp_path: Path,
) -> None:
    """Hourly versions (the emulator's default, as Roblox): 10:05 held "b" live, but "b" was
    overwritten at 10:30 by "c"; the version found for 10:15 is the 9 o'clock one, and the plan
    says it is 1h 5m older than TIME."""
    from datetime import UTC, datetime

    from dsgit.emulator import Emulator
    from dsgit.remote.testing import emulated_client
    from dsgit.undo import RestoreRequest, plan_restore

    moments = {"now": datetime(2026, 12, 3, 9, 10, tzinfo=UTC)}
    emulator = Emulator(clock=lambda: moments["now"])
    with emulated_client(emulator) as client:
        for hour, minute, value in ((9, 10, "a"), (10, 5, "b"), (10, 30, "c")):
            moments["now"] = datetime(2026, 12, 3, hour, minute, tzinfo=UTC)
            client.update_entry("Shop", "sword", EntryData(value), allow_missing=True)
        at = datetime(2026, 12, 3, 10, 15, tzinfo=UTC)
        request = RestoreRequest(at, "local", 1, stores=("Shop",), now=moments["now"])
        plan = plan_restore(client, request, declaration=declaration_of({}))
    emulator.close()
    [change] = plan.changes
    assert change.after is not None and change.after.value == "a"
    assert change.reason == "back to its value at 2026-12-03T10:15:00Z (written 1h 5m before it)"
    assert any(d.code == "DSP047" and "1h 5m before it" in d.message for d in plan.diagnostics)


def test_a_delete_of_an_entry_created_before_time_carries_a_warning() -> None:
    """Created at 10:05 and written again at 10:30 (hourly versions, as Roblox): no version is
    kept at or before 10:15, yet the entry existed then. The planned delete (blocking as every
    delete, DSP001) carries DSP048 saying so; an entry created after TIME does not."""
    from datetime import UTC, datetime

    from dsgit.emulator import Emulator
    from dsgit.remote.testing import emulated_client
    from dsgit.undo import RestoreRequest, plan_restore

    moments = {"now": datetime(2026, 12, 3, 10, 5, tzinfo=UTC)}
    emulator = Emulator(clock=lambda: moments["now"])
    with emulated_client(emulator) as client:
        client.update_entry("Shop", "sword", EntryData("b"), allow_missing=True)
        client.update_entry("Shop", "fresh", EntryData("x"), allow_missing=True)
        moments["now"] = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)
        client.update_entry("Shop", "sword", EntryData("c"), allow_missing=True)
        client.update_entry("Shop", "late", EntryData("y"), allow_missing=True)
        at = datetime(2026, 12, 3, 10, 15, tzinfo=UTC)
        request = RestoreRequest(at, "local", 1, stores=("Shop",), now=moments["now"])
        plan = plan_restore(client, request, declaration=declaration_of({}))
    emulator.close()
    changes = {str(c.address): c for c in plan.changes if c.action is not Action.NOOP}
    assert {a: c.action for a, c in changes.items()} == {
        "Shop/global/late": Action.DELETE,
        "Shop/global/sword": Action.DELETE,
    }
    assert [d.code for d in changes["Shop/global/late"].diagnostics] == ["DSP001"]
    sword = changes["Shop/global/sword"].diagnostics
    assert sorted(d.code for d in sword) == ["DSP001", "DSP048"]
    [warning] = [d for d in sword if d.code == "DSP048"]
    assert "removes an entry that existed at that time" in warning.message
