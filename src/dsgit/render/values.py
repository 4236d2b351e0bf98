"""Shared pieces of every renderer: short JSON, action symbols, summary sentences."""

from __future__ import annotations

import json
from typing import assert_never

from dsgit.model.entry import JSONValue
from dsgit.plan.model import (
    Action,
    Change,
    CreateChange,
    DeleteChange,
    DiffLine,
    IncrementChange,
    NoopChange,
    Plan,
    Severity,
    UpdateChange,
)

__all__ = [
    "SYMBOLS",
    "blocked_line",
    "change_headline",
    "diff_lines",
    "short_json",
    "summary_line",
    "value_lines",
]

SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.DELETE: "-",
    Action.INCREMENT: "^",
    Action.NOOP: "=",
}
_VALUE_WIDTH = 160
_PRETTY_LINES = 200  # per value; the plan file has it whole
_LINE_WIDTH = 2_000  # one pretty line (a long string) at most


def short_json(value: JSONValue, width: int = _VALUE_WIDTH) -> str:
    """Compact JSON, cut to ``width`` characters with an ellipsis."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= width else text[: width - 1] + "…"


def value_lines(value: JSONValue) -> list[str]:
    """A value as reviewers read it: compact JSON when short, else indented JSON lines.

    A reviewer must see what will be written, so a long object or list is never cut to one
    line; only very long values stop after ``_PRETTY_LINES`` lines with a note.
    """
    compact = short_json(value, _LINE_WIDTH)
    if len(compact) <= _VALUE_WIDTH or not isinstance(value, dict | list):
        return [compact]
    pretty = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).splitlines()
    lines = [line if len(line) <= _LINE_WIDTH else line[: _LINE_WIDTH - 1] + "…" for line in pretty]
    if len(lines) > _PRETTY_LINES:
        more = len(lines) - _PRETTY_LINES
        lines = [*lines[:_PRETTY_LINES], f"… {more} more lines in the plan file"]
    return lines


def _signed(sign: str, where: str, value: JSONValue) -> list[str]:
    first, *rest = value_lines(value)
    pad = " " * (len(where) + 2)
    return [f"{sign} {where}: {first}", *(f"{sign} {pad}{line}" for line in rest)]


def diff_lines(line: DiffLine, *, inline_replace: bool = True) -> list[str]:
    """``~ /Items/3/Price: 10 -> 12``, or ``-``/``+`` lines (values already masked in the plan).

    Every returned line starts with its sign (``+``, ``-`` or ``~``) and a space.
    """
    where = line.pointer or "/"
    if line.op == "add":
        return _signed("+", where, line.new)
    if line.op == "remove":
        return _signed("-", where, line.old)
    old, new = value_lines(line.old), value_lines(line.new)
    if inline_replace and len(old) == 1 and len(new) == 1:
        return [f"~ {where}: {old[0]} -> {new[0]}"]
    return [*_signed("-", where, line.old), *_signed("+", where, line.new)]


def change_headline(change: Change) -> str:
    match change:
        case IncrementChange(amount=amount):
            action = f"{change.action.value} {amount:+d}"
        case CreateChange() | UpdateChange() | DeleteChange() | NoopChange():
            action = change.action.value
        case _:
            assert_never(change)
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


def allowed_lines(plan: Plan) -> list[str]:
    """One line per ``--allow`` of the plan: code, how many it let through, and why."""
    lines = []
    for allowance in plan.allowed:
        bound = f", up to {allowance.count:,} deletions" if allowance.count is not None else ""
        matched = allowance.matched
        lets = f"{matched} {'diagnostic' if matched == 1 else 'diagnostics'}"
        lines.append(f"{allowance.code} ({lets}{bound}): {allowance.reason}")
    return lines
