"""Drift reports: what differs live from git in owned stores, in every format."""

from __future__ import annotations

import json

from plan_fakes import NOW, FakeApi, declaration, failed, store

from dsgit.model.declaration import Ownership, StorePolicy
from dsgit.planning.usecase import PlanRequest, find_drift
from dsgit.render.drift import render_drift


def drift_world() -> FakeApi:
    api = FakeApi()
    api.put("Config", "changed", {"v": 2})
    api.put("Config", "stray", 1)
    api.put("Profiles", "p1", {"coins": 50})
    return api


def decl():  # type: ignore[no-untyped-def]
    return declaration(
        store("Config", {"changed": {"v": 1}, "gone": 1}, policy=StorePolicy(prune=True)),
        store("Profiles", {"p1": {"coins": 0}}, policy=StorePolicy(ownership=Ownership.SEED)),
    )


def test_drift_kinds_in_every_format() -> None:
    report = find_drift(decl(), drift_world(), PlanRequest("prod", 9, now=NOW))  # type: ignore[arg-type]
    kinds = {str(item.change.address): item.kind for item in report.items}
    assert kinds == {
        "Config/global/changed": "changed",
        "Config/global/gone": "missing",
        "Config/global/stray": "unmanaged",
    }
    text = render_drift(report, "text")
    assert "Config/global/changed: changed live" in text
    # git says v=1, live says v=2: drift reads git -> live (what happened live)
    assert "~ /v: 1 -> 2" in text and "3 entries differ from git." in text
    assert "Config/global/stray: live without a file (pruned store)\n    + /: 1" in text
    assert "Config/global/gone: missing live\n    - /: 1" in text
    assert "Profiles" not in text  # seed differences are expected, not drift
    markdown = render_drift(report, "markdown")
    assert markdown.startswith("### dsgit drift: `prod` (universe 9)")
    assert "**3 entries differ from git** (diffs: git -> live)." in markdown
    body = json.loads(render_drift(report, "json"))
    assert {item["kind"] for item in body["drift"]} == {"changed", "missing", "unmanaged"}


def test_failed_listing_is_an_error_not_no_drift() -> None:
    api = drift_world()
    api.fail_list["Config"] = failed("Config")
    report = find_drift(decl(), api, PlanRequest("prod", 9, now=NOW))  # type: ignore[arg-type]
    assert report.items == () and [d.code for d in report.errors] == ["DSP011"]
    assert "No drift" not in render_drift(report, "text")
    assert "DSP011" in render_drift(report, "markdown")


def test_no_drift() -> None:
    api = FakeApi()
    api.put("Config", "a", 1)
    report = find_drift(declaration(store("Config", {"a": 1})), api, PlanRequest("p", 1, now=NOW))  # type: ignore[arg-type]
    assert render_drift(report, "text").endswith("No drift: live data matches git.\n")
    assert "**No drift.**" in render_drift(report, "markdown")
