"""Live reading: the requests made, and listing failures that must never look like deletions."""

from __future__ import annotations

from plan_fakes import FakeApi, codes, declaration, failed, plan_of, store, throttled

from dsgit.model.declaration import Ownership, StorePolicy
from dsgit.model.entry import StoreKind
from dsgit.plan.model import Severity


def test_reads_only_what_is_needed() -> None:
    api = FakeApi()
    for n in range(5):
        api.put("Config", f"k{n}", n)
    api.put("Config", "unmanaged", 1)
    decl = declaration(store("Config", {**{f"k{n}": n for n in range(5)}, "new1": 1, "new2": 2}))
    plan = plan_of(decl, api)
    assert api.calls == {"list": 1, "get": 5}  # no read for creates, none for unmanaged keys
    assert plan.summary["create"] == 2 and plan.summary["no-op"] == 5


def test_prune_reads_candidates_for_their_etag() -> None:
    api = FakeApi()
    api.put("Config", "stray", 1)
    decl = declaration(store("Config", {"a": 1}, policy=StorePolicy(prune=True)))
    plan_of(decl, api)
    assert api.calls == {"list": 1, "get": 1}


def test_failed_listing_is_an_error_never_a_deletion() -> None:
    api = FakeApi()
    api.put("Config", "a", 1)
    api.put("Config", "stray", 1)
    api.fail_list["Config"] = failed("Config")
    decl = declaration(store("Config", {"a": 2, "b": 1}, policy=StorePolicy(prune=True)))
    plan = plan_of(decl, api)
    assert plan.changes == ()
    (diag,) = plan.diagnostics
    assert diag.code == "DSP011" and diag.severity is Severity.ERROR
    assert "HTTP 500" in diag.message


def test_throttled_listing_is_its_own_error() -> None:
    api = FakeApi()
    api.fail_list["Config"] = throttled("Config")
    plan = plan_of(declaration(store("Config", {"a": 1})), api)
    assert codes(plan) == ["DSP012"] and plan.changes == ()


def test_empty_listing_is_checked_against_reads() -> None:
    api = FakeApi()
    api.put("Config", "a", 1)
    api.put("Config", "stray", 1)
    api.empty_list.add("Config")  # the listing lies: it says the store is empty
    decl = declaration(store("Config", {"a": 1, "b": 2}, policy=StorePolicy(prune=True)))
    plan = plan_of(decl, api)
    assert codes(plan) == ["DSP013"]
    assert plan.changes == ()


def test_really_empty_store_plans_creates() -> None:
    api = FakeApi()
    plan = plan_of(declaration(store("Config", {"a": 1, "b": 2})), api)
    assert plan.summary["create"] == 2 and not plan.diagnostics
    assert api.calls == {"list": 1, "get": 2}  # the two spot checks confirmed the emptiness


def test_empty_ordered_listing_is_checked_too() -> None:
    api = FakeApi()
    api.put_ordered("Wins", "a", 1)
    api.empty_list.add("Wins")
    plan = plan_of(declaration(store("Wins", {"a": 2}, kind=StoreKind.ORDERED)), api)
    assert codes(plan) == ["DSP013"] and plan.changes == ()


def test_failed_read_is_an_error() -> None:
    api = FakeApi()
    api.put("Config", "a", 1)
    api.fail_get["Config"] = failed("Config")
    plan = plan_of(declaration(store("Config", {"a": 2})), api)
    assert codes(plan) == ["DSP014"] and plan.changes == ()


def test_seed_and_observed_stores_are_read_without_listing() -> None:
    api = FakeApi()
    api.put("Profiles", "p1", 1)
    decl = declaration(
        store("Profiles", {"p1": 1, "p2": 2}, policy=StorePolicy(ownership=Ownership.SEED))
    )
    plan = plan_of(decl, api)
    assert api.calls == {"get": 2}
    assert [str(c.address) for c in plan.changes] == ["Profiles/global/p2"]


def test_listing_404_means_no_store_yet() -> None:
    from dsgit.errors import NotFoundError

    api = FakeApi()
    api.fail_list["New"] = NotFoundError("GET", "/v2/universes/1/data-stores/New/entries", 404)
    plan = plan_of(declaration(store("New", {"a": 1})), api)
    assert plan.summary["create"] == 1 and not plan.diagnostics
    api.put("New", "a", 1)  # ...but a read finds the entry: the 404 was wrong
    plan = plan_of(declaration(store("New", {"a": 1})), api)
    assert codes(plan) == ["DSP013"]
