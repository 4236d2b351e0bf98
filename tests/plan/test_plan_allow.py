"""``--allow``: command-line suppressions applied to a built plan (pure)."""

from __future__ import annotations

import pytest
from plan_fakes import FakeApi, declaration, plan_of, store

from dsgit.errors import ConfigError
from dsgit.model.declaration import StorePolicy, Suppression
from dsgit.plan.allow import ALLOW_PREFIX, allow, parse_allowance
from dsgit.plan.io import plan_digest, plan_from_json, plan_to_json
from dsgit.plan.model import Plan


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
