"""Invariants of planning over random declarations and live states (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from plan_fakes import FakeApi, declaration, plan_of, store

from dsgit.errors import StalePlan
from dsgit.model.declaration import Ownership, StorePolicy
from dsgit.model.entry import StoreKind
from dsgit.plan.io import plan_from_json, plan_to_json
from dsgit.plan.model import Action

KEYS = st.sampled_from(["a", "b", "c", "d", "Player_1", "user/2", "é"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
STORE_NAMES = st.sampled_from(["Config", "Profiles", "DATA/1"])
POLICIES = st.builds(
    StorePolicy,
    ownership=st.sampled_from(list(Ownership)),
    prune=st.booleans(),
    counters=st.sampled_from([(), ("*",)]),
)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[object, FakeApi, dict[str, Ownership]]:
    stores = []
    modes: dict[str, Ownership] = {}
    api = FakeApi()
    for name in draw(st.lists(STORE_NAMES, unique=True, min_size=1, max_size=3)):
        policy = draw(POLICIES)
        if policy.ownership is not Ownership.OWNED:
            policy = StorePolicy(ownership=policy.ownership, counters=policy.counters)
        modes[name] = policy.ownership
        stores.append(store(name, draw(st.dictionaries(KEYS, JSON, max_size=4)), policy=policy))
        for key, value in draw(st.dictionaries(KEYS, JSON, max_size=4)).items():
            api.put(name, key, value)
    return declaration(*stores), api, modes


@settings(max_examples=80, deadline=None)
@given(worlds())
def test_observed_never_written_seed_never_overwritten(
    world: tuple[object, FakeApi, dict[str, Ownership]],
) -> None:
    decl, api, modes = world
    plan = plan_of(decl, api)  # type: ignore[arg-type]
    for change in plan.changes:
        mode = modes[change.address.store]
        if mode is Ownership.OBSERVED:
            assert change.action is Action.NOOP
        if mode is Ownership.SEED:
            assert change.action in (Action.CREATE, Action.NOOP)
            if change.action is Action.CREATE:
                assert not change.precondition.exists


@settings(max_examples=60, deadline=None)
@given(worlds())
def test_plan_is_deterministic_and_round_trips(
    world: tuple[object, FakeApi, dict[str, Ownership]],
) -> None:
    decl, api, _ = world
    first = plan_of(decl, api)  # type: ignore[arg-type]
    second = plan_of(decl, api)  # type: ignore[arg-type]
    assert plan_to_json(first) == plan_to_json(second)
    assert plan_from_json(plan_to_json(first), source="p") == first


@settings(max_examples=60, deadline=None)
@given(worlds(), st.data())
def test_any_one_byte_edit_is_stale(
    world: tuple[object, FakeApi, dict[str, Ownership]], data: st.DataObject
) -> None:
    decl, api, _ = world
    raw = bytearray(plan_to_json(plan_of(decl, api)))  # type: ignore[arg-type]
    index = data.draw(st.integers(0, len(raw) - 1))
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != raw[index]))
    raw[index] = byte
    try:
        plan_from_json(bytes(raw), source="p")
    except StalePlan:
        return
    raise AssertionError("an edited plan was accepted")


def _apply(api: FakeApi, plan: object) -> None:
    """What a faithful apply does to the fake: every change, blocked or not."""
    from dsgit.plan.model import Plan

    assert isinstance(plan, Plan)
    for change in plan.changes:
        a = change.address
        if a.kind is not StoreKind.STANDARD:
            continue
        if change.action in (Action.CREATE, Action.UPDATE, Action.INCREMENT):
            assert change.after is not None
            api.put(a.store, a.key, change.after.value, scope=a.scope)
        elif change.action is Action.DELETE:
            del api.standard[(a.store, a.scope, a.key)]


@settings(max_examples=60, deadline=None)
@given(worlds())
def test_plan_apply_plan_is_empty(world: tuple[object, FakeApi, dict[str, Ownership]]) -> None:
    decl, api, _ = world
    _apply(api, plan_of(decl, api))  # type: ignore[arg-type]
    again = plan_of(decl, api)  # type: ignore[arg-type]
    assert not again.has_changes, [str(c.address) for c in again.changes]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(KEYS, JSON, max_size=4), st.dictionaries(KEYS, JSON, max_size=4))
def test_sensitive_canary_never_in_the_plan(
    declared: dict[str, object], live: dict[str, object]
) -> None:
    canary = "CANARY-prop-0xdeadbeef"
    policy = StorePolicy(prune=True, sensitive=("/secret", "/nested/*/pin"))
    api = FakeApi()
    for key, value in live.items():
        api.put("S", key, {"secret": canary + "live", "nested": [{"pin": canary}], "v": value})
    values = {
        key: {"secret": canary, "nested": [{"pin": canary + "git"}, {"x": value}], "v": value}
        for key, value in declared.items()
    }
    plan = plan_of(declaration(store("S", values, policy=policy)), api)
    assert canary.encode() not in plan_to_json(plan)
