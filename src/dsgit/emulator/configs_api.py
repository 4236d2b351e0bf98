"""Configs repositories API (``/creator-configs-public-api/v1/configs/universes/{u}/...``).

An ASP.NET service: query parameter names are matched without regard to case.
"""

from __future__ import annotations

from typing import Any

from dsgit.emulator.api_error import invalid
from dsgit.emulator.call import Call
from dsgit.emulator.clock import format_time, parse_time
from dsgit.emulator.configs import ConfigRevision, ConfigsState
from dsgit.emulator.query import page_size
from dsgit.emulator.wire import Response, json_response

__all__ = [
    "delete_draft",
    "get_draft",
    "get_full",
    "get_values",
    "list_revisions",
    "overwrite_draft",
    "publish",
    "restore",
    "update_draft",
]

_STRATEGIES = ("GradualRollout", "Immediate")


def _repository(call: Call) -> str:
    return ConfigsState.check_repository(call.param("repo"))


def _query(call: Call, name: str) -> str | None:
    wanted = name.lower()
    for key, value in call.query.items():
        if key.lower() == wanted and value != "":
            return value
    return None


def get_values(call: Call) -> Response:
    published = call.state.configs.published(call.universe, _repository(call))
    return json_response(
        200, {"metadata": {"configVersion": published.version}, "entries": published.values()}
    )


def get_full(call: Call) -> Response:
    published = call.state.configs.published(call.universe, _repository(call))
    entries = {
        key: {
            "value": item["value"],
            "lastModifiedTime": format_time(item["modified"]),
            "lastAccessedTime": format_time(call.now),
        }
        for key, item in published.entries.items()
    }
    return json_response(
        200, {"entries": entries, "metadata": {"configVersion": published.version}}
    )


def get_draft(call: Call) -> Response:
    draft_hash, draft = call.state.configs.draft(call.universe, _repository(call))
    entries = {key: {"value": value} for key, value in draft.items()}
    return json_response(200, {"draftHash": draft_hash, "entries": entries})


def _entries(body: dict[str, Any]) -> dict[str, Any]:
    entries = body.get("entries")
    if entries is None:
        return {}
    if not isinstance(entries, dict):
        raise invalid("entries must be a JSON object")
    for key in entries:
        if not key.strip():
            raise invalid("config keys must not be empty")
    return entries


def _edit(call: Call, *, overwrite: bool) -> Response:
    repository = _repository(call)
    body = call.body_object()
    draft_hash = call.state.configs.edit_draft(
        call.universe, repository, _entries(body), body.get("draftHash"), overwrite=overwrite
    )
    return json_response(200, {"draftHash": draft_hash})


def update_draft(call: Call) -> Response:
    return _edit(call, overwrite=False)


def overwrite_draft(call: Call) -> Response:
    return _edit(call, overwrite=True)


def delete_draft(call: Call) -> Response:
    repository = _repository(call)
    body = call.body_object(empty_ok=True)
    draft_hash = call.state.configs.reset_draft(call.universe, repository, body.get("draftHash"))
    return json_response(200, {"draftHash": draft_hash})


def publish(call: Call) -> Response:
    repository = _repository(call)
    body = call.body_object()
    strategy = body.get("deploymentStrategy")
    if strategy is not None and strategy not in _STRATEGIES:
        raise invalid(f"deploymentStrategy must be one of {', '.join(_STRATEGIES)}")
    message = body.get("message")
    if message is not None and not isinstance(message, str):
        raise invalid("message must be a string")
    version = call.state.configs.publish(
        call.universe, repository, body.get("draftHash"), message, strategy, call.now
    )
    return json_response(200, {"configVersion": version})


def _revision_json(revision: ConfigRevision) -> dict[str, Any]:
    body: dict[str, Any] = {
        "revisionId": revision.revision_id,
        "version": revision.version,
        "time": format_time(revision.time),
        "message": revision.message,
        "autoRestoreToVersion": -1,
        "changes": revision.changes,
    }
    return body


def _time(call: Call, name: str) -> int | None:
    raw = _query(call, name)
    if raw is None:
        return None
    try:
        return parse_time(raw)
    except ValueError:
        raise invalid(f"{name} {raw!r} is not an RFC 3339 time") from None


def list_revisions(call: Call) -> Response:
    repository = _repository(call)
    start, end = _time(call, "startTime"), _time(call, "endTime")
    size = page_size(_query(call, "MaxPageSize"), 50, 100, "MaxPageSize")
    try:
        skip = max(0, int(_query(call, "Skip") or "0"))
    except ValueError:
        raise invalid("Skip must be an integer") from None
    search = _query(call, "SearchKey")
    order = (_query(call, "SortOrder") or "SORT_ORDER_DESCENDING").upper()
    if order not in ("SORT_ORDER_DESCENDING", "SORT_ORDER_ASCENDING"):
        raise invalid("SortOrder must be SORT_ORDER_DESCENDING or SORT_ORDER_ASCENDING")
    revisions = [
        item
        for item in call.state.configs.revisions(call.universe, repository)
        if (start is None or item.time >= start)
        and (end is None or item.time <= end)
        and (search is None or any(search in key for key in item.changes))
    ]
    if order == "SORT_ORDER_DESCENDING":
        revisions.reverse()
    chosen = revisions[skip : skip + size]
    return json_response(200, {"revisions": [_revision_json(item) for item in chosen]})


def restore(call: Call) -> Response:
    repository = _repository(call)
    draft_hash = call.state.configs.restore(call.universe, repository, call.param("rev"))
    return json_response(200, {"draftHash": draft_hash})
