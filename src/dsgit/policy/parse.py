"""``policies/approvals.yaml`` (already parsed to JSON values) to a :class:`Policy`.

Shapes are the file schema's job (``dsgit/schemas/approvals.schema.json``); this module checks
what a schema cannot: names that exist, groups that resolve, keys that decode, rules that can
be satisfied. Each problem is a :class:`PolicyIssue` with the path of the field, so the adapter
can name the file, line and field.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from dsgit.policy.model import (
    DEFAULT_DESTRUCTIVE_MIN,
    DEFAULT_MAX_AGE,
    DEFAULT_PROTECTED_MIN,
    Approver,
    ChangeClass,
    Policy,
    Rule,
)

__all__ = [
    "KEY_PREFIX",
    "PolicyIssue",
    "parse_duration",
    "parse_public_key",
    "policy_digest",
    "policy_from_document",
]

KEY_PREFIX = "ed25519:"
_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class PolicyIssue:
    """One problem of the policy file at ``path`` (keys and list indexes from the top)."""

    path: tuple[str | int, ...]
    message: str


def parse_duration(text: str) -> timedelta | None:
    """``30m``, ``12h``, ``7d``, ``2w``; None when not such a duration."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) <= 0:
        return None
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_public_key(text: str) -> bytes | None:
    """The 32 raw bytes of ``ed25519:<base64>``; None when it is not such a key."""
    if not text.startswith(KEY_PREFIX):
        return None
    try:
        raw = base64.b64decode(text[len(KEY_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def policy_digest(document: Any) -> str:
    """``sha256:<hex>`` of the canonical JSON of the parsed file: comments and layout do not
    count, any change of meaning does."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(str(item) for item in value)
    return ()


def policy_from_document(
    document: Any, *, source: str = "policies/approvals.yaml"
) -> tuple[Policy, list[PolicyIssue]]:
    """The policy and every problem found; a policy with problems must not be used."""
    issues: list[PolicyIssue] = []
    if not isinstance(document, Mapping):
        return Policy(source=source), [PolicyIssue((), "the file must be a mapping")]

    def issue(path: tuple[str | int, ...], message: str) -> None:
        issues.append(PolicyIssue(path, message))

    if document.get("version") != 1:
        issue(("version",), "version must be 1")
    max_age = DEFAULT_MAX_AGE
    if "max_age" in document:
        parsed = parse_duration(str(document["max_age"]))
        if parsed is None:
            issue(("max_age",), "max_age must be a duration such as 12h or 7d")
        else:
            max_age = parsed

    approvers: list[Approver] = []
    seen_names: set[str] = set()
    seen_github: set[str] = set()
    seen_keys: set[str] = set()
    for index, raw in enumerate(document.get("approvers") or ()):
        where: tuple[str | int, ...] = ("approvers", index)
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
            issue(where, "an approver needs a name")
            continue
        name = raw["name"]
        if name in seen_names:
            issue((*where, "name"), f"approver {name!r} is listed twice")
        seen_names.add(name)
        github = raw.get("github")
        if isinstance(github, str):
            if github.lower() in seen_github:
                issue((*where, "github"), f"GitHub login {github!r} belongs to two approvers")
            seen_github.add(github.lower())
        key = raw.get("key")
        if isinstance(key, str):
            if parse_public_key(key) is None:
                issue(
                    (*where, "key"),
                    "key must be `ed25519:<base64 of 32 bytes>` as `dsgit keys generate` prints",
                )
            elif key in seen_keys:
                issue((*where, "key"), "this key belongs to two approvers")
            seen_keys.add(key)
        if not isinstance(github, str) and not isinstance(key, str):
            issue(where, f"approver {name!r} needs a key, a github login, or both")
        approvers.append(
            Approver(
                name=name,
                github=github if isinstance(github, str) else None,
                key=key if isinstance(key, str) else None,
                emails=_strings(raw.get("emails")),
            )
        )

    groups: dict[str, tuple[str, ...]] = {}
    raw_groups = document.get("groups") or {}
    if isinstance(raw_groups, Mapping):
        for group, listed in raw_groups.items():
            names = _strings(listed)
            if str(group) in seen_names:
                issue(("groups", str(group)), f"group {group!r} has the name of an approver")
            for position, member in enumerate(names):
                if member not in seen_names:
                    issue(
                        ("groups", str(group), position),
                        f"group {group!r} names {member!r}, who is not an approver",
                    )
            groups[str(group)] = names

    def members(names: tuple[str, ...]) -> set[str]:
        found: set[str] = set()
        for name in names:
            found.update(groups.get(name, (name,)))
        return found

    rules: list[Rule] = []
    for index, raw in enumerate(document.get("rules") or ()):
        where = ("rules", index)
        if not isinstance(raw, Mapping):
            issue(where, "a rule must be a mapping")
            continue
        name = str(raw.get("name") or f"rule {index + 1}")
        classes: list[ChangeClass] = []
        for position, text in enumerate(_strings(raw.get("classes", ["any"]))):
            try:
                classes.append(ChangeClass(text))
            except ValueError:
                issue((*where, "classes", position), f"unknown change class {text!r}")
        sources = _strings(raw.get("from", ()))
        for position, source_name in enumerate(sources):
            if source_name not in seen_names and source_name not in groups:
                issue(
                    (*where, "from", position),
                    f"{source_name!r} is neither an approver nor a group",
                )
        minimum = raw.get("min_approvals", 1)
        if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 1:
            issue((*where, "min_approvals"), "min_approvals must be a whole number ≥ 1")
            minimum = 1
        pool = members(sources) if sources else set(seen_names)
        if minimum > len(pool):
            issue(
                (*where, "min_approvals"),
                f"rule {name!r} needs {minimum} approvals but only {len(pool)} people can give "
                "them",
            )
        rules.append(
            Rule(
                name=name,
                environments=_strings(raw.get("environments", ["*"])) or ("*",),
                addresses=_strings(raw.get("addresses", ["*"])) or ("*",),
                classes=tuple(classes) or (ChangeClass.ANY,),
                min_approvals=minimum,
                from_=sources,
            )
        )

    def minimum_of(field: str, default: int) -> int:
        value = document.get(field, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            issue((field,), f"{field} must be a whole number ≥ 1")
            return default
        return value

    allow_self = document.get("allow_self_approval", False)
    if not isinstance(allow_self, bool):
        issue(("allow_self_approval",), "allow_self_approval must be true or false")
        allow_self = False
    policy = Policy(
        allow_self_approval=allow_self,
        approvers=tuple(approvers),
        groups=groups,
        rules=tuple(rules),
        max_age=max_age,
        protected_min_approvals=minimum_of("protected_min_approvals", DEFAULT_PROTECTED_MIN),
        destructive_min_approvals=minimum_of("destructive_min_approvals", DEFAULT_DESTRUCTIVE_MIN),
        digest=policy_digest(document),
        source=source,
    )
    return policy, issues
