"""``plan_revert``: pre-images back into place, later writes flagged, secrets sealed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dsgit.crypto import Keyring, generate_key, parse_key
from dsgit.crypto.keys import encode_key
from dsgit.errors import ConfigError
from dsgit.model.declaration import Ownership, StorePolicy
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.plan.io import plan_from_json, plan_to_json
from dsgit.plan.model import Action, increment_of
from dsgit.undo import RevertRequest, find_apply, plan_revert
from support import declaration_of

from .world import ALLOW_ALL, UNIVERSE, World

SHOP = (StoreKind.STANDARD, "Shop")
SWORD = Address.standard("Shop", "sword")
SHIELD = Address.standard("Shop", "shield")
BOW = Address.standard("Shop", "bow")
WINS = Address.ordered("Wins", "42")
OWNED_PRUNE = StorePolicy(prune=True, suppress=ALLOW_ALL)


def _actions(plan: object) -> dict[str, str]:
    return {str(c.address): c.action.value for c in plan.changes}  # type: ignore[attr-defined]


def test_revert_restores_updates_deletes_and_creates(world: World) -> None:
    before = {
        SWORD: EntryData({"price": 100}, {"tier": "common"}, (1, 2)),
        SHIELD: EntryData({"price": 50}),
    }
    world.seed(before)
    declared = declaration_of(
        {SWORD: EntryData({"price": 120}), BOW: EntryData({"price": 70})}, {SHOP: OWNED_PRUNE}
    )
    assert world.apply(world.plan(declared), declared).exit_code == 0
    assert world.live(SHIELD) is None and world.live(BOW) is not None

    plan = world.revert(world.last_apply(), declared)
    assert plan.kind == "revert"
    assert plan.context["apply_id"] == world.last_apply().apply_id
    assert _actions(plan) == {
        "Shop/global/bow": "delete",
        "Shop/global/shield": "create",
        "Shop/global/sword": "update",
    }
    assert plan.applicable, plan.blocking
    assert plan.destructive
    bow = next(c for c in plan.changes if c.address == BOW)
    assert bow.diagnostics[0].code == "DSP001"
    assert bow.diagnostics[0].suppressed_reason is not None

    assert world.apply(plan, declared).exit_code == 0
    assert world.live(SWORD) == before[SWORD]
    assert world.live(SHIELD) == before[SHIELD]
    assert world.live(BOW) is None


def test_a_later_write_blocks_until_excluded_or_overwritten(world: World) -> None:
    world.seed({SWORD: EntryData({"price": 100})})
    declared = declaration_of({SWORD: EntryData({"price": 120}), BOW: EntryData(1)})
    world.apply(world.plan(declared), declared)
    run = world.last_apply()
    world.write(SWORD, EntryData({"price": 999}))  # a game server, after the apply

    plan = world.revert(run, declared)
    sword = next(c for c in plan.changes if c.address == SWORD)
    assert [d.code for d in sword.diagnostics] == ["DSP040"]
    assert "changed since" in sword.diagnostics[0].message
    assert not plan.applicable

    kept = world.revert(run, declared, excludes=("Shop/global/sword",))
    assert _actions(kept) == {"Shop/global/bow": "delete"}
    assert kept.applicable
    assert world.apply(kept, declared).exit_code == 0
    assert world.live(SWORD) == EntryData({"price": 999})

    forced = world.revert(run, declared, overwrite_reason="the hotfix was wrong")
    sword = next(c for c in forced.changes if c.address == SWORD)
    assert sword.diagnostics[0].suppressed_reason == "the hotfix was wrong"
    assert forced.applicable
    world.apply(forced, declared)
    assert world.live(SWORD) == EntryData({"price": 100})


def test_a_later_write_of_the_same_value_is_no_change(world: World) -> None:
    world.seed({SWORD: EntryData({"price": 100})})
    declared = declaration_of({SWORD: EntryData({"price": 120}, {"tier": "a"})})
    world.apply(world.plan(declared), declared)
    run = world.last_apply()
    world.write(SWORD, EntryData({"price": 120}, {"tier": "a"}))  # new revision, same data
    plan = world.revert(run, declared)
    assert plan.applicable
    world.write(SWORD, EntryData({"price": 120}, {"tier": "b"}))  # metadata changed: flagged
    assert [d.code for d in world.revert(run, declared).blocking] == ["DSP040"]


def test_deleted_since_is_flagged_and_recreated(world: World) -> None:
    world.seed({SWORD: EntryData({"price": 100})})
    declared = declaration_of({SWORD: EntryData({"price": 120})})
    world.apply(world.plan(declared), declared)
    run = world.last_apply()
    world.delete(SWORD)
    plan = world.revert(run, declared, overwrite_reason="bring it back")
    (change,) = plan.changes
    assert change.action is Action.CREATE
    assert "deleted since" in change.diagnostics[0].message
    world.apply(plan, declared)
    assert world.live(SWORD) == EntryData({"price": 100})


def test_increments_revert_by_the_opposite_amount(world: World) -> None:
    world.seed({WINS: 10})
    policy = StorePolicy(counters=("*",))
    declared = declaration_of({WINS: 15}, {(StoreKind.ORDERED, "Wins"): policy})
    plan = world.plan(declared)
    assert plan.changes[0].action is Action.INCREMENT
    world.apply(plan, declared)
    run = world.last_apply()
    world.write(WINS, 17)  # two more wins since
    revert = world.revert(run, declared)
    (change,) = revert.changes
    assert change.action is Action.INCREMENT and increment_of(change) == -5
    assert [d.code for d in change.diagnostics] == ["DSP043"]
    assert revert.applicable
    world.apply(revert, declared)
    assert world.live(WINS) == 12


def test_nothing_to_revert_when_already_back(world: World) -> None:
    world.seed({SWORD: EntryData({"price": 100})})
    declared = declaration_of({SWORD: EntryData({"price": 120})})
    world.apply(world.plan(declared), declared)
    run = world.last_apply()
    world.write(SWORD, EntryData({"price": 100}))
    plan = world.revert(run, declared)
    assert not plan.has_changes
    assert plan.summary["no-op"] == 1


def test_missing_preimage_is_an_error(world: World) -> None:
    world.seed({SWORD: EntryData({"price": 100})})
    declared = declaration_of({SWORD: EntryData({"price": 120})})
    world.apply(world.plan(declared), declared)
    run = world.last_apply()
    for path in (world.root / "audit" / "preimages" / run.apply_id).rglob("*.json"):
        path.unlink()
    plan = world.revert(run, declared)
    assert [d.code for d in plan.blocking] == ["DSP041"]
    shutil.rmtree(world.root / "audit" / "preimages")
    assert [d.code for d in world.revert(run, declared).blocking] == ["DSP041"]


def test_find_apply_by_id_and_prefix(world: World) -> None:
    declared = declaration_of({SWORD: EntryData(1)})
    world.apply(world.plan(declared), declared)
    run = world.last_apply()
    assert find_apply(world.root, run.apply_id) == run
    assert find_apply(world.root, run.apply_id[:10]) == run
    with pytest.raises(ConfigError, match="no apply 'zzz'"):
        find_apply(world.root, "zzz")
    with pytest.raises(ConfigError, match="no apply"):
        find_apply(world.root, "")


def test_ambiguous_prefix(world: World) -> None:
    for value in (1, 2):
        declared = declaration_of({SWORD: EntryData(value)})
        world.apply(world.plan(declared), declared)
    with pytest.raises(ConfigError, match="ambiguous"):
        find_apply(world.root, "2")


def _keyring() -> Keyring:
    return Keyring.of([parse_key(encode_key(generate_key()), "test")])


CANARY = "canary-7f3e-do-not-leak"


def test_sensitive_values_travel_sealed(world: World, tmp_path: Path) -> None:
    keys = _keyring()
    policy = StorePolicy(sensitive=("/note",))
    store = (StoreKind.STANDARD, "Bans")
    ban = Address.standard("Bans", "261")
    world.seed({ban: EntryData({"reason": "x", "note": CANARY}, {}, (261,))})
    declared = declaration_of(
        {ban: EntryData({"reason": "y", "note": "new"}, {}, (261,))}, {store: policy}
    )
    world.apply(world.plan(declared, keys), declared, keys)
    preimages = world.root / "audit" / "preimages"
    assert all(CANARY not in p.read_text() for p in preimages.rglob("*.json"))

    plan = world.revert(world.last_apply(), declared, keys)
    data = plan_to_json(plan)
    assert CANARY.encode() not in data
    assert plan_from_json(data, source="p").digest == plan.digest
    (change,) = plan.changes
    assert change.after is not None
    assert isinstance(change.after.value, dict)
    assert str(change.after.value["note"]).startswith("ENC[")
    assert all(CANARY not in json.dumps(line.old) for line in change.diff)

    assert world.apply(plan, declared, keys).exit_code == 0
    assert world.live(ban) == EntryData({"reason": "x", "note": CANARY}, {}, (261,))


def test_sensitive_values_without_a_key_are_an_error(world: World) -> None:
    keys = _keyring()
    policy = StorePolicy(sensitive=("/note",))
    ban = Address.standard("Bans", "261")
    world.seed({ban: EntryData({"note": CANARY})})
    declared = declaration_of(
        {ban: EntryData({"note": "new"})}, {(StoreKind.STANDARD, "Bans"): policy}
    )
    world.apply(world.plan(declared, keys), declared, keys)
    with pytest.raises(ConfigError):
        world.revert(world.last_apply(), declared, None)  # the pre-image cannot be opened


def test_a_preimage_sealed_before_is_sealed_whole_when_no_longer_sensitive(
    world: World,
) -> None:
    keys = _keyring()
    ban = Address.standard("Bans", "261")
    sensitive = declaration_of(
        {ban: EntryData({"note": "new"})},
        {(StoreKind.STANDARD, "Bans"): StorePolicy(sensitive=("/note",))},
    )
    world.seed({ban: EntryData({"note": CANARY})})
    world.apply(world.plan(sensitive, keys), sensitive, keys)
    plain_now = declaration_of({ban: EntryData({"note": "new"})})  # the policy was dropped since
    plan = world.revert(world.last_apply(), plain_now, keys)
    (change,) = plan.changes
    assert change.after is not None and str(change.after.value).startswith("ENC[")
    assert CANARY.encode() not in plan_to_json(plan)
    assert world.apply(plan, plain_now, keys).exit_code == 0
    assert world.live(ban) == EntryData({"note": CANARY})


@pytest.mark.parametrize("ownership", [Ownership.SEED, Ownership.OBSERVED])
def test_revert_never_deletes_a_seed_or_observed_entry_the_apply_created(
    world: World, ownership: Ownership
) -> None:
    board = (StoreKind.ORDERED, "Wins")
    seeded = declaration_of({WINS: 5}, {board: StorePolicy(ownership=Ownership.SEED)})
    world.apply(world.plan(seeded), seeded)
    # the policy now (observed, or seed) and the policy as of the apply (seed) both keep it
    now = declaration_of({WINS: 5}, {board: StorePolicy(ownership=ownership)})
    plan = world.revert(world.last_apply(), now)
    assert plan.changes == ()
    notes = [d for d in plan.diagnostics if d.code == "DSP046"]
    assert len(notes) == 1 and "not deleted" in notes[0].message
    world.apply(plan, now)
    assert world.live(WINS) == 5


def test_revert_reads_the_policy_as_of_the_apply(world: World) -> None:
    board = (StoreKind.ORDERED, "Wins")
    seeded = declaration_of({WINS: 5}, {board: StorePolicy(ownership=Ownership.SEED)})
    world.apply(world.plan(seeded), seeded)
    owned_now = declaration_of({WINS: 5}, {board: StorePolicy()})
    request = RevertRequest(world.last_apply().apply_id, "local", UNIVERSE)
    plan = plan_revert(
        world.root,
        world.last_apply(),
        world.client,
        request,
        declaration=owned_now,
        applied=seeded,
    )
    assert plan.changes == () and [d.code for d in plan.diagnostics] == ["DSP046"]
    # without the apply's policy, an entry owned now is deleted as usual
    plan = world.revert(world.last_apply(), owned_now)
    assert [(c.action, c.ownership) for c in plan.changes] == [(Action.DELETE, "owned")]
