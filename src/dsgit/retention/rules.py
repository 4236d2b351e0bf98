"""Retention rules as values: what ``policies/retention.yaml`` says, checked and typed.

Pure: parsing and validation are in :mod:`dsgit.retention.policy_file`, evaluation in
:mod:`dsgit.retention.evaluate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from dsgit.model.entry import JSONValue, StoreKind
from dsgit.scan.select import ALL_SCOPES, Selection

__all__ = ["Action", "Predicate", "RetentionPolicy", "RetentionRule"]


class Action(StrEnum):
    DELETE = "delete"
    DELETE_BELOW = "delete_below"  # ordered stores: entries whose value is below ``below``


PREDICATE_OPS = (
    "equals",
    "not_equals",
    "less_than",
    "less_or_equal",
    "greater_than",
    "greater_or_equal",
    "in",
    "exists",
)


@dataclass(frozen=True)
class Predicate:
    """``{pointer: /Data/Level, less_than: 5}``: one test of the value at a JSON pointer."""

    pointer: str
    op: str
    operand: JSONValue

    def describe(self) -> str:
        shown = "the value" if self.pointer == "" else self.pointer
        return f"{shown} {self.op.replace('_', ' ')} {_short(self.operand)}"


def _short(value: JSONValue) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class RetentionRule:
    """One rule: a selection, its conditions (all must hold), an action and a guard."""

    name: str
    store: str
    kind: StoreKind = StoreKind.STANDARD
    scope: str = "global"
    keys: str | None = None
    prefix: str | None = None
    older_than: timedelta | None = None
    older_than_text: str | None = None
    timestamp: str | None = None
    where: tuple[Predicate, ...] = ()
    action: Action = Action.DELETE
    below: int | None = None
    max_deletes: int | None = None
    line: int | None = None

    def selection(self) -> Selection:
        scope = ALL_SCOPES if self.scope in ("*", ALL_SCOPES) else self.scope
        return Selection(
            (self.store,),
            kind=self.kind,
            scopes=(scope,),
            keys=self.keys,
            prefix=self.prefix,
            max_value=self.below - 1
            if self.action is Action.DELETE_BELOW and self.below is not None
            else None,
        )

    def describe(self) -> str:
        """``older than 730d by /MetaData/LastUpdate``, ``value below 5``, ..."""
        parts = []
        if self.action is Action.DELETE_BELOW:
            parts.append(f"value below {self.below}")
        if self.older_than_text is not None:
            by = (
                f"by {self.timestamp or 'the value'}"
                if self.timestamp is not None
                else "by its last revision"
            )
            parts.append(f"older than {self.older_than_text} {by}")
        parts.extend(predicate.describe() for predicate in self.where)
        return ", ".join(parts)


@dataclass(frozen=True)
class RetentionPolicy:
    rules: tuple[RetentionRule, ...]
    digest: str  # sha256 of the file's bytes: plans record which policy chose their deletions
    source: str = "policies/retention.yaml"

    def rule(self, name: str) -> RetentionRule | None:
        return next((rule for rule in self.rules if rule.name == name), None)
