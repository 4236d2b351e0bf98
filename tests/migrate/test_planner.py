"""``migrate plan`` against the emulator: counts, session locks, schema failures, and the plan
going through apply and revert unchanged; a finished migration plans nothing."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dsgit.crypto import Keyring, generate_key, parse_key
from dsgit.crypto.keys import encode_key
from dsgit.errors import RemoteError
from dsgit.migrate.files import MigrationFile
from dsgit.migrate.planner import MigrationRequest
from dsgit.migrate.usecase import ScanSettings, plan_migration
from dsgit.migrate.visitor import Tally
from dsgit.model.declaration import Declaration, Ownership, StorePolicy
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.plan.allow import allow
from dsgit.plan.io import plan_from_json, plan_to_json
from dsgit.plan.model import Action, Allowance, Plan
from support import declaration_of
from undo.world import UNIVERSE, World

from .fixtures import DS2_NEW, DS2_OLD, PROFILE_MIGRATION, PROFILE_V1, PROFILE_V2, with_session
from .support import migration_of, steps_yaml

STORE = "PlayerStore"
OBSERVED = {(StoreKind.STANDARD, STORE): StorePolicy(ownership=Ownership.OBSERVED)}


def player(key: str) -> Address:
    return Address.standard(STORE, key)


def profile(value: dict[str, Any], user: int) -> EntryData:
    return EntryData(value, {"source": "game"}, (user,))


def migrate(
    world: World,
    text: str = PROFILE_MIGRATION,
    declaration: Declaration | None = None,
    *,
    keyring: Keyring | None = None,
    scan: ScanSettings | None = None,
    client: Any = None,
    **request: Any,
) -> tuple[Plan, Tally]:
    migration = migration_of(text)
    source = MigrationFile(migration, "sha256:" + "0" * 64)
    declared = declaration if declaration is not None else declaration_of({}, OBSERVED)
    run = plan_migration(
        client if client is not None else world.client,
        source,
        declared,
        MigrationRequest("local", UNIVERSE, **request),
        keyring=keyring,
        scan=scan,
    )
    run.done()
    return run.plan, run.tally


@pytest.fixture
def players(world: World) -> World:
    world.seed(
        {
            player("1001"): profile(PROFILE_V1, 1001),
            player("1002"): profile(with_session(PROFILE_V1), 1002),
            player("1003"): profile(PROFILE_V2, 1003),
            player("1004"): profile(DS2_OLD, 1004),
        }
    )
    return world


def test_plan_counts_and_reports(players: World) -> None:
    plan, tally = migrate(players)
    assert plan.kind == "migration"
    assert [(str(c.address), c.action) for c in plan.changes] == [
        ("PlayerStore/global/1001", Action.UPDATE)
    ]
    change = plan.changes[0]
    assert change.after == EntryData(PROFILE_V2, {"source": "game"}, (1001,))
    assert change.reason == "migration m1"
    assert {line.pointer for line in change.diff} >= {"/Data/Gold", "/Data/Coins"}
    assert (tally.read, tally.migrated, tally.locked, tally.not_matched) == (4, 1, 1, 2)
    assert plan.context["migration"] == "m1" and "session_locked" not in plan.context
    codes = {d.code: d for d in plan.diagnostics}
    assert "PlayerStore/global/1002" in codes["DSP070"].message  # left out, retried later
    assert codes["DSP070"].count == 1
    assert codes["DSP083"].count == 2 and "PlayerStore/global/1004" in codes["DSP083"].message
    assert codes["DSP084"].count == 4
    assert plan.applicable  # a lock left out blocks nothing
    assert plan_from_json(plan_to_json(plan), source="plan.json").digest == plan.digest


def test_migrate_apply_revert_restores_exactly(players: World) -> None:
    stores = {StoreKind.STANDARD: (STORE,)}
    before = players.snapshot(stores)
    declared = declaration_of({}, OBSERVED)
    plan, _ = migrate(players)
    result = players.apply(plan, None)
    assert result.exit_code == 0, result
    assert players.live(player("1001")) == EntryData(PROFILE_V2, {"source": "game"}, (1001,))
    # a finished migration plans nothing: the migrated value no longer matches
    again, tally = migrate(players)
    assert not again.has_changes and tally.migrated == 0
    revert = players.revert(players.last_apply(), declared)
    assert players.apply(revert, None).exit_code == 0
    assert players.snapshot(stores) == before


def test_rerun_without_match_schema_is_a_noop(world: World) -> None:
    # the same steps with no match schema: idempotent by the steps alone
    steps = PROFILE_MIGRATION[PROFILE_MIGRATION.index("transform:") :]
    text = "version: 1\nselect: {store: PlayerStore}\n" + steps
    world.seed({player("1"): profile(PROFILE_V1, 1)})
    plan, _ = migrate(world, text)
    assert plan.has_changes
    assert world.apply(plan, None).exit_code == 0
    again, tally = migrate(world, text)
    assert not again.has_changes
    assert (tally.unchanged, tally.not_matched) == (1, 0)  # the steps leave it as it is
    assert again.summary["no-op"] == 1


def test_locked_profiles_are_written_only_when_allowed(players: World) -> None:
    plan, tally = migrate(players, allow_locked=True)
    assert tally.locked == 0
    locked = next(c for c in plan.changes if c.address == player("1002"))
    assert "DSP005" in [d.code for d in locked.diagnostics]
    assert not plan.applicable  # DSP005 blocks until let through with a reason
    allowed = allow(plan, (Allowance("DSP005", "support ticket 991: player stuck"),))
    assert allowed.applicable
    assert allowed.allowed[0].matched == 1


def test_migrated_values_failing_the_store_schema_block(world: World) -> None:
    world.seed({player("1"): profile(PROFILE_V1, 1)})
    schema = {
        "type": "object",
        "properties": {"Data": {"properties": {"Coins": {"type": "string"}}}},
    }
    policy = StorePolicy(ownership=Ownership.OBSERVED, schema="schemas/profile.json")
    declared = declaration_of({}, {(StoreKind.STANDARD, STORE): policy})
    declared = replace(declared, schemas={"schemas/profile.json": schema})
    plan, _ = migrate(world, declaration=declared)
    (change,) = plan.changes
    (diag,) = [d for d in change.diagnostics if d.code == "DSP080"]
    assert "/Data/Coins" in diag.message and "120" not in diag.message
    assert not plan.applicable


def test_failing_steps_are_errors_naming_entry_step_and_line(world: World) -> None:
    world.seed({player("1"): profile(PROFILE_V1, 1), player("2"): profile({"Data": {}}, 2)})
    text = """\
version: 1
select: {store: PlayerStore}
transform:
  - convert: {path: /Data/Gold, to: boolean}
  - patch: [{op: add, path: /Data/Items/0, value: Potion}]
"""
    plan, tally = migrate(world, text)
    assert tally.failed == 2
    failed = sorted(
        (d.address, d.file, d.line, d.message.split(": ", 1)[1][:6])
        for d in plan.diagnostics
        if d.code == "DSP081"
    )
    assert failed == [
        ("PlayerStore/global/1", "migrations/m1.yaml", 4, "step 1"),
        ("PlayerStore/global/2", "migrations/m1.yaml", 5, "step 2"),
    ]
    assert not plan.applicable


def test_not_idempotent_is_flagged_per_entry(world: World) -> None:
    world.seed({player("1"): profile(PROFILE_V1, 1)})
    text = "version: 1\nselect: {store: PlayerStore}\ntransform:\n"
    text += "  - patch: [{op: add, path: /Data/Items/-, value: Potion}]\n"
    plan, _ = migrate(world, text)
    (change,) = plan.changes
    assert [d.code for d in change.diagnostics] == ["DSP082"]
    assert not plan.applicable


def test_datastore2_stores_selected_by_glob(world: World) -> None:
    blobs = {
        Address.standard("DATA/11", "1"): EntryData(DS2_OLD, {}, (11,)),
        Address.standard("DATA/11", "2"): EntryData(DS2_OLD, {}, (11,)),
        Address.standard("DATA/12", "1"): EntryData(DS2_NEW, {}, (12,)),
        Address.standard("Other", "1"): EntryData(DS2_OLD),
    }
    world.seed(blobs)
    text = """\
version: 1
select: {store: "DATA/*", key_pattern: "[0-9]+"}
transform:
  - convert: {path: /coins, to: integer}
  - convert: {path: /inventory, to: array}
  - default: {path: /version, value: 2}
"""
    plan, tally = migrate(world, text, declaration=declaration_of({}))
    assert [str(c.address) for c in plan.changes] == ["DATA%2F11/global/1", "DATA%2F11/global/2"]
    assert all(c.after is not None and c.after.value == DS2_NEW for c in plan.changes)
    assert (tally.read, tally.unchanged) == (3, 1)


def test_a_failed_listing_is_an_error_and_the_next_run_resumes(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dsgit.remote.client

    monkeypatch.setattr(dsgit.remote.client, "_ENTRIES_PAGE", 10)
    world.seed({player(str(n)): profile(PROFILE_V1, n) for n in range(1, 40)})

    class Failing:
        """The client, whose listing fails after the first page (a 503 after retries)."""

        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def list_keys_page(self, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("page_token") is not None:
                raise RemoteError("GET", "/v2/universes/7/data-stores/PlayerStore/entries", 503)
            return self.inner.list_keys_page(*args, **kwargs)

    settings = ScanSettings(checkpoint=tmp_path / "scan.json", every_entries=1)
    with pytest.raises(RemoteError):
        migrate(world, scan=settings, client=Failing(world.client))
    assert settings.checkpoint is not None and settings.checkpoint.exists()
    plan, tally = migrate(world, scan=settings)
    assert tally.read == 39 and tally.migrated == 39  # every entry counted once
    assert len(plan.changes) == 39
    assert not settings.checkpoint.exists()  # a finished plan leaves no checkpoint behind


CANARY = "canary-51d2-never-in-a-plan"


def test_sensitive_values_travel_sealed(world: World, tmp_path: Path) -> None:
    keys = Keyring.of([parse_key(encode_key(generate_key()), "test")])
    value = copy.deepcopy(PROFILE_V1)
    value["Data"]["Secret"] = CANARY
    world.seed({player("1"): profile(value, 1)})
    policy = StorePolicy(ownership=Ownership.OBSERVED, sensitive=("/Data/Secret",))
    declared = declaration_of({}, {(StoreKind.STANDARD, STORE): policy})
    plan, _ = migrate(world, declaration=declared, keyring=keys)
    assert CANARY not in plan_to_json(plan).decode()
    assert world.apply(plan, declared, keys).exit_code == 0
    live = world.live(player("1"))
    assert isinstance(live, EntryData) and live.value["Data"]["Secret"] == CANARY  # type: ignore[index]
    assert live.value["Data"]["Coins"] == 120  # type: ignore[index]


@pytest.mark.parametrize("stops", [(7,), (3, 20, 21), (1, 50)])  # visits per interrupted run
def test_interrupted_plan_resumes_to_the_same_plan(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stops: tuple[int, ...]
) -> None:
    import dsgit.remote.client
    from dsgit.migrate.visitor import MigrationVisitor

    monkeypatch.setattr(dsgit.remote.client, "_ENTRIES_PAGE", 16)
    seeded = {player(str(n)): profile(PROFILE_V1, n) for n in range(1, 61)}
    seeded[player("13")] = profile(with_session(PROFILE_V1), 13)
    seeded[player("14")] = profile(PROFILE_V2, 14)
    world.seed(seeded)
    clean, clean_tally = migrate(world)
    settings = ScanSettings(checkpoint=tmp_path / "scan.json", every_entries=5)
    original = MigrationVisitor.visit
    for stop in stops:
        calls = {"n": 0}

        def visit(
            self: MigrationVisitor, entry: Any, emit: Any, limit: int = stop, calls: Any = calls
        ) -> None:
            calls["n"] += 1
            if calls["n"] > limit:
                raise KeyboardInterrupt  # as Ctrl-C (or a kill) stops the scan
            original(self, entry, emit)

        monkeypatch.setattr(MigrationVisitor, "visit", visit)
        with pytest.raises(KeyboardInterrupt):
            migrate(world, scan=settings)
    monkeypatch.setattr(MigrationVisitor, "visit", original)
    resumed, tally = migrate(world, scan=settings)
    assert [(c.address, c.after) for c in resumed.changes] == [
        (c.address, c.after) for c in clean.changes
    ]
    assert tally.counts() == clean_tally.counts()  # every entry counted once
    assert (tally.read, tally.migrated, tally.locked, tally.not_matched) == (60, 58, 1, 1)


def test_a_released_profile_is_migrated_by_a_later_run(world: World) -> None:
    world.seed({player("1"): profile(with_session(PROFILE_V1), 1)})
    plan, tally = migrate(world)
    assert not plan.has_changes and tally.locked == 1
    world.write(player("1"), profile(PROFILE_V1, 1))  # the player left: the session is released
    plan, tally = migrate(world)
    assert [str(c.address) for c in plan.changes] == ["PlayerStore/global/1"]
    assert world.apply(plan, None).exit_code == 0
    assert world.live(player("1")) == profile(PROFILE_V2, 1)


def test_a_save_between_plan_and_apply_is_a_conflict_not_an_overwrite(world: World) -> None:
    world.seed({player("1"): profile(PROFILE_V1, 1), player("2"): profile(PROFILE_V1, 2)})
    plan, _ = migrate(world)
    saved = copy.deepcopy(PROFILE_V1)
    saved["Data"]["Gold"] = 999  # the game saved the profile after the plan was made
    world.write(player("2"), profile(saved, 2))
    result = world.apply(plan, None)
    assert result.exit_code == 5
    assert world.live(player("1")) == profile(PROFILE_V2, 1)
    assert world.live(player("2")) == profile(saved, 2)  # nothing written to it
    again, _ = migrate(world)  # the next run migrates what the game saved
    assert [str(c.address) for c in again.changes] == ["PlayerStore/global/2"]
    assert again.changes[0].after is not None
    assert again.changes[0].after.value["Data"]["Coins"] == 999  # type: ignore[index]


def test_type_changes_a_convert_step_declares_are_not_warned(world: World) -> None:
    world.seed({player("1"): profile(PROFILE_V1, 1)})
    text = steps_yaml(
        "convert: {path: /Data/Level, to: integer}",
        "patch: [{op: replace, path: /Data/Gold, value: '120'}]",
    )
    plan, _ = migrate(world, text)
    (change,) = plan.changes
    warned = [d.message for d in change.diagnostics if d.code == "DSP021"]
    assert warned == ["PlayerStore/global/1: /Data/Gold changes type from number to string"]


def test_every_scope_with_a_star(world: World) -> None:
    world.seed(
        {
            player("1"): profile(PROFILE_V1, 1),
            Address.standard(STORE, "1", "beta"): profile(PROFILE_V1, 1),
        }
    )
    text = PROFILE_MIGRATION.replace('  keys: "*"\n', '  keys: "*"\n  scope: "*"\n')
    plan, _ = migrate(world, text)
    assert [str(c.address) for c in plan.changes] == [
        "PlayerStore/beta/1",
        "PlayerStore/global/1",
    ]


def test_failure_messages_never_quote_values_of_a_sensitive_store(world: World) -> None:
    value = copy.deepcopy(PROFILE_V1)
    value["Data"]["Secret"] = CANARY
    world.seed({player("1"): profile(value, 1), player("2"): profile(value, 2)})
    policy = StorePolicy(ownership=Ownership.OBSERVED, sensitive=("/Data/Secret",))
    declared = declaration_of({}, {(StoreKind.STANDARD, STORE): policy})
    text = steps_yaml("convert: {path: /Data/Secret, to: integer}")
    plan, tally = migrate(world, text, declared)
    assert tally.failed == 2
    text = steps_yaml(f"patch: [{{op: test, path: /Data/Secret, value: not-{CANARY}}}]")
    plan2, tally2 = migrate(world, text, declared)
    assert tally2.not_matched == 2
    for made in (plan, plan2):
        assert CANARY not in plan_to_json(made).decode()
    failed = [d.message for d in plan.diagnostics if d.code == "DSP081"]
    assert all("/Data/Secret: (details hidden" in message for message in failed)
