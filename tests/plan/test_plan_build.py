"""The pure planning core per ownership mode, through the real reader over a fake API."""

from __future__ import annotations

from dataclasses import replace

from plan_fakes import NOW, FakeApi, codes, declaration, plan_of, store

from dsgit.model.declaration import DeclaredEntry, Ownership, StorePolicy, Suppression
from dsgit.model.entry import Address, EntryData, LiveEntry, StoreKind
from dsgit.plan.build import PlanSettings, build_plan
from dsgit.plan.desired import DesiredEntry, DesiredState, Removal, StoreSpec
from dsgit.plan.digest import entry_digest
from dsgit.plan.live import LiveState, ScopeListing
from dsgit.plan.model import (
    Action,
    IncrementChange,
    OrderedPrecondition,
    PlanKind,
    Severity,
    increment_of,
)
from dsgit.plan.targets import AddressFilter

A = Address.standard


def actions(plan) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {str(c.address): c.action.value for c in plan.changes}


# --- owned ---------------------------------------------------------------------------------------


def test_owned_creates_updates_and_skips_equal_entries() -> None:
    api = FakeApi()
    api.put("Config", "same", {"a": 1})
    api.put(
        "Config", "changed", {"Items": [{"Price": 1}, {"Price": 2}, {"Price": 3}, {"Price": 4}]}
    )
    decl = declaration(
        store(
            "Config",
            {
                "same": {"a": 1.0},
                "changed": {"Items": [{"Price": 1}, {"Price": 2}, {"Price": 3}, {"Price": 5}]},
                "new": "hello",
            },
        )
    )
    plan = plan_of(decl, api)
    assert actions(plan) == {
        "Config/global/changed": "update",
        "Config/global/new": "create",
    }
    assert plan.summary == {"create": 1, "update": 1, "delete": 0, "increment": 0, "no-op": 1}
    update = plan.changes[0]
    assert [(d.pointer, d.op, d.old, d.new) for d in update.diff] == [
        ("/Items/3/Price", "replace", 4, 5)
    ]
    live = api.standard[("Config", "global", "changed")]
    assert update.precondition.etag == live.etag
    assert update.precondition.revision_id == live.revision_id
    assert update.precondition.value_digest == entry_digest(live.data)
    assert plan.changes[1].precondition.exists is False
    assert not plan.blocking


def test_empty_table_forms_and_number_forms_are_equal() -> None:
    api = FakeApi()
    api.put("S", "k", {"inv": [], "n": 2})
    plan = plan_of(declaration(store("S", {"k": {"inv": {}, "n": 2.0}})), api)
    assert plan.changes == ()
    assert not plan.has_changes


def test_metadata_differences_are_updates() -> None:
    api = FakeApi()
    api.put("S", "k", 1, attributes={"a": "x"}, users=(1,))
    entry = DeclaredEntry(A("S", "k"), EntryData(1, {"a": "y"}, (1, 2)), "f.yaml")
    plan = plan_of(declaration(store("S", declared=[entry])), api)
    pointers = [d.pointer for d in plan.changes[0].diff]
    assert pointers == ["@attributes/a", "@users"]


def test_type_change_warns() -> None:
    api = FakeApi()
    api.put("S", "k", {"level": "3"})
    plan = plan_of(declaration(store("S", {"k": {"level": 3}})), api)
    (diag,) = plan.changes[0].diagnostics
    assert diag.code == "DSP021" and diag.severity is Severity.WARNING
    assert "string to number" in diag.message


# --- seed and observed ---------------------------------------------------------------------------


def test_seed_creates_when_missing_and_never_overwrites() -> None:
    api = FakeApi()
    api.put("Profiles", "taken", {"coins": 99})
    policy = StorePolicy(ownership=Ownership.SEED)
    decl = declaration(
        store("Profiles", {"taken": {"coins": 0}, "fresh": {"coins": 0}}, policy=policy)
    )
    plan = plan_of(decl, api)
    assert actions(plan) == {"Profiles/global/fresh": "create"}
    assert codes(plan) == ["DSP031"]
    assert plan.summary["no-op"] == 1


def test_observed_is_never_written_and_reported() -> None:
    api = FakeApi()
    api.put("PlayerData", "p1", {"coins": "lots"})
    api.put("PlayerData", "p2", {"coins": 1})
    policy = StorePolicy(ownership=Ownership.OBSERVED, schema="schemas/p.json")
    schema = {"type": "object", "properties": {"coins": {"type": "integer"}}}
    decl = declaration(
        store(
            "PlayerData",
            {"p1": {"coins": 1}, "p2": {"coins": 1}, "p3": {"coins": 1}},
            policy=policy,
        ),
        schemas={"schemas/p.json": schema},
    )
    from dsgit.plan.desired import desired_from_declaration
    from dsgit.planning.read import read_live
    from dsgit.planning.usecase import schema_check_for

    desired = desired_from_declaration(decl)
    live = read_live(api, desired, AddressFilter())  # type: ignore[arg-type]
    plan = build_plan(
        desired, live, PlanSettings("test", 1, NOW, schema_check=schema_check_for(decl))
    )
    assert plan.changes == ()
    assert codes(plan) == ["DSP022", "DSP032", "DSP033"]
    fails = next(d for d in plan.diagnostics if d.code == "DSP022")
    assert fails.count == 1 and "PlayerData/global/p1" in fails.message
    # observed stores are read directly, never listed
    assert api.calls["list"] == 0 and api.calls["get"] == 3


# --- prune and deletes ---------------------------------------------------------------------------


def test_prune_deletes_unmanaged_keys_and_blocks() -> None:
    api = FakeApi()
    for key in ("keep", "stray"):
        api.put("Config", key, {"v": key})
    decl = declaration(store("Config", {"keep": {"v": "keep"}}, policy=StorePolicy(prune=True)))
    plan = plan_of(decl, api)
    (change,) = plan.changes
    assert change.action is Action.DELETE and str(change.address) == "Config/global/stray"
    assert change.precondition.etag == api.standard[("Config", "global", "stray")].etag
    assert [d.code for d in change.diagnostics] == ["DSP002"]
    assert [d.code for d in plan.blocking] == ["DSP002"]  # one delete is never a mass delete
    assert plan.destructive
    assert change.diff[0].op == "remove" and change.diff[0].old == {"v": "stray"}


def test_prune_suppressed_with_reason() -> None:
    api = FakeApi()
    for n in range(20):
        api.put("Config", f"k{n}", n)
    api.put("Config", "stray", 1)
    policy = StorePolicy(prune=True, suppress=(Suppression("DSP002", "old keys are junk"),))
    decl = declaration(store("Config", {f"k{n}": n for n in range(20)}, policy=policy))
    plan = plan_of(decl, api)
    (change,) = plan.changes
    assert change.diagnostics[0].suppressed_reason == "old keys are junk"
    assert plan.blocking == ()
    assert plan.destructive  # still a delete: approvals treat it as destructive


def test_without_prune_unmanaged_keys_stay() -> None:
    api = FakeApi()
    api.put("Config", "stray", 1)
    plan = plan_of(declaration(store("Config", {"a": 1})), api)
    assert actions(plan) == {"Config/global/a": "create"}


def test_reserved_store_is_never_listed_or_pruned() -> None:
    api = FakeApi()
    api.put("_dsgit", "lock", {"holder": "x"})
    decl = declaration(store("_dsgit", {"other": 1}, policy=StorePolicy(prune=True)))
    plan = plan_of(decl, api)
    assert plan.changes == () and api.calls["list"] == 0


def test_mass_delete_needs_a_counted_suppression() -> None:
    api = FakeApi()
    for n in range(10):
        api.put("Config", f"k{n}", n)
    base = StorePolicy(prune=True, suppress=(Suppression("DSP002", "cleanup"),))
    kept = {f"k{n}": n for n in range(7)}
    plan = plan_of(declaration(store("Config", kept, policy=base)), api)
    (mass,) = plan.blocking
    assert mass.code == "DSP003" and mass.count == 3 and "30%" in mass.message

    low = replace(base, suppress=(*base.suppress, Suppression("DSP003", "cleanup", count=2)))
    plan = plan_of(declaration(store("Config", kept, policy=low)), api)
    (mass,) = plan.blocking
    assert "count 2" in mass.message and "deletes 3" in mass.message

    enough = replace(base, suppress=(*base.suppress, Suppression("DSP003", "cleanup", count=3)))
    plan = plan_of(declaration(store("Config", kept, policy=enough)), api)
    assert plan.blocking == ()
    assert plan.diagnostics[0].suppressed_reason == "cleanup"


def test_removal_from_undo_is_an_entry_delete() -> None:
    live_entry = LiveEntry("S", "global", "k", 1, {}, (), "e1", "r1", "t", "t")
    desired = DesiredState({A("S", "k"): Removal("created by apply X")}, {})
    live = LiveState(entries={A("S", "k"): live_entry})
    plan = build_plan(desired, live, PlanSettings("test", 1, NOW, kind=PlanKind.REVERT))
    (change,) = plan.changes
    assert change.action is Action.DELETE and change.reason == "created by apply X"
    assert [d.code for d in plan.blocking] == ["DSP001"]
    # None means the same as Removal()
    plan = build_plan(DesiredState({A("S", "k"): None}, {}), live, PlanSettings("t", 1, NOW))
    assert [d.code for d in plan.blocking] == ["DSP001"]


def test_removal_of_observed_entry_is_not_planned() -> None:
    live_entry = LiveEntry("S", "global", "k", 1, {}, (), "e1", "r1", "t", "t")
    spec = StoreSpec(StoreKind.STANDARD, "S", StorePolicy(ownership=Ownership.OBSERVED))
    desired = DesiredState({A("S", "k"): Removal()}, {(StoreKind.STANDARD, "S"): spec})
    plan = build_plan(
        desired, LiveState(entries={A("S", "k"): live_entry}), PlanSettings("t", 1, NOW)
    )
    assert plan.changes == ()


# --- renames -----------------------------------------------------------------------------------


def test_moved_from_links_create_and_delete() -> None:
    api = FakeApi()
    api.put("Config", "old", {"motd": "hello world"})
    new = DeclaredEntry(
        A("Config", "new"),
        EntryData({"motd": "hello world"}),
        "new.yaml",
        moved_from=A("Config", "old"),
    )
    plan = plan_of(declaration(store("Config", declared=[new])), api)
    by = {str(c.address): c for c in plan.changes}
    assert by["Config/global/new"].action is Action.CREATE
    assert by["Config/global/new"].moved_from == A("Config", "old")
    assert by["Config/global/old"].action is Action.DELETE
    assert by["Config/global/old"].reason == "renamed to Config/global/new"
    assert plan.blocking == ()
    assert "DSP030" in codes(plan)


def test_rename_without_moved_from_is_detected() -> None:
    api = FakeApi()
    for n in range(30):
        api.put("Config", f"k{n}", n)
    api.put("Config", "old", {"motd": "hello world"})
    decl = declaration(
        store(
            "Config",
            {**{f"k{n}": n for n in range(30)}, "new": {"motd": "hello world"}},
            policy=StorePolicy(prune=True, suppress=(Suppression("DSP002", "ok"),)),
        )
    )
    plan = plan_of(decl, api)
    assert [d.code for d in plan.blocking] == ["DSP004"]
    assert "`moved_from: old` in Config/global/new's file" in plan.blocking[0].message


def test_invalid_moved_from() -> None:
    api = FakeApi()
    entry = DeclaredEntry(A("S", "a"), EntryData(1), "a.yaml", moved_from=A("S", "b"))
    other = DeclaredEntry(A("S", "b"), EntryData(1), "b.yaml")
    plan = plan_of(declaration(store("S", declared=[entry, other])), api)
    assert "DSP015" in [d.code for d in plan.blocking]


# --- session lock, ledger, counters ---------------------------------------------------------------


def test_active_session_lock_blocks_until_suppressed() -> None:
    api = FakeApi()
    locked = {"Data": {"coins": 1}, "MetaData": {"ActiveSession": [123, "job"]}}
    api.put("Profiles", "Player_1", locked)
    want = {"Data": {"coins": 2}, "MetaData": {}}
    plan = plan_of(declaration(store("Profiles", {"Player_1": want})), api)
    assert [d.code for d in plan.blocking] == ["DSP005"]
    entry = DeclaredEntry(
        A("Profiles", "Player_1"),
        EntryData(want),
        "p.yaml",
        suppress=(Suppression("DSP005", "support ticket 42"),),
    )
    plan = plan_of(declaration(store("Profiles", declared=[entry])), api)
    assert plan.blocking == ()
    released = {"Data": {"coins": 1}, "MetaData": {}}
    api.put("Profiles", "Player_1", released)
    plan = plan_of(declaration(store("Profiles", {"Player_1": want})), api)
    assert plan.blocking == ()


def test_overwrite_of_change_made_outside_git_warns() -> None:
    from dsgit.plan.ledger import AppliedRecord, MappingLookup

    api = FakeApi()
    live = api.put("S", "k", 2)
    decl = declaration(store("S", {"k": 1}))
    same = MappingLookup({A("S", "k"): AppliedRecord(live.revision_id)})
    assert "DSP020" not in codes(plan_of(decl, api, ledger=same))
    older = MappingLookup({A("S", "k"): AppliedRecord("rev-0", applied_at="2026-11-01T00:00:00Z")})
    plan = plan_of(decl, api, ledger=older)
    assert codes(plan) == ["DSP020"]
    assert plan.blocking == ()


def test_counters_plan_increments() -> None:
    api = FakeApi()
    api.put("Stats", "visits", 10)
    api.put("Stats", "label", "x")
    api.put_ordered("Wins", "alice", 7)
    decl = declaration(
        store(
            "Stats", {"visits": 15, "label": 3}, policy=StorePolicy(counters=("visits", "label"))
        ),
        store("Wins", {"alice": 4}, kind=StoreKind.ORDERED, policy=StorePolicy(counters=("*",))),
    )
    plan = plan_of(decl, api)
    by = {str(c.address): c for c in plan.changes}
    visits = by["Stats/global/visits"]
    assert isinstance(visits, IncrementChange) and visits.amount == 5
    assert visits.after == EntryData(15)
    alice = by["ordered:Wins/global/alice"]
    assert increment_of(alice) == -3 and alice.precondition == OrderedPrecondition(
        True, 7, alice.precondition.value_digest
    )
    label = by["Stats/global/label"]
    assert label.action is Action.UPDATE
    assert [d.code for d in label.diagnostics] == ["DSP021", "DSP024"]
    assert plan.summary["increment"] == 2


def test_ordered_non_counter_is_an_update() -> None:
    api = FakeApi()
    api.put_ordered("Wins", "bob", 3)
    decl = declaration(store("Wins", {"bob": 5, "carol": 1}, kind=StoreKind.ORDERED))
    plan = plan_of(decl, api)
    assert actions(plan) == {
        "ordered:Wins/global/bob": "update",
        "ordered:Wins/global/carol": "create",
    }
    assert api.calls["get"] == 0  # the listing carries ordered values


# --- errors that never suppress ----------------------------------------------------------------


def test_schema_failure_is_never_suppressible() -> None:
    api = FakeApi()
    policy = StorePolicy(schema="schemas/c.json", suppress=(Suppression("DSP010", "please"),))
    decl = declaration(
        store("Config", {"k": {"n": "x"}}, policy=policy),
        schemas={"schemas/c.json": {"properties": {"n": {"type": "integer"}}}},
    )
    from dsgit.planning.usecase import schema_check_for

    plan = plan_of(decl, api, schema_check=schema_check_for(decl))
    (diag,) = plan.blocking
    assert diag.code == "DSP010" and diag.severity is Severity.ERROR
    assert diag.file == "datastores/Config/k.yaml"
    assert "/n" in diag.message


def test_size_limits() -> None:
    api = FakeApi()
    plan = plan_of(declaration(store("S", {"big": "x" * 4_000_000, "huge": "x" * 4_200_000})), api)
    assert codes(plan) == ["DSP016", "DSP023"]
    assert [d.code for d in plan.blocking] == ["DSP016"]


def test_encrypted_values_need_a_key_to_compare() -> None:
    api = FakeApi()
    tag = "A" * 22 + "=="
    token = f"ENC[AES256_GCM,data:AAAA,iv:AAAAAAAAAAAAAAAA,tag:{tag},type:str,kid:abc]"
    decl = declaration(
        store("S", {"k": {"secret": token}}, policy=StorePolicy(encrypted=("/secret",)))
    )
    plan = plan_of(decl, api)
    assert [d.code for d in plan.blocking] == ["DSP017"]
    assert plan.changes == ()


# --- targets and order -------------------------------------------------------------------------


def test_target_and_exclude() -> None:
    api = FakeApi()
    decl = declaration(store("A", {"x": 1, "y": 1}), store("B", {"x": 1}))
    plan = plan_of(decl, api, select=AddressFilter(targets=("A/*",), excludes=("*/y",)))
    assert actions(plan) == {"A/global/x": "create"}
    assert api.calls["list"] == 1  # store B was not even listed


def test_changes_are_ordered_by_kind_store_scope_key() -> None:
    api = FakeApi()
    decl = declaration(
        store("Wins", {"b": 1, "a": 1}, kind=StoreKind.ORDERED),
        store("Z", {"k": 1}),
        store("A", {"k2": 1, "k1": 1}, scope="s2"),
        store("A2", {"k": 1}),
    )
    plan = plan_of(decl, api)
    assert [str(c.address) for c in plan.changes] == [
        "A/s2/k1",
        "A/s2/k2",
        "A2/global/k",
        "Z/global/k",
        "ordered:Wins/global/a",
        "ordered:Wins/global/b",
    ]


def test_desired_entries_can_come_from_anywhere() -> None:
    """Undo commands pass DesiredEntry values directly (pre-images, point-in-time reads)."""
    address = A("S", "k")
    live_entry = LiveEntry("S", "global", "k", 2, {}, (), "e1", "r1", "t", "t")
    desired = DesiredState(
        {address: DesiredEntry(address, EntryData(1), reason="pre-image")},
        {(StoreKind.STANDARD, "S"): StoreSpec(StoreKind.STANDARD, "S", scopes=("global",))},
    )
    live = LiveState(
        listings={(StoreKind.STANDARD, "S", "global"): ScopeListing(True, frozenset({"k"}))},
        entries={address: live_entry},
    )
    plan = build_plan(
        desired, live, PlanSettings("test", 1, NOW, kind=PlanKind.RESTORE, context={"at": "x"})
    )
    assert plan.kind == "restore" and plan.context == {"at": "x"}
    assert plan.changes[0].action is Action.UPDATE


def test_rename_heuristic_ignores_small_and_shared_values() -> None:
    api = FakeApi()
    for n in range(40):
        api.put("Config", f"k{n}", n)
    api.put("Config", "small", [0, None])
    api.put("Config", "default1", {"coins": 0, "level": 1, "tag": "new"})
    api.put("Config", "default2", {"coins": 0, "level": 1, "tag": "new"})
    declared = {
        **{f"k{n}": n for n in range(40)},
        "small2": [0, None],
        "default3": {"coins": 0, "level": 1, "tag": "new"},
    }
    policy = StorePolicy(prune=True, suppress=(Suppression("DSP002", "ok"),))
    plan = plan_of(declaration(store("Config", declared, policy=policy)), api)
    assert "DSP004" not in codes(plan)
    assert plan.summary["delete"] == 3 and plan.summary["create"] == 2


def test_key_overrides_change_ownership_per_key() -> None:
    from dsgit.model.declaration import KeyOverride

    api = FakeApi()
    api.put("Mixed", "config", {"v": 1})
    api.put("Mixed", "Player_1", {"coins": 5})
    api.put("Mixed", "Player_2", {"coins": 7})  # no file, but observed: never pruned
    policy = StorePolicy(
        prune=True,
        overrides=(KeyOverride("Player_*", {"ownership": Ownership.OBSERVED}),),
    )
    decl = declaration(
        store("Mixed", {"config": {"v": 2}, "Player_1": {"coins": 0}}, policy=policy)
    )
    plan = plan_of(decl, api)
    assert actions(plan) == {"Mixed/global/config": "update"}
    assert codes(plan) == ["DSP032"]


def test_ordered_seed_store_is_read_directly() -> None:
    api = FakeApi()
    api.put_ordered("Wins", "alice", 50)
    policy = StorePolicy(ownership=Ownership.SEED)
    decl = declaration(store("Wins", {"alice": 0, "bob": 0}, kind=StoreKind.ORDERED, policy=policy))
    plan = plan_of(decl, api)
    assert actions(plan) == {"ordered:Wins/global/bob": "create"}
    assert api.calls == {"get": 2}


def test_managed_scopes_are_listed_for_prune() -> None:
    api = FakeApi()
    api.put("Events", "old", 1, scope="season1")
    api.put("Events", "other", 1, scope="season9")  # not managed: never touched
    policy = StorePolicy(
        prune=True, scopes=("global", "season1"), suppress=(Suppression("DSP002", "ok"),)
    )
    plan = plan_of(declaration(store("Events", {"now": 1}, policy=policy)), api)
    assert actions(plan) == {"Events/global/now": "create", "Events/season1/old": "delete"}
    assert plan.blocking == ()
