from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.apply.journal import journal_path
from dsgit.apply.lock import LOCK_KEY, LOCK_STORE
from dsgit.apply.preimages import load, load_preimages
from dsgit.apply.progress import NullProgress
from dsgit.apply.result import ApplyStatus
from dsgit.apply.run import ApplyOptions
from dsgit.config import Environment
from dsgit.errors import EXIT_CONFLICT, EXIT_OK, PolicyRefused, StalePlan
from dsgit.ledger import ChangeOutcome, ChangeRecord, Ledger, list_applies, verify_ledger
from dsgit.model.declaration import StorePolicy, Suppression
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.plan.model import Action, Plan
from dsgit.policy.verdict import Verdict
from support import declaration_of

from .conftest import World, environment, expired

PLAYER = Address.standard("PlayerData", "Player_1")
SETTINGS = Address.standard("Config", "settings")
OLD = Address.standard("Config", "old")
COINS = Address.standard("Stats", "coins_total")
BOARD_NEW = Address.ordered("Leaderboard", "p1")
BOARD_UPD = Address.ordered("Leaderboard", "p2")

POLICIES = {
    (StoreKind.STANDARD, "Config"): StorePolicy(
        prune=True, suppress=(Suppression("DSP002", "old settings are retired"),)
    ),
    (StoreKind.STANDARD, "Stats"): StorePolicy(counters=("coins*",)),
}


def seed_live(world: World) -> None:
    world.seed(
        {
            SETTINGS: EntryData({"motd": "hello", "max": 10}, {"owner": "ops"}),
            OLD: EntryData({"legacy": True}, users=(77,)),
            COINS: EntryData(10),
            BOARD_UPD: 3,
        }
    )


def desired() -> dict[Address, EntryData | int]:
    return {
        PLAYER: EntryData({"Coins": 5, "Items": []}, users=(1,)),
        SETTINGS: EntryData({"motd": "welcome", "max": 12}, {"owner": "ops"}),
        COINS: EntryData(15),
        BOARD_NEW: 5,
        BOARD_UPD: 7,
    }


def test_apply_writes_every_kind_once_and_replans_empty(world: World) -> None:
    seed_live(world)
    declaration = declaration_of(desired(), POLICIES)
    plan = world.plan(declaration)
    actions = {str(c.address): c.action for c in plan.changes if not c.is_noop}
    assert actions == {
        str(PLAYER): Action.CREATE,
        str(SETTINGS): Action.UPDATE,
        str(OLD): Action.DELETE,
        str(COINS): Action.INCREMENT,
        str(BOARD_NEW): Action.CREATE,
        str(BOARD_UPD): Action.UPDATE,
    }
    before = {address: world.revisions(address) for address in (SETTINGS, COINS)}

    result = world.apply(plan, declaration)

    assert result.status is ApplyStatus.COMPLETE and result.exit_code == EXIT_OK
    assert len(result.written) == 6
    for address, data in desired().items():
        assert world.live(address) == data
    assert world.live(OLD) is None
    # Exactly one new revision per written standard entry.
    assert world.revisions(PLAYER) == 1
    for address, count in before.items():
        assert world.revisions(address) == count + 1
    assert not world.plan(declaration).has_changes

    # The ledger: one record per change plus the apply, chained and valid.
    assert verify_ledger(world.root).ok
    records = list(Ledger(world.root).records())
    changes = [r.body for r in records if isinstance(r.body, ChangeRecord)]
    assert {c.address for c in changes} == set(actions)
    assert all(c.outcome is ChangeOutcome.WRITTEN for c in changes)
    (run,) = list_applies(world.root)
    assert run.apply_id == result.apply_id and run.status == "complete"

    # Pre-images of what was overwritten or deleted; creates are recorded as absent.
    images = load(world.root, result.apply_id)
    assert images[SETTINGS] == EntryData({"motd": "hello", "max": 10}, {"owner": "ops"})
    assert images[OLD] == EntryData({"legacy": True}, users=(77,))
    assert images[COINS] == EntryData(10)
    assert images[BOARD_UPD] == EntryData(3)
    assert images[PLAYER] is None
    detail = load_preimages(world.root, result.apply_id)
    assert detail[COINS].action == "increment" and detail[COINS].increment == 5

    # The lock was released, not left behind.
    lock = world.client.get_entry(LOCK_STORE, LOCK_KEY)
    assert lock is not None and isinstance(lock.value, dict) and lock.value["released"] is True


def test_running_a_finished_plan_again_writes_nothing(world: World) -> None:
    seed_live(world)
    declaration = declaration_of(desired(), POLICIES)
    plan = world.plan(declaration)
    first = world.apply(plan, declaration)
    counts = {a: world.revisions(a) for a in (PLAYER, SETTINGS, COINS)}
    second = world.apply(plan, declaration)
    assert second.already_complete and second.status is ApplyStatus.COMPLETE
    assert second.apply_id == first.apply_id
    assert {a: world.revisions(a) for a in counts} == counts
    assert len(list(Ledger(world.root).records())) == 7  # no second batch


def test_concurrent_writer_is_a_conflict_and_keeps_its_value(world: World) -> None:
    seed_live(world)
    declaration = declaration_of(desired(), POLICIES)
    plan = world.plan(declaration)
    theirs = EntryData({"motd": "set by a game server", "max": 99}, {"owner": "ops"})
    world.client.update_entry("Config", "settings", theirs)
    world.client.update_ordered("Leaderboard", "p2", 42)

    result = world.apply(plan, declaration)

    assert result.status is ApplyStatus.CONFLICT and result.exit_code == EXIT_CONFLICT
    assert {str(c.address) for c in result.conflicts} == {str(SETTINGS), str(BOARD_UPD)}
    assert world.live(SETTINGS) == theirs
    assert world.live(BOARD_UPD) == 42
    assert world.live(PLAYER) == desired()[PLAYER]
    assert world.live(COINS) == EntryData(15)
    assert world.live(OLD) is None
    records = [r.body for r in Ledger(world.root).records()]
    conflicts = [b for b in records if isinstance(b, ChangeRecord) and b.outcome == "conflict"]
    assert {c.address for c in conflicts} == {str(SETTINGS), str(BOARD_UPD)}


def test_deleted_since_the_plan_is_a_conflict_for_an_update(world: World) -> None:
    seed_live(world)
    declaration = declaration_of(desired(), POLICIES)
    plan = world.plan(declaration)
    world.client.delete_entry("Config", "settings")
    result = world.apply(plan, declaration)
    assert [str(c.address) for c in result.conflicts] == [str(SETTINGS)]
    assert world.live(SETTINGS) is None


def test_already_as_planned_is_skipped(world: World) -> None:
    seed_live(world)
    declaration = declaration_of(desired(), POLICIES)
    plan = world.plan(declaration)
    world.client.create_entry(
        "PlayerData", "Player_1", EntryData({"Coins": 5, "Items": []}, users=(1,))
    )
    result = world.apply(plan, declaration)
    assert result.status is ApplyStatus.COMPLETE
    assert [str(c.address) for c in result.skipped] == [str(PLAYER)]
    assert world.revisions(PLAYER) == 1


def test_stale_plans_are_refused_before_anything_is_written(world: World) -> None:
    seed_live(world)
    declaration = declaration_of(desired(), POLICIES)
    plan = world.plan(declaration)
    with pytest.raises(StalePlan, match="expired"):
        world.apply(expired(plan), declaration)
    with pytest.raises(StalePlan, match="environment 'local', not 'prod'"):
        from dsgit.apply.run import apply_plan

        apply_plan(plan, world.deps(declaration), requested_env="prod")
    with pytest.raises(StalePlan, match="universe"):
        world.apply(plan, declaration, env=environment().__class__(name="local", universe_id=9))
    changed = declaration_of({**desired(), PLAYER: EntryData({"Coins": 6})}, POLICIES)
    with pytest.raises(StalePlan, match="declaration changed"):
        world.apply(plan, changed)
    assert world.live(PLAYER) is None
    assert world.client.get_entry(LOCK_STORE, LOCK_KEY) is None
    assert not (world.root / "audit").exists()


def test_protected_environment_and_blocking_diagnostics_refuse(world: World) -> None:
    seed_live(world)
    declaration = declaration_of(desired(), POLICIES, commit="c" * 40)
    plan = world.plan(declaration)
    with pytest.raises(PolicyRefused, match="protected environment"):
        world.apply(plan, declaration, env=environment(protected=True))
    unsuppressed = {
        **POLICIES,
        (StoreKind.STANDARD, "Config"): StorePolicy(prune=True),
    }
    blocked = declaration_of(desired(), unsuppressed)
    blocked_plan = world.plan(blocked)
    with pytest.raises(PolicyRefused, match="DSP002"):
        world.apply(blocked_plan, blocked)
    assert world.live(PLAYER) is None


def test_snapshot_when_asked_and_when_protected(world: World) -> None:
    declaration = declaration_of({PLAYER: EntryData(1)})
    plan = world.plan(declaration)
    result = world.apply(plan, declaration, ApplyOptions(snapshot=True))
    assert result.snapshot_time
    (record,) = [r.body for r in Ledger(world.root).records() if r.body.type == "apply"]
    assert record.snapshot_time == result.snapshot_time  # type: ignore[union-attr]

    other = declaration_of({PLAYER: EntryData(2)}, commit="c" * 40)
    plan = world.plan(other)
    approved: list[str] = []

    def approvals(plan: Plan, env: Environment) -> Verdict:
        approved.append(plan.digest)
        return Verdict(plan.digest, env.name, "none", rules=(), rejected=(), counted=())

    notes = NotedProgress()
    result = world.apply(
        plan, other, env=environment(protected=True), approvals=approvals, progress=notes
    )
    assert approved == [plan.digest] and result.snapshot_time
    # Roblox takes one snapshot a UTC day: the second apply's is the first's, and it says so
    assert [note for note in notes.notes if "no new snapshot" in note] == [
        f"no new snapshot: Roblox takes at most one a UTC day, and today's was taken at "
        f"{result.snapshot_time}: writes since then are not in it (the pre-images keep every "
        "value this apply overwrites)"
    ]


class NotedProgress(NullProgress):
    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        self.notes.append(text)


def test_journal_is_fsynced_jsonl_and_names_every_step(world: World) -> None:
    seed_live(world)
    declaration = declaration_of(desired(), POLICIES)
    plan = world.plan(declaration)
    world.apply(plan, declaration)
    lines = journal_path(world.root, plan.digest).read_text().splitlines()
    kinds = [json.loads(line)["t"] for line in lines]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    assert kinds.count("intent") == 6 and kinds.count("done") == 6


def test_rename_delete_waits_for_its_create(world: World) -> None:
    old = Address.standard("Items", "sword")
    new = Address.standard("Items", "blade")
    world.seed({old: EntryData({"dmg": 5})})
    policies = {
        (StoreKind.STANDARD, "Items"): StorePolicy(
            prune=True, suppress=(Suppression("DSP002", "renamed"),)
        )
    }
    declaration = declaration_of({new: EntryData({"dmg": 5})}, policies)
    entries = dict(declaration.stores[(StoreKind.STANDARD, "Items")].entries)
    from dataclasses import replace

    entries[("global", "blade")] = replace(entries[("global", "blade")], moved_from=old)
    store = replace(declaration.stores[(StoreKind.STANDARD, "Items")], entries=entries)
    from dsgit.repo.digest import declaration_digest

    stores = {(StoreKind.STANDARD, "Items"): store}
    declaration = replace(
        declaration,
        stores=stores,
        source=replace(declaration.source, digest=declaration_digest(stores, {})),
    )
    plan = world.plan(declaration)
    # Someone creates the new key first: the create conflicts, so the old one must survive.
    world.client.create_entry("Items", "blade", EntryData({"dmg": 1}))
    result = world.apply(plan, declaration)
    assert result.status is ApplyStatus.CONFLICT
    assert world.live(old) == EntryData({"dmg": 5})
    assert {str(c.address) for c in result.conflicts} == {str(old), str(new)}


def test_preimages_unknown_apply_is_an_error(tmp_path: Path) -> None:
    from dsgit.errors import ConfigError

    with pytest.raises(ConfigError, match="no pre-images"):
        load(tmp_path, "nope")


def test_signed_apply_records_verify(world: World) -> None:
    from dsgit.ledger.signing import PUBLIC_KEYS_DIR, generate_key

    signer = generate_key()
    (world.root / PUBLIC_KEYS_DIR).mkdir(parents=True)
    (world.root / PUBLIC_KEYS_DIR / "ci.pub").write_text(signer.public_text())
    declaration = declaration_of({PLAYER: EntryData(1)})
    world.apply(world.plan(declaration), declaration, signer=signer)
    report = verify_ledger(world.root, require_signatures=True)
    assert report.ok and report.signed == report.records == 2


def test_a_damaged_ledger_refuses_before_writing(world: World) -> None:
    from dsgit.errors import LedgerError
    from dsgit.ledger.layout import batch_path

    path = batch_path(world.root, "local", "20260101T000000Z-000000000000")
    path.parent.mkdir(parents=True)
    path.write_text('{"v":2,"seq":0')  # torn last line
    declaration = declaration_of({PLAYER: EntryData(1)})
    with pytest.raises(LedgerError, match="incomplete"):
        world.apply(world.plan(declaration), declaration)
    assert world.live(PLAYER) is None
