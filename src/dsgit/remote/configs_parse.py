"""Answers of the configs and experimentation APIs -> the values of ``configs_api``.

Roblox's documentation leaves some shapes open (see docs/emulator.md, "Configs shapes"), so
each parser accepts both readings it knows of:

- a conditional value arrives as an entry's ``variants`` list (``{type, variantTypeId, value}``,
  as ``…/full`` documents) or as a flat ``<key>.RBX.conditional.<rule>`` entry (the values
  endpoint's copy-and-paste shape); ``variants`` may also be an object ``{rule: value}``;
- a draft entry is ``{value, description}`` or a bare value; ``null`` removes the key;
- an experiment state is ``EXPERIMENT_STATE_RUNNING`` or ``Running``; its key is the summary's
  ``experimentConfigKey`` or the first variant's ``configEntry.key``.

Every function raises :class:`~dsgit.remote.parse.BodyError` on a body it cannot read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dsgit.model.entry import JSONValue
from dsgit.remote.configs_api import (
    ConfigContents,
    ConfigDraft,
    ConfigEntry,
    ConfigRevision,
    Experiment,
    PublishedConfig,
    RuleSet,
    ValueChange,
)
from dsgit.remote.parse import BodyError

__all__ = [
    "BRANCH_MARKER",
    "branch_name",
    "draft",
    "draft_hash",
    "experiment",
    "experiments_page",
    "published",
    "revision",
    "revisions_page",
    "split_branch",
]

BRANCH_MARKER = ".RBX.conditional."
_ENTRY_FIELDS = frozenset(
    {"value", "description", "variants", "lastModifiedTime", "lastAccessedTime"}
)


def branch_name(key: str, rule: str) -> str:
    """The flat entry name of ``key``'s conditional value for ``rule``."""
    return f"{key}{BRANCH_MARKER}{rule}"


def split_branch(name: str) -> tuple[str, str | None]:
    key, marker, rule = name.partition(BRANCH_MARKER)
    return (key, rule) if marker and key and rule else (name, None)


def _object(body: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise BodyError(f"{what} is not a JSON object")
    return body


def _optional_str(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BodyError(f"field {name!r} is not a string")
    return value


def _int(data: Mapping[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)  # int64 fields may arrive as strings
    if isinstance(value, bool) or not isinstance(value, int):
        raise BodyError(f"field {name!r} is not an integer")
    return value


def rule_set(raw: Any) -> RuleSet:
    if raw is None:
        return RuleSet()
    data = _object(raw, "conditionalRules")
    rules = data.get("rules") or {}
    if not isinstance(rules, dict):
        raise BodyError("field 'conditionalRules.rules' is not an object")
    order = data.get("rulesOrder") or []
    if not isinstance(order, list) or not all(isinstance(rule, str) for rule in order):
        raise BodyError("field 'conditionalRules.rulesOrder' is not a list of rule ids")
    kept = {rule: definition for rule, definition in rules.items() if definition is not None}
    return RuleSet(kept, tuple(order))


def _variants(raw: Any) -> dict[str, JSONValue]:
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return dict(raw)
    if not isinstance(raw, list):
        raise BodyError("field 'variants' is neither a list nor an object")
    found: dict[str, JSONValue] = {}
    for item in raw:
        data = _object(item, "a variant")
        kind = data.get("type", "conditional")
        if isinstance(kind, str) and kind.lower() != "conditional":
            continue  # a kind of branch dsgit does not manage
        rule = data.get("variantTypeId", data.get("ruleId", data.get("id")))
        if not isinstance(rule, str) or not rule:
            raise BodyError("a variant has no 'variantTypeId'")
        found[rule] = data.get("value")
    return found


def _is_entry_object(item: Any) -> bool:
    return isinstance(item, dict) and "value" in item and set(item) <= _ENTRY_FIELDS


def _entries(raw: Any) -> dict[str, ConfigEntry]:
    if raw is None:
        return {}
    data = _object(raw, "field 'entries'")
    entries: dict[str, ConfigEntry] = {}
    branches: list[tuple[str, str, JSONValue]] = []
    for name, item in data.items():
        key, rule = split_branch(name)
        value = item["value"] if _is_entry_object(item) else item
        if rule is not None:
            branches.append((key, rule, value))
            continue
        if _is_entry_object(item):
            entries[name] = ConfigEntry(
                value,
                _optional_str(item, "description"),
                _variants(item.get("variants")),
                _optional_str(item, "lastModifiedTime"),
            )
        else:
            entries[name] = ConfigEntry(item)
    for key, rule, value in branches:
        entry = entries.get(key)
        if entry is None:
            raise BodyError("a conditional value belongs to no entry")
        entries[key] = ConfigEntry(
            entry.value, entry.description, {**entry.variants, rule: value}, entry.modified
        )
    return entries


def published(body: Any) -> PublishedConfig:
    """``GET …/full`` or ``GET …`` (values only)."""
    data = _object(body, "a configs repository")
    metadata = data.get("metadata") or {}
    version = _int(_object(metadata, "field 'metadata'"), "configVersion") or 0
    contents = ConfigContents(_entries(data.get("entries")), rule_set(data.get("conditionalRules")))
    return PublishedConfig(version, contents)


def draft(body: Any) -> ConfigDraft:
    """``GET …/draft``: the draft's changes."""
    data = _object(body, "a configs draft")
    raw = data.get("entries") or {}
    values: dict[str, JSONValue | None] = {}
    variants: dict[tuple[str, str], JSONValue | None] = {}
    descriptions: dict[str, str] = {}
    for name, item in _object(raw, "field 'entries'").items():
        key, rule = split_branch(name)
        value = item.get("value") if _is_entry_object(item) or item == {} else item
        if rule is not None:
            variants[(key, rule)] = value
            continue
        values[name] = value
        if _is_entry_object(item):
            text = _optional_str(item, "description")
            if text is not None:
                descriptions[name] = text
            for branch, branch_value in _variants(item.get("variants")).items():
                variants[(name, branch)] = branch_value
    rules = data.get("conditionalRules")
    staged_rules = rule_set(rules) if rules not in (None, {}) else None
    hash_value = _optional_str(data, "draftHash") or ""
    return ConfigDraft(hash_value, values, variants, descriptions, staged_rules)


def draft_hash(body: Any) -> str:
    data = _object(body, "a draft hash response")
    return _optional_str(data, "draftHash") or ""


def _changes(raw: Any, what: str) -> dict[str, ValueChange]:
    if raw is None:
        return {}
    changes = {}
    for name, item in _object(raw, what).items():
        change = _object(item, f"a change in {what}")
        changes[name] = ValueChange(change.get("before"), change.get("after"))
    return changes


def revision(body: Any) -> ConfigRevision:
    data = _object(body, "a configs revision")
    version = _int(data, "version")
    revision_id = _optional_str(data, "revisionId")
    if revision_id is None:
        if version is None:
            raise BodyError("a revision needs 'revisionId' or 'version'")
        revision_id = str(version)
    rules_raw = data.get("conditionalRulesChanges") or {}
    rules = _object(rules_raw, "field 'conditionalRulesChanges'")
    order_raw = rules.get("rulesOrder")
    order = None
    if order_raw is not None:
        order_data = _object(order_raw, "field 'rulesOrder'")
        order = ValueChange(order_data.get("before"), order_data.get("after"))
    return ConfigRevision(
        revision_id=revision_id,
        version=version,
        time=_optional_str(data, "time"),
        message=_optional_str(data, "message"),
        published_by=_optional_str(data, "publishedBy"),
        deployment_result=_optional_str(data, "deploymentResult"),
        changes=_changes(data.get("changes"), "field 'changes'"),
        rule_changes=_changes(rules.get("rules"), "field 'conditionalRulesChanges.rules'"),
        order_change=order,
    )


def revisions_page(body: Any) -> list[Any]:
    data = _object(body, "a revisions page")
    items = data.get("revisions") or []
    if not isinstance(items, list):
        raise BodyError("field 'revisions' is not a list")
    return items


def _state(raw: Any) -> str:
    if not isinstance(raw, str) or not raw:
        raise BodyError("an experiment has no 'state'")
    short = raw.upper().removeprefix("EXPERIMENT_STATE_")
    return f"EXPERIMENT_STATE_{short}"


def experiment(body: Any) -> Experiment:
    """An ``ExperimentSummary`` or a whole ``ProductExperiment``."""
    data = _object(body, "an experiment")
    ident = data.get("id")
    if not isinstance(ident, str) or not ident:
        raise BodyError("an experiment has no 'id'")
    key = _optional_str(data, "experimentConfigKey") or None
    if key is None:
        configuration = data.get("experimentConfiguration") or {}
        in_game = _object(configuration, "field 'experimentConfiguration'").get(
            "inGameConfigExperimentConfiguration"
        )
        for variant in (in_game or {}).get("variants") or []:
            entry = _object(variant, "a variant").get("configEntry") or {}
            found = _object(entry, "field 'configEntry'").get("key")
            if isinstance(found, str) and found:
                key = found
                break
    return Experiment(
        id=ident,
        name=_optional_str(data, "name") or ident,
        state=_state(data.get("state")),
        config_key=key,
        started=_optional_str(data, "startedTime"),
    )


def experiments_page(body: Any) -> tuple[list[Any], int | None]:
    data = _object(body, "an experiments page")
    items = data.get("experiments") or []
    if not isinstance(items, list):
        raise BodyError("field 'experiments' is not a list")
    return items, _int(data, "total")
