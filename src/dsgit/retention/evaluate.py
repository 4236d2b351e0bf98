"""Does a retention rule choose this entry? A pure decision per entry and rule.

- ``older_than`` with ``timestamp``: the time at that pointer (RFC 3339, unix seconds or
  milliseconds) is more than ``older_than`` before the scan's ``now``; an entry without a
  readable time there is kept and counted (DSP072), never deleted on a guess;
- ``older_than`` alone: the entry's last revision is that old (standard stores);
- ``where``: every predicate holds (numbers compare as numbers, ``1 == 1.0``; an ordering test
  of values of different types is false);
- ``delete_below``: the ordered entry's value is below ``below``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dsgit.model.entry import JSONValue
from dsgit.model.pointers import resolve
from dsgit.retention.rules import Action, Predicate, RetentionRule
from dsgit.retention.timestamps import read_timestamp
from dsgit.scan.entry import ScanEntry

__all__ = ["Verdict", "evaluate", "holds", "same_json"]


@dataclass(frozen=True)
class Verdict:
    """``chosen`` with the reason a plan shows; or why not (``no_time``: kept, no timestamp)."""

    chosen: bool
    reason: str = ""
    no_time: bool = False


_NO = Verdict(False)


def _age_text(seconds: float) -> str:
    days = seconds / 86400
    if days >= 2:
        return f"{int(days)} days"
    hours = seconds / 3600
    return f"{int(hours)} h" if hours >= 2 else f"{int(seconds // 60)} min"


def same_json(a: JSONValue, b: JSONValue) -> bool:
    """JSON equality: ``1 == 1.0`` but ``True != 1``; objects regardless of order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _ordered(a: JSONValue, b: JSONValue) -> tuple[float, float] | tuple[str, str] | None:
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers):
        if isinstance(a, bool) or isinstance(b, bool):
            return None
        return float(a), float(b)
    if isinstance(a, str) and isinstance(b, str):
        return a, b
    return None


def holds(predicate: Predicate, value: JSONValue) -> bool:
    present, found = resolve(value, predicate.pointer)
    op, operand = predicate.op, predicate.operand
    if op == "exists":
        return present is bool(operand)
    if op == "not_equals":
        return not present or not same_json(found, operand)
    if not present:
        return False
    if op == "equals":
        return same_json(found, operand)
    if op == "in":
        return isinstance(operand, list) and any(same_json(found, item) for item in operand)
    pair = _ordered(found, operand)
    if pair is None:
        return False
    left, right = pair
    if op == "less_than":
        return left < right  # type: ignore[operator]
    if op == "less_or_equal":
        return left <= right  # type: ignore[operator]
    if op == "greater_than":
        return left > right  # type: ignore[operator]
    if op == "greater_or_equal":
        return left >= right  # type: ignore[operator]
    raise ValueError(f"unknown predicate {op!r}")


def evaluate(rule: RetentionRule, entry: ScanEntry, now: datetime) -> Verdict:
    """Whether ``rule`` deletes ``entry`` at ``now``, and the reason the plan shows."""
    reasons = []
    if rule.action is Action.DELETE_BELOW:
        if not isinstance(entry.value, int) or rule.below is None or entry.value >= rule.below:
            return _NO
        reasons.append(f"value {entry.value} below {rule.below}")
    if rule.older_than is not None:
        if rule.timestamp is not None:
            present, raw = resolve(entry.value, rule.timestamp)
            moment = read_timestamp(raw) if present else None
            if moment is None:
                return Verdict(False, no_time=True)
            where = rule.timestamp or "the value"
        else:
            moment = entry.revision_time
            if moment is None:
                return Verdict(False, no_time=True)
            where = "last revision"
        age = (now - moment).total_seconds()
        if age <= rule.older_than.total_seconds():
            return _NO
        reasons.append(f"{where} {_age_text(age)} old (older than {rule.older_than_text})")
    for predicate in rule.where:
        if not holds(predicate, entry.value):
            return _NO
    if rule.where:
        reasons.append("; ".join(p.describe() for p in rule.where))
    return Verdict(True, f"retention rule {rule.name}: " + ", ".join(reasons))
