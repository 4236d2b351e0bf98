"""plan -> apply -> plan is empty with per-environment overrides, and live holds the effective
values (base merged with the environment's patch), never another environment's."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsgit.apply.result import ApplyStatus
from dsgit.model.declaration import Declaration, StorePolicy
from dsgit.model.entry import Address, EntryData, JSONValue, StoreKind
from dsgit.model.overrides import EnvironmentOverride, merge_patch
from support import declaration_of

from .conftest import World

leaves = st.booleans() | st.integers(-5, 5) | st.text("ab", max_size=3)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from("xyz"), inner, max_size=3)
    ),
    max_leaves=5,
)
patches = st.recursive(
    leaves | st.none(),
    lambda inner: st.dictionaries(st.sampled_from("xyz"), inner, max_size=3),
    max_leaves=5,
).filter(lambda patch: patch is not None)
overrides = st.builds(
    EnvironmentOverride,
    patch=patches,
    has_patch=st.booleans(),
    attributes=st.none()
    | st.dictionaries(st.sampled_from(["a", "b"]), st.text("q", max_size=2), max_size=1),
    users=st.none() | st.lists(st.integers(1, 3), max_size=2, unique=True).map(tuple),
)
entries = st.dictionaries(
    st.sampled_from([f"k{n}" for n in range(4)]),
    st.tuples(values, st.dictionaries(st.sampled_from(["local", "other"]), overrides, max_size=2)),
    max_size=4,
)


def with_overrides(
    entries: dict[str, tuple[JSONValue, dict[str, EnvironmentOverride]]],
) -> Declaration:
    declaration = declaration_of(
        {Address.standard("S", key): EntryData(value) for key, (value, _) in entries.items()},
        {(StoreKind.STANDARD, "S"): StorePolicy()},
    )
    store = declaration.stores[(StoreKind.STANDARD, "S")]
    patched = {
        place: replace(entry, environments=entries[place[1]][1])
        for place, entry in store.entries.items()
    }
    return replace(declaration, stores={(StoreKind.STANDARD, "S"): replace(store, entries=patched)})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(declared=entries)
def test_plan_apply_plan_is_empty_with_overrides(
    declared: dict[str, tuple[JSONValue, dict[str, EnvironmentOverride]]],
) -> None:
    declaration = with_overrides(declared)
    with tempfile.TemporaryDirectory() as folder:
        world = World(Path(folder))
        try:
            plan = world.plan(declaration)  # the World's environment is "local"
            assert not plan.blocking, plan.blocking
            result = world.apply(plan, declaration)
            assert result.status is ApplyStatus.COMPLETE, result
            again = world.plan(declaration)
            assert not again.has_changes, [c for c in again.changes if not c.is_noop]
            for key, (value, by_env) in declared.items():
                local = by_env.get("local")
                want = (
                    value
                    if local is None or not local.has_patch
                    else merge_patch(value, local.patch)
                )
                live = world.live(Address.standard("S", key))
                assert isinstance(live, EntryData)
                assert live.value == want
                if local is not None and local.attributes is not None:
                    assert dict(live.attributes) == dict(local.attributes)
                if local is not None and local.users is not None:
                    assert live.users == local.users
        finally:
            world.client.close()
