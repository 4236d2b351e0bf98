"""Experimentation API (``/creator-configs-public-api/v1/experimentation/universes/{u}/...``).

List, get, create, start, complete and discard in-experience experiments, and read their
(always finished) operations. Enum values are accepted as Roblox spells them
(``EXPERIMENT_STATE_RUNNING``) and as their short names (``Running``).
"""

from __future__ import annotations

from dsgit.emulator.api_error import invalid
from dsgit.emulator.call import Call
from dsgit.emulator.configs_api import query, skip_of
from dsgit.emulator.experiments import STATES, public, summary
from dsgit.emulator.query import page_size
from dsgit.emulator.wire import Response, json_response

__all__ = [
    "complete_experiment",
    "create_experiment",
    "discard_experiment",
    "get_experiment",
    "get_operation",
    "list_experiments",
    "start_experiment",
]


def _state(text: str) -> str:
    wanted = text.strip().upper().removeprefix("EXPERIMENT_STATE_")
    for state in STATES:
        if state.removeprefix("EXPERIMENT_STATE_") == wanted:
            return state
    raise invalid(f"unknown experiment state {text!r}")


def list_experiments(call: Call) -> Response:
    size = page_size(query(call, "maxPageSize"), 20, 100)
    skip = skip_of(call, "skip")
    raw = query(call, "stateFilters")
    states = {_state(part) for part in raw.split(",") if part.strip()} if raw else None
    search = query(call, "searchKey")
    product = query(call, "productTypeFilter")
    if product is not None and "MATCHMAKING" in product.upper():
        matching: list[dict[str, object]] = []
    else:
        matching = [
            item
            for item in call.state.experiments.list(call.universe)
            if (
                item["state"] in states
                if states is not None
                else item["state"] != "EXPERIMENT_STATE_DELETED"
            )
            and (search is None or search.lower() in str(item["name"]).lower())
        ]
    descending = (query(call, "sortOrder") or "").upper().endswith("DESCENDING")
    if descending:
        matching.reverse()
    page = [summary(item) for item in matching[skip : skip + size]]
    return json_response(200, {"experiments": page, "total": len(matching)})


def get_experiment(call: Call) -> Response:
    experiment = call.state.experiments.get(call.universe, call.param("experiment"))
    return json_response(200, {"experiment": public(experiment)})


def create_experiment(call: Call) -> Response:
    operation = call.state.experiments.create(call.universe, call.body_object(), call.now)
    return json_response(200, {"operation": operation})


def start_experiment(call: Call) -> Response:
    operation = call.state.experiments.start(call.universe, call.param("experiment"), call.now)
    return json_response(200, {"operation": operation})


def complete_experiment(call: Call) -> Response:
    body = call.body_object(empty_ok=True)
    variant = body.get("variantId")
    if variant is not None and not isinstance(variant, str):
        raise invalid("variantId must be a string")
    operation = call.state.experiments.complete(
        call.universe, call.param("experiment"), variant, call.now
    )
    return json_response(200, {"operation": operation})


def discard_experiment(call: Call) -> Response:
    operation = call.state.experiments.discard(call.universe, call.param("experiment"), call.now)
    return json_response(200, {"operation": operation})


def get_operation(call: Call) -> Response:
    operation = call.state.experiments.operation(call.universe, call.param("operation"))
    return json_response(200, {"operation": operation})
