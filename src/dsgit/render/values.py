"""Shared pieces of every renderer: short JSON, action symbols, summary sentences."""

from __future__ import annotations

import json

from dsgit.model.entry import JSONValue
from dsgit.plan.model import Action, Change, DiffLine, Plan, Severity

__all__ = ["SYMBOLS", "blocked_line", "change_headline", "diff_text", "short_json", "summary_line"]

SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.INCREMENT: "^",
    Action.NOOP: "=",
}
_VALUE_WIDTH = 160


def short_json(value: JSONValue, width: int = _VALUE_WIDTH) -> str:
    """Compact JSON, cut to ``width`` characters with an ellipsis."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= width else text[: width - 1] + "…"


def diff_text(line: DiffLine) -> str:
    """``~ /Items/3/Price: 10 -> 12`` (values already masked in the plan)."""
    where = line.pointer or "/"
    if line.op == "add":
        return f"+ {where}: {short_json(line.new)}"
    if line.op == "remove":
        return f"- {where}: {short_json(line.old)}"
    return f"~ {where}: {short_json(line.old)} -> {short_json(line.new)}"


def change_headline(change: Change) -> str:
    action = change.action.value
    if change.increment is not None:
        action += f" {change.increment:+d}"
    moved = f" (moved from {change.moved_from})" if change.moved_from is not None else ""
    return f"{SYMBOLS[change.action]} {change.address}  {action}{moved}  [{change.reason}]"


def summary_line(plan: Plan) -> str:
    s = plan.summary
    return (
        f"{s.get('create', 0)} to create, {s.get('update', 0)} to update, "
        f"{s.get('delete', 0)} to delete, {s.get('increment', 0)} to increment, "
        f"{s.get('no-op', 0)} unchanged"
    )


def blocked_line(plan: Plan) -> str | None:
    """Why apply would refuse, or None when the plan is applicable."""
    blocking = plan.blocking
    if not blocking:
        return None
    errors = sum(1 for d in blocking if d.severity is Severity.ERROR)
    destructive = len(blocking) - errors
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if destructive:
        parts.append(
            f"{destructive} unsuppressed destructive diagnostic{'s' if destructive != 1 else ''}"
        )
    return "apply would refuse this plan: " + " and ".join(parts)
