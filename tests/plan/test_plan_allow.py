"""``--allow``: command-line suppressions applied to a built plan (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plan_fakes import FakeApi, declaration, plan_of, store

from dsgit.errors import ConfigError
from dsgit.model.declaration import StorePolicy, Suppression
from dsgit.plan.allow import ALLOW_PREFIX, allow, parse_allowance
from dsgit.plan.codes import CATALOG
from dsgit.plan.io import plan_digest, plan_from_json, plan_to_json
from dsgit.plan.model import Allowance, Plan, Severity


def _mass_delete_plan() -> Plan:
    api = FakeApi()
    for n in range(10):
        api.put("Config", f"k{n}", n)
    policy = StorePolicy(prune=True, suppress=(Suppression("DSP002", "cleanup"),))
    return plan_of(declaration(store("Config", {f"k{n}": n for n in range(7)}, policy=policy)), api)


def test_a_counted_allow_lets_a_mass_delete_through_and_is_recorded() -> None:
    plan = _mass_delete_plan()
    assert [d.code for d in plan.blocking] == ["DSP003"]
    allowed = allow(plan, (parse_allowance("DSP003:3=end of the 2024 event"),))
    assert allowed.blocking == ()
    assert allowed.allowed[0].matched == 1 and allowed.allowed[0].count == 3
    (mass,) = [d for d in allowed.diagnostics if d.code == "DSP003"]
    assert mass.suppressed_reason == ALLOW_PREFIX + "end of the 2024 event"
    assert allowed.digest == plan_digest(allowed) != plan.digest
    again = plan_from_json(plan_to_json(allowed), source="p.json")
    assert again == allowed


def test_an_allow_with_too_small_a_count_stays_blocked_and_says_why() -> None:
    plan = allow(_mass_delete_plan(), (parse_allowance("DSP003:2=tidy"),))
    (mass,) = plan.blocking
    assert "count 2" in mass.message and "deletes 3" in mass.message
    assert plan.allowed[0].matched == 0


def test_no_allow_leaves_the_plan_and_its_digest_alone() -> None:
    plan = _mass_delete_plan()
    assert allow(plan, ()) is plan
    assert "allowed" not in plan_to_json(plan).decode()


@pytest.mark.parametrize("text", ["DSP011=x", "DSP020=x", "DSP002 = x", "DSP002"])
def test_only_blocking_codes_with_reasons_parse(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_allowance(text)


_BLOCKING = sorted(code for code, known in CATALOG.items() if known.suppressible)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_BLOCKING), st.integers(0, 20), st.text(min_size=1)),
        max_size=4,
    )
)
def test_allow_only_ever_lets_blocking_diagnostics_through(
    given_allowances: list[tuple[str, int, str]],
) -> None:
    plan = _mass_delete_plan()
    allowances = tuple(
        Allowance(code, reason.strip() or "r", count if code == "DSP003" else None)
        for code, count, reason in given_allowances
    )
    after = allow(plan, allowances)
    before_blocking = {(d.code, d.address, d.store) for d in plan.blocking}
    after_blocking = {(d.code, d.address, d.store) for d in after.blocking}
    assert after_blocking <= before_blocking  # nothing new blocks
    errors = [d for d in plan.all_diagnostics if d.severity is Severity.ERROR]
    assert [d for d in after.all_diagnostics if d.severity is Severity.ERROR] == errors
    for code, _address, _store in before_blocking - after_blocking:
        assert any(a.code == code and a.matched for a in after.allowed)
    assert after.digest == plan_digest(after)
    assert plan_from_json(plan_to_json(after), source="p.json") == after
