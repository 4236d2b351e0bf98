"""Each read-failure diagnostic suggests the fix of its cause, not one guess for all."""

from __future__ import annotations

import pytest
from plan_fakes import FakeApi, declaration, plan_of, store

from dsgit.errors import (
    AccessDenied,
    AuthError,
    DsgitError,
    MalformedResponse,
    RateLimitedError,
    RemoteError,
    TransportError,
)
from dsgit.model.declaration import StorePolicy
from dsgit.planning.read import fix_for

PATH = "/cloud/v2/universes/1/data-stores/S/scopes/global/entries"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RemoteError("GET", PATH, 503, "UNAVAILABLE"), "HTTP 503 (a fault on its side)"),
        (RemoteError("GET", PATH, 400, "INVALID_ARGUMENT"), "check the store and scope names"),
        (RateLimitedError("GET", PATH, 429), "lower `budget.share`"),
        (TransportError("GET", PATH, "ReadTimeout"), "check the network"),
        (
            MalformedResponse("GET", PATH, 200, "MALFORMED_RESPONSE"),
            "check the environment's `url`",
        ),
    ],
)
def test_the_fix_follows_the_cause(error: DsgitError, expected: str) -> None:
    fix = fix_for(error, "default")
    assert fix is not None and expected in fix
    assert "scope" not in fix or "scope names" in fix  # never "check the key's list scope"


def test_a_failed_listing_carries_its_causes_fix() -> None:
    api = FakeApi()
    api.put("S", "a", 1)
    api.fail_list["S"] = RemoteError("GET", PATH, 502, "BAD_GATEWAY")
    plan = plan_of(declaration(store("S", {"a": 1}, policy=StorePolicy(prune=True))), api)
    (listing,) = [d for d in plan.all_diagnostics if d.code == "DSP011"]
    assert listing.fix is not None and "HTTP 502" in listing.fix


def test_a_refused_key_ends_planning_with_one_error() -> None:
    api = FakeApi()
    denied = AccessDenied(AuthError("GET", PATH, 403), "the key lacks permission", ())
    api.fail_list["S"] = denied
    with pytest.raises(AccessDenied):
        plan_of(declaration(store("S", {"a": 1}, policy=StorePolicy(prune=True))), api)
