"""Configs repositories API (``/creator-configs-public-api/v1/configs/universes/{u}/...``).

An ASP.NET service: query parameter names are matched without regard to case.
"""

from __future__ import annotations

from typing import Any

from dsgit.emulator import configs_edit as edit
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
    "query",
    "restore",
    "skip_of",
    "stage_draft",
    "update_draft",
]

_STRATEGIES = ("GradualRollout", "Immediate")


def _repository(call: Call) -> str:
    return ConfigsState.check_repository(call.param("repo"))


def query(call: Call, name: str) -> str | None:
    """A query parameter by case-insensitive name; empty counts as absent."""
    wanted = name.lower()
    for key, value in call.query.items():
        if key.lower() == wanted and value != "":
            return value
    return None


def _rules(contents: dict[str, Any]) -> dict[str, Any] | None:
    rules = contents["rules"]
    if not rules["rules"]:
        return None
    return {"rules": rules["rules"], "rulesOrder": rules["order"]}


def _with_rules(body: dict[str, Any], contents: dict[str, Any]) -> dict[str, Any]:
    rules = _rules(contents)
    if rules is not None:
        body["conditionalRules"] = rules
    return body


def get_values(call: Call) -> Response:
    repository = call.state.configs.read(call.universe, _repository(call))
    published = repository.published
    body = {
        "metadata": {"configVersion": repository.version},
        "entries": edit.flat_entries(published),
    }
    return json_response(200, _with_rules(body, published))


def get_full(call: Call) -> Response:
    repository = call.state.configs.read(call.universe, _repository(call))
    published = repository.published
    order = published["rules"]["order"]
    entries = {}
    for key, item in published["entries"].items():
        entry: dict[str, Any] = {
            "value": item["value"],
            "lastModifiedTime": format_time(item["modified"]),
            "lastAccessedTime": format_time(call.now),
        }
        if item.get("description") is not None:
            entry["description"] = item["description"]
        if item["variants"]:
            entry["variants"] = [
                {"type": "conditional", "variantTypeId": rule, "value": item["variants"][rule]}
                for rule in sorted(item["variants"], key=lambda r: (order.index(r), r))
            ]
        entries[key] = entry
    body = {"entries": entries, "metadata": {"configVersion": repository.version}}
    return json_response(200, _with_rules(body, published))


def get_draft(call: Call) -> Response:
    repository = call.state.configs.read(call.universe, _repository(call))
    body: dict[str, Any] = {"draftHash": repository.draft_hash, "entries": {}}
    draft = repository.draft
    if draft is None:
        return json_response(200, body)
    published = repository.published
    for name, change in edit.changed_keys(published, draft).items():
        body["entries"][name] = {"value": change["after"]}
    for key, entry in draft["entries"].items():
        old = published["entries"].get(key)
        text = entry.get("description")
        if text is not None and (old is None or old.get("description") != text):
            body["entries"].setdefault(key, {"value": entry["value"]})["description"] = text
    if not edit.same(draft["rules"], published["rules"]):
        body["conditionalRules"] = {
            "rules": draft["rules"]["rules"],
            "rulesOrder": draft["rules"]["order"],
        }
    return json_response(200, body)


def _edit(call: Call, *, overwrite: bool) -> Response:
    repository = _repository(call)
    body = call.body_object()
    draft_hash = call.state.configs.edit_draft(call.universe, repository, body, overwrite=overwrite)
    return json_response(200, {"draftHash": draft_hash})


def update_draft(call: Call) -> Response:
    return _edit(call, overwrite=False)


def overwrite_draft(call: Call) -> Response:
    return _edit(call, overwrite=True)


def delete_draft(call: Call) -> Response:
    repository = _repository(call)
    body = call.body_object(empty_ok=True)
    given = body.get("draftHash", body.get("previousDraftHash"))
    draft_hash = call.state.configs.reset_draft(call.universe, repository, given)
    return json_response(200, {"draftHash": draft_hash})


def stage_draft(call: Call) -> Response:
    """The emulator's stand-in for an edit in Creator Hub or Studio (not a Roblox endpoint):
    the PATCH body, plus ``descriptions`` (key -> text); no draft hash needed."""
    repository = _repository(call)
    body = call.body_object()
    descriptions = body.pop("descriptions", None) or {}
    if not isinstance(descriptions, dict) or not all(
        isinstance(text, str) for text in descriptions.values()
    ):
        raise invalid("descriptions must map keys to strings")
    draft_hash = call.state.configs.stage_from_creator_hub(
        call.universe, repository, body, descriptions
    )
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
    given = body.get("draftHash", body.get("previousDraftHash"))
    version = call.state.configs.publish(
        call.universe, repository, given, message, strategy, call.now
    )
    return json_response(200, {"configVersion": version})


def _revision_json(revision: ConfigRevision) -> dict[str, Any]:
    body: dict[str, Any] = {
        "revisionId": revision.revision_id,
        "version": revision.version,
        "time": format_time(revision.time),
        "publishedBy": revision.published_by,
        "message": revision.message,
        "deploymentResult": "Succeeded",
        "autoRestoreToVersion": -1,
        "changes": revision.changes,
    }
    if revision.rule_changes is not None:
        body["conditionalRulesChanges"] = revision.rule_changes
    return body


def _time(call: Call, name: str) -> int | None:
    raw = query(call, name)
    if raw is None:
        return None
    try:
        return parse_time(raw)
    except ValueError:
        raise invalid(f"{name} {raw!r} is not an RFC 3339 time") from None


def skip_of(call: Call, name: str = "Skip") -> int:
    try:
        return max(0, int(query(call, name) or "0"))
    except ValueError:
        raise invalid(f"{name} must be an integer") from None


def list_revisions(call: Call) -> Response:
    repository = _repository(call)
    start, end = _time(call, "startTime"), _time(call, "endTime")
    size = page_size(query(call, "MaxPageSize"), 50, 100, "MaxPageSize")
    skip = skip_of(call)
    search = query(call, "SearchKey")
    order = (query(call, "SortOrder") or "SORT_ORDER_DESCENDING").upper()
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
