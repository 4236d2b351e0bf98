from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsgit.model.entry import EntryData, StoreKind
from dsgit.plan.allow import allow
from dsgit.plan.io import plan_from_json, plan_to_json
from dsgit.plan.model import Action, Allowance, Severity
from dsgit.repo.yamlload import parse_yaml
from dsgit.retention import RetentionPolicy, RetentionRequest, plan_retention
from dsgit.retention.policy_file import _rule
from dsgit.scan import Shard
from live_fixtures import DAY, NOW, emulated, profile_store, seed_datastore2, seed_profiles

MOMENT = datetime.fromtimestamp(NOW, UTC)

POLICY = """version: 1
rules:
  - name: inactive-profiles
    store: PlayerStore
    keys: "*"
    older_than: 730d
    timestamp: /MetaData/LastUpdate
    action: delete
    max_deletes: 1000
  - name: old-backups
    kind: ordered
    store: DATA/*
    action: delete_below
    below: 3
  - name: old-blobs
    store: DATA/*
    where:
      - {pointer: /coins, less_than: 30}
    action: delete
"""


def policy_of(text: str = POLICY) -> RetentionPolicy:
    document, problems = parse_yaml(text, "policies/retention.yaml")
    assert document is not None and not problems
    assert isinstance(document.value, dict) and isinstance(document.value["rules"], list)
    rules = tuple(_rule(i, raw, document.node) for i, raw in enumerate(document.value["rules"]))  # type: ignore[arg-type]
    return RetentionPolicy(rules, "sha256:test")


def request(**fields: object) -> RetentionRequest:
    fields.setdefault("now", MOMENT)
    return RetentionRequest("local", 7, **fields)  # type: ignore[arg-type]


def test_profiles_older_than_by_timestamp_and_session_locks_left_out() -> None:
    with emulated() as client:
        seed_profiles(client, 40)  # users 4, 8, ... are 800 days old; 5, 10, ... are locked
        run = plan_retention(client, policy_of(), request(rules=("inactive-profiles",)))
        plan = run.plan
        deleted = sorted(int(change.address.key) for change in plan.changes)
        old = [u for u in range(1, 41) if u % 4 == 0]
        assert deleted == [u for u in old if u % 5 != 0]  # 20 and 40 are held by a server
        assert all(change.action is Action.DELETE for change in plan.changes)
        change = plan.changes[0]
        assert change.reason.startswith("retention rule inactive-profiles: /MetaData/LastUpdate")
        assert change.precondition.etag and change.precondition.exists
        (chosen,) = change.diagnostics
        assert chosen.code == "DSP001" and chosen.suppressed_reason is not None
        codes = {d.code: d for d in plan.diagnostics}
        locked = codes["DSP070"]
        assert locked.count == 2 and "PlayerStore/global/20" in locked.message
        assert "next run retries" in locked.message
        assert plan.kind == "retention" and plan.applicable
        assert plan.context["rules"] == "inactive-profiles"
        assert plan.summary["delete"] == 8 and plan.summary["no-op"] == 32
        # the plan is an ordinary plan: it round-trips through the plan file
        again = plan_from_json(plan_to_json(plan), source="plan.json")
        assert again.digest == plan.digest and len(again.changes) == 8
        run.done()


def test_allow_dsp005_plans_locked_entries_with_their_diagnostic() -> None:
    with emulated() as client:
        seed_profiles(client, 40)
        run = plan_retention(
            client, policy_of(), request(rules=("inactive-profiles",), allow_locked=True)
        )
        plan = run.plan
        assert len(plan.changes) == 10
        locked = [c for c in plan.changes if any(d.code == "DSP005" for d in c.diagnostics)]
        assert sorted(c.address.key for c in locked) == ["20", "40"]
        assert not plan.applicable  # DSP005 blocks until --allow lets it through
        allowed = allow(plan, (Allowance("DSP005", "maintenance window, servers down"),))
        assert allowed.applicable and allowed.allowed[0].matched == 2
        run.done()


def test_datastore2_ordered_below_and_standard_blobs() -> None:
    with emulated() as client:
        seed_datastore2(client, range(100, 103), saves=4)
        run = plan_retention(client, policy_of(), request(rules=("old-backups", "old-blobs")))
        by_kind: dict[StoreKind, list[str]] = {StoreKind.STANDARD: [], StoreKind.ORDERED: []}
        for change in run.plan.changes:
            by_kind[change.address.kind].append(f"{change.address.store}:{change.address.key}")
        expected = sorted(f"DATA/{u}:{n}" for u in range(100, 103) for n in (1, 2))
        assert sorted(by_kind[StoreKind.ORDERED]) == expected
        assert sorted(by_kind[StoreKind.STANDARD]) == expected  # coins 10, 20 < 30
        ordered = next(c for c in run.plan.changes if c.address.kind is StoreKind.ORDERED)
        assert ordered.precondition.value in (1, 2)  # type: ignore[union-attr]
        assert "value 1 below 3" in ordered.reason or "value 2 below 3" in ordered.reason
        run.done()


def test_max_deletes_guard_refuses_the_plan() -> None:
    text = POLICY.replace("max_deletes: 1000", "max_deletes: 3")
    with emulated() as client:
        seed_profiles(client, 40)
        run = plan_retention(client, policy_of(text), request(rules=("inactive-profiles",)))
        plan = run.plan
        assert plan.changes == ()
        (guard,) = [d for d in plan.diagnostics if d.code == "DSP071"]
        assert guard.severity is Severity.ERROR and guard.count == 8
        assert "over its max_deletes of 3" in guard.message and guard.line == 3
        assert not plan.applicable
        run.done()


def test_mass_delete_blocks_unless_max_deletes_states_the_count() -> None:
    text = """version: 1
rules:
  - name: all-old
    store: PlayerStore
    older_than: 1d
    action: delete
"""
    with emulated() as client:
        seed_profiles(client, 12)
        run = plan_retention(client, policy_of(text), request(now=datetime(2099, 1, 1, tzinfo=UTC)))
        (mass,) = [d for d in run.plan.diagnostics if d.code == "DSP003"]
        assert mass.blocks and mass.count == 10 and "of 12 scanned (83%)" in mass.message
        run.done()
        stated = text + "    max_deletes: 12\n"
        run = plan_retention(
            client, policy_of(stated), request(now=datetime(2099, 1, 1, tzinfo=UTC))
        )
        (mass,) = [d for d in run.plan.diagnostics if d.code == "DSP003"]
        assert not mass.blocks and "max_deletes of retention rule all-old" in (
            mass.suppressed_reason or ""
        )
        run.done()


def test_entries_without_a_readable_time_are_kept_and_counted() -> None:
    with emulated() as client:
        seed_profiles(client, 4)
        client.update_entry(
            "PlayerStore",
            "broken",
            EntryData({"MetaData": {"LastUpdate": "soon"}}),
            allow_missing=True,
        )
        run = plan_retention(client, policy_of(), request(rules=("inactive-profiles",)))
        (kept,) = [d for d in run.plan.diagnostics if d.code == "DSP072"]
        assert kept.count == 1 and "PlayerStore/global/broken" in kept.message
        assert [c.address.key for c in run.plan.changes] == ["4"]
        run.done()


def test_shard_plans_together_equal_the_single_plan() -> None:
    with emulated() as client:
        seed_profiles(client, 200)
        whole = plan_retention(client, policy_of(), request(rules=("inactive-profiles",)))
        single = sorted(str(c.address) for c in whole.plan.changes)
        whole.done()
        parts: list[str] = []
        for index in range(1, 5):
            run = plan_retention(
                client, policy_of(), request(rules=("inactive-profiles",), shard=Shard(index, 4))
            )
            assert run.plan.context == whole.plan.context  # plan combine needs them equal
            parts.extend(str(c.address) for c in run.plan.changes)
            run.done()
        assert sorted(parts) == single and len(parts) == len(set(parts))


def test_interrupted_plan_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    import dsgit.retention.planner as planner

    checkpoint = tmp_path / "retention.json"
    with emulated() as client:
        seed_profiles(client, 300)
        calls = {"n": 0}
        original = planner.evaluate

        def flaky(*args: object) -> object:
            calls["n"] += 1
            if calls["n"] == 140:
                raise KeyboardInterrupt
            return original(*args)  # type: ignore[arg-type]

        planner.evaluate = flaky  # type: ignore[assignment]
        try:
            with pytest.raises(KeyboardInterrupt):
                plan_retention(
                    client,
                    policy_of(),
                    request(rules=("inactive-profiles",), checkpoint=checkpoint, every_entries=10),
                )
        finally:
            planner.evaluate = original
        assert checkpoint.exists()
        run = plan_retention(
            client,
            policy_of(),
            request(rules=("inactive-profiles",), checkpoint=checkpoint, every_entries=10),
        )
        keys = [int(c.address.key) for c in run.plan.changes]
        assert sorted(keys) == [u for u in range(1, 301) if u % 4 == 0 and u % 5 != 0]
        assert run.scan.resumed
        run.done()
        assert not checkpoint.exists()


def test_profile_fixture_shapes() -> None:
    value = profile_store(3, last_update=NOW - DAY, locked=True)
    assert isinstance(value, dict) and "ActiveSession" in value["MetaData"]  # type: ignore[operator]
