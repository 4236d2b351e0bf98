"""Adversarial cases: what a forged, mixed-up or raced plan must not get past (docs/applying.md)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dsgit.apply.journal import journal_path
from dsgit.apply.preimages import PREIMAGE_DIR, load_preimages
from dsgit.apply.result import ApplyStatus
from dsgit.apply.run import ApplyOptions, apply_plan
from dsgit.errors import ConfigError, LockHeld, StalePlan
from dsgit.ledger import Ledger, list_applies, verify_ledger
from dsgit.model.declaration import Ownership, StorePolicy, Suppression
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.model.limits import MAX_VALUE_CHARS
from dsgit.plan.io import plan_from_json, plan_to_json, with_digest
from dsgit.plan.model import Action, DeleteChange, StandardPrecondition, UpdateChange
from support import declaration_of, drop_ledger

from .conftest import World, keyring

SETTINGS = Address.standard("Config", "settings")
BOARD = Address.ordered("Leaderboard", "p1")
COINS = Address.standard("Stats", "coins")
COUNTERS = {(StoreKind.STANDARD, "Stats"): StorePolicy(counters=("coins",))}
_PRUNE = Suppression("DSP002", "retired")


def _forge(plan_bytes: bytes, edit: object) -> bytes:
    """What an attacker with write access to the plan file does: edit, recompute the digest."""
    plan = plan_from_json(plan_bytes, source="plan.json")
    assert callable(edit)
    return plan_to_json(with_digest(edit(plan)))


def test_forged_after_with_a_recomputed_digest_is_refused(world: World) -> None:
    world.seed({SETTINGS: EntryData({"motd": "hello"})})
    declaration = declaration_of({SETTINGS: EntryData({"motd": "welcome"})})
    plan = world.plan(declaration)

    def evil(p):  # type: ignore[no-untyped-def]
        change = replace(p.changes[0], after=EntryData({"motd": "pwned"}))
        return replace(p, changes=(change,))

    forged = plan_from_json(_forge(plan_to_json(plan), evil), source="plan.json")
    with pytest.raises(StalePlan, match="not what the declaration"):
        world.apply(forged, declaration)
    assert world.live(SETTINGS) == EntryData({"motd": "hello"})


def test_forged_delete_of_a_declared_entry_is_refused(world: World) -> None:
    world.seed({SETTINGS: EntryData({"motd": "hello"})})
    declaration = declaration_of({SETTINGS: EntryData({"motd": "hello"})})
    live = world.client.get_entry("Config", "settings")
    assert live is not None
    forged = with_digest(
        replace(
            world.plan(declaration),
            changes=(
                DeleteChange(
                    address=SETTINGS,
                    reason="no file (prune)",
                    precondition=StandardPrecondition(True, live.etag, live.revision_id),
                    diff=(),
                    sensitive=(),
                    encrypted=(),
                    diagnostics=(),
                ),
            ),
        )
    )
    with pytest.raises(StalePlan, match="declared"):
        world.apply(forged, declaration)
    assert world.live(SETTINGS) == EntryData({"motd": "hello"})


def test_forged_increment_amount_is_refused(world: World) -> None:
    world.seed({COINS: EntryData(10)})
    declaration = declaration_of({COINS: EntryData(15)}, COUNTERS)
    plan = world.plan(declaration)
    assert plan.changes[0].action is Action.INCREMENT

    def evil(p):  # type: ignore[no-untyped-def]
        return replace(p, changes=(replace(p.changes[0], amount=1_000_000),))

    forged = plan_from_json(_forge(plan_to_json(plan), evil), source="plan.json")
    with pytest.raises(StalePlan, match="increment amount"):
        world.apply(forged, declaration)
    assert world.live(COINS) == EntryData(10)


def test_an_undeclared_store_cannot_be_pruned_by_a_forged_plan(world: World) -> None:
    other = Address.standard("PlayerData", "Player_9")
    world.seed({other: EntryData({"Coins": 1})})
    declaration = declaration_of({SETTINGS: EntryData({"motd": "x"})})
    live = world.client.get_entry("PlayerData", "Player_9")
    assert live is not None
    plan = world.plan(declaration)
    first = plan.changes[0]
    delete = DeleteChange(
        address=other,
        reason=first.reason,
        precondition=StandardPrecondition(True, live.etag, live.revision_id),
        diff=first.diff,
        sensitive=first.sensitive,
        encrypted=first.encrypted,
        diagnostics=first.diagnostics,
    )
    forged = with_digest(replace(plan, changes=(*plan.changes, delete)))
    with pytest.raises(StalePlan, match="does not prune"):
        world.apply(forged, declaration)
    assert world.live(other) == EntryData({"Coins": 1})
    assert world.live(SETTINGS) is None  # refused before anything was written


def test_recreated_live_with_the_same_value_is_a_conflict(world: World) -> None:
    """Deleted and created again between plan and apply: same value, new etag, not ours."""
    old = Address.standard("Config", "old")
    world.seed({SETTINGS: EntryData({"motd": "hello"}), old: EntryData({"legacy": True})})
    policies = {(StoreKind.STANDARD, "Config"): StorePolicy(prune=True, suppress=(_PRUNE,))}
    declaration = declaration_of({SETTINGS: EntryData({"motd": "welcome"})}, policies)
    plan = world.plan(declaration)
    for address, data in ((SETTINGS, {"motd": "hello"}), (old, {"legacy": True})):
        world.client.delete_entry(address.store, address.key)
        world.client.create_entry(address.store, address.key, EntryData(data))

    result = world.apply(plan, declaration)

    assert result.status is ApplyStatus.CONFLICT
    assert {str(c.address) for c in result.conflicts} == {str(SETTINGS), str(old)}
    assert world.live(SETTINGS) == EntryData({"motd": "hello"})
    assert world.live(old) == EntryData({"legacy": True})


def test_attributes_or_users_changed_live_with_the_same_value_is_a_conflict(world: World) -> None:
    other = Address.standard("Config", "other")
    world.seed({SETTINGS: EntryData({"motd": "hello"}), other: EntryData({"x": 1})})
    declaration = declaration_of(
        {SETTINGS: EntryData({"motd": "welcome"}), other: EntryData({"x": 2})}
    )
    plan = world.plan(declaration)
    world.client.update_entry("Config", "settings", EntryData({"motd": "hello"}, {"by": "game"}))
    world.client.update_entry("Config", "other", EntryData({"x": 1}, users=(42,)))

    result = world.apply(plan, declaration)

    assert {str(c.address) for c in result.conflicts} == {str(SETTINGS), str(other)}
    assert world.live(SETTINGS) == EntryData({"motd": "hello"}, {"by": "game"})
    assert world.live(other) == EntryData({"x": 1}, users=(42,))


def test_ordered_entry_changed_or_deleted_live_is_a_conflict(world: World) -> None:
    gone = Address.ordered("Leaderboard", "p2")
    world.seed({BOARD: 3, gone: 4})
    declaration = declaration_of({BOARD: 7, gone: 8})
    plan = world.plan(declaration)
    world.client.update_ordered("Leaderboard", "p1", 5)
    world.client.delete_ordered("Leaderboard", "p2")

    result = world.apply(plan, declaration)

    assert {str(c.address) for c in result.conflicts} == {str(BOARD), str(gone)}
    assert world.live(BOARD) == 5
    assert world.live(gone) is None


def test_counter_changed_live_is_still_incremented_by_the_planned_amount(world: World) -> None:
    """Documented trade-off: an increment adds to whatever the counter holds now."""
    world.seed({COINS: EntryData(10)})
    declaration = declaration_of({COINS: EntryData(15)}, COUNTERS)
    plan = world.plan(declaration)
    world.client.increment_entry("Stats", "coins", 100)

    result = world.apply(plan, declaration)

    assert result.status is ApplyStatus.COMPLETE
    assert world.live(COINS) == EntryData(115)
    assert world.revisions(COINS) == 3


def test_a_journal_from_another_plan_is_refused(world: World) -> None:
    world.seed({SETTINGS: EntryData({"motd": "hello"})})
    first = declaration_of({SETTINGS: EntryData({"motd": "one"})})
    done = world.apply(world.plan(first), first)
    assert done.status is ApplyStatus.COMPLETE
    second = declaration_of({SETTINGS: EntryData({"motd": "two"})})
    plan = world.plan(second)
    # The first plan's finished journal, copied under the second plan's name, must not make
    # the second plan look finished (or resume someone else's intents).
    shutil.copy(journal_path(world.root, done.plan_digest), journal_path(world.root, plan.digest))
    with pytest.raises(ConfigError, match="another plan"):
        world.apply(plan, second)
    assert world.live(SETTINGS) == EntryData({"motd": "one"})


@pytest.mark.parametrize(
    "key", ["../../../escape", "a/b/../../c", "%2E%2E", "..", ".", "ключ/😀", "я" * 50, "/"]
)
def test_preimage_files_stay_inside_their_apply_folder(world: World, key: str) -> None:
    address = Address.standard("Con/../fig", key, scope="../s")
    world.seed({address: EntryData({"old": key})})
    declaration = declaration_of({address: EntryData({"new": key})})
    result = world.apply(world.plan(declaration), declaration)
    assert result.status is ApplyStatus.COMPLETE
    folder = (world.root / PREIMAGE_DIR / result.apply_id).resolve()
    files = [p for p in world.root.rglob("*.json") if "preimages" in p.parts]
    assert len(files) == 1 and files[0].resolve().is_relative_to(folder)
    assert load_preimages(world.root, result.apply_id)[address].data == EntryData({"old": key})


def test_unknown_or_traversing_apply_ids_are_refused(world: World) -> None:
    (world.root / "audit").mkdir()
    outside = world.root / "audit" / "elsewhere" / "standard" / "S" / "global"
    outside.mkdir(parents=True)
    (outside / "k.json").write_text(json.dumps({"address": "S/global/k"}), encoding="utf-8")
    for apply_id in ("../elsewhere", "..", "/etc", ""):
        with pytest.raises(ConfigError):
            load_preimages(world.root, apply_id)


class _Interrupting:
    """Delegates to a client; after ``after`` writes to data entries, runs ``then`` once."""

    def __init__(self, inner: Any, after: int, then: Callable[[], None]) -> None:
        self.inner, self.left, self.then = inner, after, then

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not name.startswith(("create", "update", "delete", "increment")):
            return attr

        def write(*args: Any, **kw: Any) -> Any:
            result = attr(*args, **kw)
            if args and args[0] != "_dsgit":
                self.left -= 1
                if self.left == 0:
                    self.then()
            return result

        return write


def _keys(n: int, value: int) -> dict[Address, EntryData | int]:
    return {Address.standard("Data", f"k{i}"): EntryData({"v": value}) for i in range(n)}


def test_an_apply_from_elsewhere_is_refused_while_one_runs(world: World, tmp_path: Path) -> None:
    """Two machines (two repository folders, one universe): the lease admits one apply."""
    world.seed(_keys(3, 0))
    ours = declaration_of(_keys(3, 1))
    theirs = declaration_of(_keys(3, 2))
    their_plan = world.plan(theirs)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    refused: list[Exception] = []

    def second_machine() -> None:
        with pytest.raises(LockHeld) as caught:
            apply_plan(their_plan, replace(world.deps(theirs), root=elsewhere), ApplyOptions())
        refused.append(caught.value)

    api = _Interrupting(world.client, 1, second_machine)
    result = world.apply(world.plan(ours), ours, ApplyOptions(workers=1), api=api)

    assert refused and result.status is ApplyStatus.COMPLETE
    assert all(world.live(a) == EntryData({"v": 1}) for a in _keys(3, 0))
    # The lock is free again, and their plan, made before ours ran, overwrites nothing.
    late = apply_plan(their_plan, replace(world.deps(theirs), root=elsewhere), ApplyOptions())
    assert late.status is ApplyStatus.CONFLICT and len(late.conflicts) == 3
    assert all(world.live(a) == EntryData({"v": 1}) for a in _keys(3, 0))


def test_resuming_an_old_plan_after_another_plan_applied(world: World) -> None:
    """Plan A stops part way; plan B (a newer declaration) is applied; A is run again."""
    world.seed(_keys(4, 0))
    first = declaration_of(_keys(4, 1))
    plan_a = world.plan(first)

    def stop() -> None:
        raise KeyboardInterrupt

    api = _Interrupting(world.client, 2, stop)
    stopped = world.apply(plan_a, first, ApplyOptions(workers=1), api=api)
    assert stopped.status is ApplyStatus.INTERRUPTED
    second = declaration_of(_keys(4, 2))
    assert world.apply(world.plan(second), second).status is ApplyStatus.COMPLETE

    # The working tree is now B's: A is stale.
    with pytest.raises(StalePlan, match="declaration changed"):
        world.apply(plan_a, second)
    # Even with A's declaration back (say, `git checkout` of A's commit), nothing of B's is
    # overwritten: every entry B wrote differs from A's preconditions.
    again = world.apply(plan_a, first)
    assert again.resumed and again.status is ApplyStatus.CONFLICT
    assert all(world.live(a) == EntryData({"v": 2}) for a in _keys(4, 0))


def test_a_write_racing_a_delete_is_kept_in_revision_history(world: World) -> None:
    """Documented window: Open Cloud deletes have no precondition. A game server's write in
    the round trip between apply's check and its delete is lost live, but its revision stays."""
    old = Address.standard("Config", "old")
    world.seed({old: EntryData({"legacy": True}), SETTINGS: EntryData(1)})
    policies = {(StoreKind.STANDARD, "Config"): StorePolicy(prune=True, suppress=(_PRUNE,))}
    declaration = declaration_of({SETTINGS: EntryData(1)}, policies)
    plan = world.plan(declaration)
    assert [c.action for c in plan.changes] == [Action.DELETE]

    class Racing:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def delete_entry(self, *args: Any, **kw: Any) -> Any:
            self.inner.update_entry("Config", "old", EntryData({"legacy": "game"}))
            return self.inner.delete_entry(*args, **kw)

    result = world.apply(plan, declaration, api=Racing(world.client))

    assert result.status is ApplyStatus.COMPLETE and world.live(old) is None
    revisions = list(world.client.list_revisions("Config", "old"))
    found = [world.client.get_entry("Config", "old", revision=r.revision_id) for r in revisions]
    assert any(r is not None and r.value == {"legacy": "game"} for r in found)


@pytest.mark.parametrize("sensitive", [(), ("/token",)])
def test_a_value_shaped_like_a_placeholder_is_written_as_declared(
    world: World, sensitive: tuple[str, ...]
) -> None:
    """Only nodes under the store's sensitive pointers are placeholders; any other
    ``{"$sensitive": ...}`` is plain game data."""
    address = Address.standard("Secrets", "webhook")
    data = EntryData(
        {"token": "t", "meta": {"$sensitive": "sha256:" + "0" * 64}},
        {"tag": {"$sensitive": "attribute"}},
    )
    policies = {(StoreKind.STANDARD, "Secrets"): StorePolicy(sensitive=sensitive)}
    declaration = declaration_of({address: data}, policies)

    result = world.apply(world.plan(declaration), declaration, keyring=keyring())

    assert result.status is ApplyStatus.COMPLETE
    assert world.live(address) == data


def test_writes_of_a_killed_apply_are_recorded_when_its_plan_can_no_longer_resume(
    world: World,
) -> None:
    """kill -9, then the plan expires (or the declaration moves on): the writes the dead run
    made must still reach the ledger, so they can be audited and reverted."""
    world.seed(_keys(4, 0))
    declaration = declaration_of(_keys(4, 1))
    plan = world.plan(declaration)

    def stop() -> None:
        raise KeyboardInterrupt

    # The third write lands, then the run is interrupted before its completion; the fourth
    # step, already queued, never starts (it used to, or not, as the threads were scheduled).
    api = _Interrupting(world.client, 3, stop)
    first = world.apply(plan, declaration, ApplyOptions(workers=1), api=api)
    assert first.status is ApplyStatus.INTERRUPTED
    # What kill -9 leaves: no `end` in the journal, nothing in the ledger.
    path = journal_path(world.root, plan.digest)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if '"t":"end"' not in line), encoding="utf-8")
    drop_ledger(world.root, world.client)

    later = datetime.now(UTC) + timedelta(days=2)
    with pytest.raises(StalePlan, match="expired"):
        world.apply(plan, declaration, clock=lambda: later)

    (run,) = list_applies(world.root)
    assert run.apply_id == first.apply_id and run.status == "partial"
    written = sorted(c.address for c in run.changes if c.outcome == "written")
    assert len(written) == 2
    images = load_preimages(world.root, first.apply_id)
    assert set(written) < {str(a) for a in images}
    assert verify_ledger(world.root).ok
    with pytest.raises(StalePlan):  # asked again: refused again, recorded once
        world.apply(plan, declaration, clock=lambda: later)
    assert len(list(Ledger(world.root).records())) == 3
    # The write cut off between its intent and its completion landed too: not recorded as
    # written (nothing can tell without reading live), but its pre-image is kept.
    landed = [a for a in _keys(4, 0) if world.live(a) == EntryData({"v": 1})]
    assert len(landed) == len(images) == 3


def test_a_value_at_the_size_limit_keeps_a_complete_preimage(world: World) -> None:
    big = {"blob": "x" * (MAX_VALUE_CHARS - 64)}
    world.seed({SETTINGS: EntryData(big)})
    declaration = declaration_of({SETTINGS: EntryData({"blob": "small"})})

    result = world.apply(world.plan(declaration), declaration)

    assert result.status is ApplyStatus.COMPLETE
    assert load_preimages(world.root, result.apply_id)[SETTINGS].data == EntryData(big)


@pytest.mark.parametrize("ownership", [Ownership.SEED, Ownership.OBSERVED])
def test_a_forged_write_of_an_entry_dsgit_does_not_own_is_refused(
    world: World, ownership: Ownership
) -> None:
    world.seed({SETTINGS: EntryData({"motd": "game data"})})
    policies = {(StoreKind.STANDARD, "Config"): StorePolicy(ownership=ownership)}
    declaration = declaration_of({SETTINGS: EntryData({"motd": "seeded"})}, policies)
    plan = world.plan(declaration)
    assert not plan.changes  # dsgit plans nothing for it
    live = world.client.get_entry("Config", "settings")
    assert live is not None
    update = UpdateChange(
        address=SETTINGS,
        reason="live value differs from the declaration",
        precondition=StandardPrecondition(True, live.etag, live.revision_id),
        after=EntryData({"motd": "seeded"}),
        diff=(),
        sensitive=(),
        encrypted=(),
        diagnostics=(),
    )
    forged = with_digest(replace(plan, changes=(update,)))
    with pytest.raises(StalePlan, match=ownership.value):
        world.apply(forged, declaration)
    assert world.live(SETTINGS) == EntryData({"motd": "game data"})
