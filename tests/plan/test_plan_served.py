"""End to end over HTTP: a served emulator (127.0.0.1, port 0) and the real client."""

from __future__ import annotations

from plan_fakes import declaration, store

from dsgit.config import Budget
from dsgit.emulator import Emulator, FaultSpec
from dsgit.model.declaration import StorePolicy
from dsgit.model.entry import EntryData
from dsgit.planning.usecase import PlanRequest, make_plan
from dsgit.remote.budget import RateBudget
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import FAST_RETRIES, emulated_client, no_sleep


def test_plan_over_http_with_rate_limits() -> None:
    emulator = Emulator(db=":memory:", ccu=10)
    with emulated_client(emulator) as seeder:
        for n in range(12):
            seeder.create_entry("Config", f"k{n}", EntryData({"n": n}))
    decl = declaration(
        store("Config", {f"k{n}": {"n": n + (n % 3 == 0)} for n in range(12)}, policy=StorePolicy())
    )
    with emulator.serve() as server:
        client = OpenCloudClient(
            1,
            base_url=server.url,
            api_key="any",  # served, any key passes; none is 401
            budget=RateBudget(Budget(ccu=10, share=0.5)),
            sleep=no_sleep,
        )
        with client:
            plan = make_plan(decl, client, PlanRequest("served", 1))
    emulator.close()
    assert plan.summary["update"] == 4 and plan.summary["no-op"] == 8
    assert not plan.diagnostics


def test_failing_server_gives_errors_not_deletions() -> None:
    emulator = Emulator(db=":memory:", ccu=None)
    with emulated_client(emulator) as seeder:
        seeder.create_entry("Config", "stray", EntryData(1))
    emulator.close()
    failing = Emulator(db=":memory:", ccu=None, faults=FaultSpec.parse("error=1.0"))
    decl = declaration(store("Config", {"a": 1}, policy=StorePolicy(prune=True)))
    with failing.serve() as server:
        client = OpenCloudClient(
            1, base_url=server.url, api_key="any", retry=FAST_RETRIES, sleep=no_sleep
        )
        with client:
            plan = make_plan(decl, client, PlanRequest("served", 1))
    failing.close()
    assert plan.changes == ()
    assert [d.code for d in plan.diagnostics] == ["DSP011"]
    assert plan.blocking
