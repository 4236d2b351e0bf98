"""Pure edits of a configs repository's contents: what a draft write or a restore makes of them.

A repository's contents are plain JSON (so they store as they are)::

    {"entries": {key: {"value": v, "description": d?, "variants": {rule_id: v}}},
     "rules": {"rules": {rule_id: {"tokens": [...]}}, "order": [rule_id, ...]}}

Writes carry the flat shape of the values endpoint: ``entries`` maps a key to its default
value, and ``<key>.RBX.conditional.<rule id>`` to the value of one conditional branch
(``null`` deletes an entry or a branch); ``conditionalRules`` carries ``rules`` (by id; ``null``
or ``{"tokens": []}`` removes one) and ``rulesOrder``. ``docs/emulator.md`` says which of these
shapes Roblox leaves open.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from dsgit.emulator.api_error import ApiError, invalid
from dsgit.model.configs import (
    MAX_CONDITIONS,
    MAX_CONDITIONS_PER_KEY,
    MAX_KEY_LENGTH,
    MAX_KEYS_ALLOWED,
    MAX_VALUE_CHARS,
)

__all__ = [
    "BRANCH_MARKER",
    "MAX_CONDITIONS",
    "MAX_CONDITIONS_PER_KEY",
    "MAX_KEYS",
    "MAX_KEY_LENGTH",
    "MAX_VALUE_CHARS",
    "canonical",
    "changed_keys",
    "empty_contents",
    "flat_entries",
    "locked_change",
    "overwrite",
    "patch",
    "same",
]

BRANCH_MARKER = ".RBX.conditional."
# "up to 1,000 active configs" (the API guide says 100 keys: see docs/emulator.md)
MAX_KEYS = MAX_KEYS_ALLOWED

Contents = dict[str, Any]


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def same(left: Any, right: Any) -> bool:
    return canonical(left) == canonical(right)


def empty_contents() -> Contents:
    return {"entries": {}, "rules": {"rules": {}, "order": []}}


def _split(name: str) -> tuple[str, str | None]:
    key, marker, rule = name.partition(BRANCH_MARKER)
    return (key, rule) if marker else (name, None)


def _entries(body: Mapping[str, Any]) -> dict[str, Any]:
    entries = body.get("entries")
    if entries is None:
        return {}
    if not isinstance(entries, dict):
        raise invalid("entries must be a JSON object")
    return entries


def _rules_payload(body: Mapping[str, Any]) -> dict[str, Any] | None:
    raw = body.get("conditionalRules")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise invalid("conditionalRules must be a JSON object")
    unknown = set(raw) - {"rules", "rulesOrder"}
    if unknown:
        raise invalid("conditionalRules holds only rules and rulesOrder")
    rules = raw.get("rules")
    if rules is not None and not isinstance(rules, dict):
        raise invalid("conditionalRules.rules must be a JSON object")
    order = raw.get("rulesOrder")
    if order is not None and (
        not isinstance(order, list) or not all(isinstance(item, str) for item in order)
    ):
        raise invalid("conditionalRules.rulesOrder must be a list of rule ids")
    return raw


def _removes(definition: Any) -> bool:
    """A rule sent as ``null`` or with no tokens is removed."""
    if definition is None:
        return True
    if not isinstance(definition, dict) or set(definition) - {"tokens"}:
        raise invalid("a conditional rule is an object with `tokens` (a list)")
    tokens = definition.get("tokens")
    if tokens is not None and not isinstance(tokens, list):
        raise invalid("a conditional rule's `tokens` must be a list")
    return not tokens


def _order(previous: Iterable[str], rules: Mapping[str, Any], given: list[str] | None) -> list[str]:
    if given is None:
        kept = [rule for rule in previous if rule in rules]
        return kept + sorted(rule for rule in rules if rule not in kept)
    if len(set(given)) != len(given):
        raise invalid("conditionalRules.rulesOrder lists a rule twice")
    if set(given) != set(rules):
        raise invalid("conditionalRules.rulesOrder must list every rule exactly once")
    return list(given)


def overwrite(current: Contents, body: Mapping[str, Any]) -> Contents:
    """``PUT draft:overwrite``: the body is the whole intended repository after publish.

    Descriptions are kept for keys that stay (the API has no field to write them).
    """
    entries: dict[str, Any] = {}
    branches: list[tuple[str, str, Any]] = []
    for name, value in _entries(body).items():
        key, rule = _split(name)
        if rule is not None:
            branches.append((key, rule, value))
        elif value is not None:
            entry: dict[str, Any] = {"value": value, "variants": {}}
            old = current["entries"].get(key)
            if old is not None and old.get("description") is not None:
                entry["description"] = old["description"]
            entries[key] = entry
    payload = _rules_payload(body)
    if payload is None:
        if branches:
            raise invalid("entries use conditional branches but conditionalRules is not sent")
        rules: dict[str, Any] = {}
        order: list[str] = []
    else:
        rules = {
            rule: definition
            for rule, definition in (payload.get("rules") or {}).items()
            if not _removes(definition)
        }
        order = _order(current["rules"]["order"], rules, payload.get("rulesOrder"))
    for key, rule, value in branches:
        if value is None:
            continue
        if key not in entries:
            raise invalid("a conditional branch belongs to an entry the body does not hold")
        entries[key]["variants"][rule] = value
    return _checked({"entries": entries, "rules": {"rules": rules, "order": order}})


def patch(current: Contents, body: Mapping[str, Any]) -> Contents:
    """``PATCH draft``: merge the body into the current draft (or the published contents)."""
    result: Contents = json.loads(canonical(current))
    entries = result["entries"]
    for name, value in _entries(body).items():
        key, rule = _split(name)
        if rule is None:
            if value is None:
                entries.pop(key, None)
            elif key in entries:
                entries[key]["value"] = value
            else:
                entries[key] = {"value": value, "variants": {}}
    for name, value in _entries(body).items():
        key, rule = _split(name)
        if rule is None:
            continue
        if key not in entries:
            if value is None:
                continue
            raise invalid("a conditional branch belongs to an entry the draft does not hold")
        if value is None:
            entries[key]["variants"].pop(rule, None)
        else:
            entries[key]["variants"][rule] = value
    payload = _rules_payload(body)
    if payload:  # omitted or {}: rules unchanged
        rules = result["rules"]["rules"]
        for rule, definition in (payload.get("rules") or {}).items():
            if _removes(definition):
                rules.pop(rule, None)
            else:
                rules[rule] = definition
        order = payload.get("rulesOrder")
        result["rules"]["order"] = _order(result["rules"]["order"], rules, order)
    return _checked(result)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "json"


def _check_value(value: Any) -> None:
    size = len(value) if isinstance(value, str) else len(canonical(value))
    if _json_type(value) in ("string", "json") and size > MAX_VALUE_CHARS:
        raise invalid(f"a config value is {size:,} characters (at most {MAX_VALUE_CHARS:,})")


def _checked(contents: Contents) -> Contents:
    """Roblox's limits on the repository a write would leave (400 beyond them)."""
    entries = contents["entries"]
    rules = contents["rules"]["rules"]
    if len(entries) > MAX_KEYS:
        raise invalid(f"a repository holds at most {MAX_KEYS:,} keys (this one {len(entries):,})")
    if len(rules) > MAX_CONDITIONS:
        raise invalid(f"a repository holds at most {MAX_CONDITIONS} conditional rules")
    for key, entry in entries.items():
        if not key.strip():
            raise invalid("config keys must not be empty")
        if len(key) > MAX_KEY_LENGTH:
            raise invalid(f"a config key is longer than {MAX_KEY_LENGTH} characters")
        _check_value(entry["value"])
        variants = entry["variants"]
        if len(variants) > MAX_CONDITIONS_PER_KEY:
            raise invalid(f"a config key has at most {MAX_CONDITIONS_PER_KEY} conditional values")
        for rule, value in variants.items():
            if rule not in rules:
                raise invalid("a conditional value refers to a rule that does not exist")
            if _json_type(value) != _json_type(entry["value"]):
                raise invalid("a conditional value must have the type of the key's default value")
            _check_value(value)
    return contents


def flat_entries(contents: Contents) -> dict[str, Any]:
    """The values endpoint's ``entries``: defaults, then each branch as its own key."""
    flat: dict[str, Any] = {}
    order = contents["rules"]["order"]
    for key, entry in contents["entries"].items():
        flat[key] = entry["value"]
        for rule in sorted(entry["variants"], key=lambda r: (order.index(r), r)):
            flat[f"{key}{BRANCH_MARKER}{rule}"] = entry["variants"][rule]
    return flat


def changed_keys(before: Contents, after: Contents) -> dict[str, dict[str, Any]]:
    """Per flat key (defaults and branches): ``{before, after}`` where they differ."""
    old, new = flat_entries(before), flat_entries(after)
    changes: dict[str, dict[str, Any]] = {}
    for name in sorted(set(old) | set(new)):
        if name not in new or name not in old or not same(old[name], new[name]):
            changes[name] = {"before": old.get(name), "after": new.get(name)}
    return changes


def _core(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if entry is None else {"value": entry["value"], "variants": entry["variants"]}


def locked_change(
    published: Contents, wanted: Contents, locked: Mapping[str, str]
) -> ApiError | None:
    """409 when ``wanted`` changes a key a running experiment locks (``locked``: key -> id),
    its conditional values, or a rule it uses (definition, or order among its rules)."""
    for key, experiment in sorted(locked.items()):
        entry = published["entries"].get(key)
        if not same(_core(entry), _core(wanted["entries"].get(key))):
            return ApiError(409, f"the change edits a key locked by experiment {experiment}")
        if entry is None:
            continue
        used = set(entry["variants"])
        before_rules, after_rules = published["rules"], wanted["rules"]
        for rule in used:
            if not same(before_rules["rules"].get(rule), after_rules["rules"].get(rule)):
                return ApiError(
                    409, f"the change edits a rule used by running experiment {experiment}"
                )
        before_order = [rule for rule in before_rules["order"] if rule in used]
        after_order = [rule for rule in after_rules["order"] if rule in used]
        if before_order != after_order:
            return ApiError(
                409, f"the change reorders rules used by running experiment {experiment}"
            )
    return None
