"""Every operation of the OpenAPI files is served, with its operationId and scopes."""

from __future__ import annotations

import json
import re

import pytest

from dsgit.emulator.routes import ROUTES
from openapi_check import SPEC_DIR, SPEC_FILES, check_response, operations


def normalized(template: str) -> str:
    return re.sub(r"\{\w+\}", "{}", template)


def served() -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    table = {}
    for route in ROUTES:
        for method, op in route.methods.items():
            table[method, normalized(route.template)] = (op.operation_id, op.scopes)
    return table


def spec_scopes() -> dict[str, tuple[str, ...]]:
    scopes = {}
    for name in SPEC_FILES:
        document = json.loads((SPEC_DIR / name).read_text(encoding="utf-8"))
        for item in document["paths"].values():
            for method, op in item.items():
                if method != "parameters":
                    scopes[op["operationId"]] = tuple(s["name"] for s in op["x-roblox-scopes"])
    return scopes


def test_every_documented_operation_is_served_as_documented() -> None:
    table = served()
    scopes = spec_scopes()
    for op in operations():
        key = (op.method, normalized(op.template))
        assert key in table, f"{op.method} {op.template} is not served"
        operation_id, route_scopes = table[key]
        assert operation_id == op.operation_id
        assert route_scopes == scopes[op.operation_id]


# Documented by a Roblox guide rather than the OpenAPI files: the Analytics Query API
# (cloud/guides/analytics), whose data store storage metric the emulator serves.
GUIDE_ONLY = {("POST", "/analytics-query-api/v1/universes/{}/metrics")}


def test_nothing_is_served_that_is_not_documented() -> None:
    """Except the emulator's own test helpers (under ``/_emulator/``, named ``Emulator_*``)."""
    documented = {(op.method, normalized(op.template)) for op in operations()}
    own = {key for key, (op_id, _) in served().items() if op_id.startswith("Emulator_")}
    assert all(path.startswith("/_emulator/") for _, path in own)
    assert set(served()) - own == documented | GUIDE_ONLY
    assert served()["POST", "/analytics-query-api/v1/universes/{}/metrics"][1] == (
        "universe.analytics:read",
    )


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/cloud/v2/universes/1/data-stores/S/scopes/global/entries/k", 200, b'{"path": 1}'),
        (
            "GET",
            "/cloud/v2/universes/1/data-stores/S/scopes/global/entries/k",
            200,
            b'{"createTime": "yesterday"}',
        ),
        (
            "GET",
            "/cloud/v2/universes/1/data-stores/S/scopes/global/entries/k",
            404,
            b'{"code": "MISSING", "message": "x"}',
        ),
        ("GET", "/cloud/v2/universes/1/data-stores/S/scopes/global/entries/k", 201, b"{}"),
        ("DELETE", "/cloud/v2/universes/1/data-stores/S/scopes/global/entries/k", 200, b'{"a": 1}'),
        ("GET", "/cloud/v2/universes/1/data-stores", 200, b'{"dataStores": [{"state": "GONE"}]}'),
        (
            "GET",
            "/creator-configs-public-api/v1/configs/universes/1/repositories/X",
            200,
            b'{"entries": {}, "surprise": 1}',
        ),
        (
            "GET",
            "/datastores/v1/universes/1/standard-datastores/datastore/entries",
            200,
            b'{"keys": ["plain"]}',
        ),
        (
            "DELETE",
            "/datastores/v1/universes/1/standard-datastores/datastore/entries/entry",
            204,
            b"x",
        ),
        (
            "GET",
            "/cloud/v2/universes/1/data-stores/S/scopes/global/entries/k",
            401,
            b'{"errors": []}',
        ),
        ("GET", "/nothing", 200, b"{}"),
    ],
)
def test_the_checker_rejects_wrong_bodies(method: str, path: str, status: int, body: bytes) -> None:
    with pytest.raises(AssertionError):
        check_response(method, path, status, body)


def test_the_checker_accepts_nullable_and_documented_shapes() -> None:
    check_response(
        "GET",
        "/creator-configs-public-api/v1/configs/universes/1/repositories/X/draft",
        200,
        b'{"draftHash": null, "entries": {"a": {"value": null, "description": null}}}',
    )
    check_response(
        "GET",
        "/cloud/v2/universes/1/data-stores",
        200,
        b'{"dataStores": [{"path": "universes/1/data-stores/A", "id": "A"}]}',
    )
