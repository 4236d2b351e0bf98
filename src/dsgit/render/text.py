"""The terminal rendering of a plan: coloured on a TTY, plain with NO_COLOR or in a pipe."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TextIO

from dsgit.plan.model import Action, Change, Diagnostic, Plan, Severity
from dsgit.render.values import (
    allowed_lines,
    blocked_line,
    change_headline,
    diff_lines,
    summary_line,
)

__all__ = ["render_text", "use_color"]

_RESET = "\x1b[0m"
_ACTION_COLOR = {
    Action.CREATE: "\x1b[32m",
    Action.UPDATE: "\x1b[33m",
    Action.DELETE: "\x1b[31m",
    Action.INCREMENT: "\x1b[36m",
    Action.NOOP: "\x1b[2m",
}
_SEVERITY_COLOR = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.BLOCKING: "\x1b[1;35m",
    Severity.WARNING: "\x1b[33m",
    Severity.INFO: "\x1b[2m",
}
_MAX_DIFF_LINES = 50  # per change; the plan file has them all
_HIDDEN_NAMED = 3  # addresses named per code for changes left out of a sample


def use_color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def _diagnostic_lines(diag: Diagnostic, color: bool, indent: str) -> list[str]:
    label = diag.severity.value.upper()
    if diag.suppressed_reason is not None:
        label += f" (suppressed: {diag.suppressed_reason})"
    head = _paint(f"{diag.code} {label}", _SEVERITY_COLOR[diag.severity], color)
    lines = [f"{indent}{head} {diag.message}"]
    if diag.fix and diag.suppressed_reason is None and diag.severity is not Severity.INFO:
        lines.append(f"{indent}    fix: {diag.fix}")
    return lines


def _hidden_lines(changes: Sequence[Change], color: bool) -> list[str]:
    """The changes left out of a sample: how many, and their findings grouped by code."""
    out = [f"… {len(changes):,} more changes in the plan file (`dsgit show PLAN` lists them all)"]
    found: dict[tuple[str, Severity], list[str]] = {}
    for change in changes:
        for diag in change.diagnostics:
            if diag.severity is Severity.INFO:
                continue
            label = diag.severity if diag.suppressed_reason is None else Severity.INFO
            found.setdefault((diag.code, label), []).append(str(change.address))
    for (code, severity), addresses in sorted(found.items()):
        first = ", ".join(addresses[:_HIDDEN_NAMED])
        more = (
            f" and {len(addresses) - _HIDDEN_NAMED:,} more"
            if len(addresses) > _HIDDEN_NAMED
            else ""
        )
        word = "suppressed" if severity is Severity.INFO else severity.value.upper()
        head = _paint(f"{code} {word}", _SEVERITY_COLOR[severity], color)
        out.append(f"    {head} on {len(addresses):,} of them: {first}{more}")
    return out


def render_text(plan: Plan, *, color: bool = False, sample: int | None = None) -> str:
    """The plan as a terminal would show it (ends with a newline).

    ``sample`` shows only the first that many changes in full; the others are counted, and
    their diagnostics grouped by code (a migration or retention plan may change millions)."""
    out: list[str] = []
    source = plan.source.commit[:12] if plan.source.commit else "working tree"
    dirty = " (uncommitted changes)" if plan.source.dirty and plan.source.commit else ""
    out.append(
        f"dsgit {plan.kind} for environment {plan.environment} (universe {plan.universe_id}), "
        f"from {source}{dirty}"
    )
    out.append(f"created {plan.created}, expires {plan.expires}")
    if plan.allowed:
        out.append("")
        out.append("Allowed for this plan only (--allow):")
        out.extend(f"  {line}" for line in allowed_lines(plan))
    if plan.diagnostics:
        out.append("")
        for diag in plan.diagnostics:
            out.extend(_diagnostic_lines(diag, color, ""))
    if plan.changes:
        out.append("")
    shown_changes = plan.changes if sample is None else plan.changes[:sample]
    for change in shown_changes:
        out.append(_paint(change_headline(change), _ACTION_COLOR[change.action], color))
        shown = change.diff[:_MAX_DIFF_LINES]
        for line in shown:
            out.extend(f"    {text}" for text in diff_lines(line))
        if len(change.diff) > len(shown):
            out.append(f"    … {len(change.diff) - len(shown)} more lines in the plan file")
        for diag in change.diagnostics:
            out.extend(_diagnostic_lines(diag, color, "    "))
    if len(shown_changes) < len(plan.changes):
        out.extend(_hidden_lines(plan.changes[len(shown_changes) :], color))
    out.append("")
    if plan.has_changes:
        out.append(f"Plan: {summary_line(plan)}.")
    elif any(diag.severity is Severity.ERROR for diag in plan.all_diagnostics):
        # an unread scope is not "matching": say so rather than reassure
        out.append(f"No changes planned, but not everything could be read ({summary_line(plan)}).")
    else:
        out.append(f"No changes: the live state matches ({summary_line(plan)}).")
    blocked = blocked_line(plan)
    if blocked is not None:
        out.append(_paint(blocked, _SEVERITY_COLOR[Severity.ERROR], color))
    out.append(f"Digest: {plan.digest}")
    return "\n".join(out) + "\n"
