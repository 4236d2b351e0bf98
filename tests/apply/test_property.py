from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsgit.apply.result import ApplyStatus
from dsgit.ledger import verify_ledger
from dsgit.model.declaration import StorePolicy, Suppression
from dsgit.model.entry import Address, EntryData, StoreKind
from support import declaration_of

from .conftest import World

NO_MASS_DELETE = {"mass_delete_threshold": 1.0, "mass_delete_min": 10_000}
POLICIES = {
    (StoreKind.STANDARD, "S"): StorePolicy(
        prune=True,
        suppress=(Suppression("DSP002", "property test"), Suppression("DSP004", "property test")),
        **NO_MASS_DELETE,
    ),
    (StoreKind.STANDARD, "C"): StorePolicy(counters=("*",)),
    (StoreKind.ORDERED, "O"): StorePolicy(
        prune=True,
        suppress=(Suppression("DSP002", "property test"), Suppression("DSP004", "property test")),
        **NO_MASS_DELETE,
    ),
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text("ab", max_size=3),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text("xy", max_size=2), inner, max_size=2)
    ),
    max_leaves=4,
)
entry_data = st.builds(
    EntryData,
    json_values.filter(lambda value: value is not None),  # Open Cloud refuses a null value
    st.dictionaries(st.sampled_from(["a", "b"]), st.text("q", max_size=2), max_size=1),
    st.lists(st.integers(1, 3), max_size=1, unique=True).map(tuple),
)


def state(
    standard: st.SearchStrategy[EntryData],
) -> st.SearchStrategy[dict[Address, EntryData | int]]:
    keys = st.sampled_from([f"k{n}" for n in range(4)])
    return st.builds(
        lambda s, c, o: {**s, **c, **o},
        st.dictionaries(keys.map(lambda k: Address.standard("S", k)), standard, max_size=4),
        st.dictionaries(
            keys.map(lambda k: Address.standard("C", k)),
            st.integers(0, 50).map(EntryData),
            max_size=3,
        ),
        st.dictionaries(
            keys.map(lambda k: Address.ordered("O", k)), st.integers(0, 99), max_size=3
        ),
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(live=state(entry_data), wanted=state(entry_data))
def test_plan_apply_plan_is_empty(
    live: dict[Address, EntryData | int], wanted: dict[Address, EntryData | int]
) -> None:
    # Counters are only incremented when they exist live with an integer: keep those declared.
    with tempfile.TemporaryDirectory() as folder:
        world = World(Path(folder))
        try:
            world.seed(live)
            declaration = declaration_of(wanted, POLICIES)
            plan = world.plan(declaration)
            assert not plan.blocking, plan.blocking
            result = world.apply(plan, declaration)
            assert result.status is ApplyStatus.COMPLETE, result
            again = world.plan(declaration)
            assert not again.has_changes, [c for c in again.changes if not c.is_noop]
            assert verify_ledger(world.root).ok
        finally:
            world.client.close()
