"""The pull-request rendering: summary, diagnostics table, collapsible diffs per store, digest.

The table holds what needs attention (errors, blocking diagnostics, warnings); informational
notes, which repeat per entry (renames, kept seeds, reverted increments), are collapsed into
one ``Notes`` section, one line per code. The comment ends with how to apply the plan and
what approvals it needs.

GitHub refuses comments over 65,536 characters, so the rendering fits ``limit``: diffs are
dropped from the end (whole stores, then lines) with a note saying how many were left out.
"""

from __future__ import annotations

import re
from itertools import groupby

from dsgit.plan.model import Change, Diagnostic, DiffLine, Plan, Severity
from dsgit.render.values import (
    allowed_lines,
    blocked_line,
    change_headline,
    diff_lines,
    summary_line,
)
from dsgit.render.words import plural

__all__ = [
    "GITHUB_COMMENT_LIMIT",
    "attention_parts",
    "diff_fence",
    "escape_cell",
    "render_markdown",
]

GITHUB_COMMENT_LIMIT = 65_536
_ICON = {
    Severity.ERROR: ":x:",
    Severity.BLOCKING: ":no_entry:",
    Severity.WARNING: ":warning:",
    Severity.INFO: ":information_source:",
}
_MAX_TABLE_ROWS = 100


def escape_cell(text: str | None) -> str:
    if not text:
        return ""
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def diff_fence(body: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}diff\n{body}\n{fence}"


def _row(diag: Diagnostic) -> str:
    severity = diag.severity.value
    if diag.suppressed_reason is not None:
        severity += f" (suppressed: {escape_cell(diag.suppressed_reason)})"
    where = diag.address or diag.store or ""
    fix = diag.fix if diag.suppressed_reason is None else ""
    return (
        f"| {_ICON[diag.severity]} | `{diag.code}` | {severity} | {escape_cell(where)} | "
        f"{escape_cell(diag.message)} | {escape_cell(fix)} |"
    )


def _notes_section(notes: tuple[Diagnostic, ...]) -> str:
    """Informational diagnostics, one line per code (how many, the first message), collapsed."""
    if not notes:
        return ""
    by_code: dict[str, list[Diagnostic]] = {}
    for diag in notes:
        by_code.setdefault(diag.code, []).append(diag)
    lines = []
    for code, found in sorted(by_code.items()):
        first = found[0]
        more = (
            f" (and {plural(len(found) - 1, 'more like it', 'more like it')})"
            if len(found) > 1
            else ""
        )
        lines.append(f"- `{code}` {escape_cell(first.message)}{more}")
    title = plural(len(notes), "note")
    return f"<details><summary>{title}</summary>\n\n" + "\n".join(lines) + "\n\n</details>\n"


def _next_steps(plan: Plan) -> str:
    """How to apply this plan, and what approvals it needs."""
    if plan.blocking:
        apply = (
            "**To apply:** fix or suppress what blocks it (above), then plan again; apply "
            "refuses this plan."
        )
    elif not plan.has_changes:
        apply = "**To apply:** nothing to apply."
    else:
        apply = (
            f"**To apply:** save it (`-o plan.json`) and run `dsgit apply plan.json -e "
            f"{plan.environment}`."
        )
    kind = "destructive" if plan.destructive else "non-destructive"
    approvals = (
        f"**Approvals:** none if `{escape_cell(plan.environment)}` is not protected; a "
        f"protected environment needs approvals of this digest for a {kind} plan "
        "(`dsgit approve`)."
    )
    return f"{apply}  \n{approvals}"


def _diff_lines(line: DiffLine) -> list[str]:
    """Old and new on their own ``-`` / ``+`` lines, so GitHub colours them."""
    return [f"{text[0]}     {text[2:]}" for text in diff_lines(line, inline_replace=False)]


def _change_block(change: Change) -> str:
    lines = [change_headline(change)]
    for line in change.diff:
        lines.extend(_diff_lines(line))
    return "\n".join(lines)


def _store_section(store: str, changes: list[Change], budget: int) -> tuple[str, int]:
    """The ``<details>`` of one store within ``budget`` characters; and changes left out."""
    count = plural(len(changes), "change")
    head = f"<details><summary><b>{escape_cell(store)}</b>: {count}</summary>\n\n"
    tail = "\n</details>\n"
    blocks: list[str] = []
    used = len(head) + len(tail) + 20
    for index, change in enumerate(changes):
        block = _change_block(change)
        if used + len(block) + 1 > budget:
            left = len(changes) - index
            blocks.append(
                f"… {plural(left, 'more change', 'more changes')} not shown: see the plan file"
            )
            return head + diff_fence("\n".join(blocks)) + tail, left
        blocks.append(block)
        used += len(block) + 1
    return head + diff_fence("\n".join(blocks)) + tail, 0


def _store_of(change: Change) -> str:
    prefix = "ordered:" if str(change.address).startswith("ordered:") else ""
    return prefix + change.address.store


def attention_parts(plan: Plan) -> list[str]:
    """What a reviewer must see first: why apply would refuse, the destructive class, the
    command-line allowances (each a markdown paragraph)."""
    parts = []
    blocked = blocked_line(plan)
    if blocked is not None:
        parts.append(f":no_entry: **{blocked}**\n")
    if plan.destructive:
        parts.append(
            ":warning: This plan is **destructive** (it deletes entries or carries destructive "
            "diagnostics): approval rules for destructive changes apply.\n"
        )
    if plan.allowed:
        lines = "\n".join(f"- {escape_cell(line)}" for line in allowed_lines(plan))
        parts.append(f"**Allowed for this plan only (`--allow`):**\n\n{lines}\n")
    return parts


def render_markdown(plan: Plan, *, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """A pull-request comment for ``plan``, at most ``limit`` characters."""
    parts: list[str] = []
    parts.append(
        f"### dsgit {plan.kind}: `{escape_cell(plan.environment)}` (universe {plan.universe_id})\n"
    )
    status = "**No changes.**" if not plan.has_changes else f"**Plan:** {summary_line(plan)}."
    parts.append(status + "\n")
    parts.extend(attention_parts(plan))
    every = plan.all_diagnostics
    diags = tuple(d for d in every if d.severity is not Severity.INFO)
    notes = _notes_section(tuple(d for d in every if d.severity is Severity.INFO))
    if diags:
        rows = [_row(d) for d in diags[:_MAX_TABLE_ROWS]]
        table = [
            "| | code | severity | where | message | fix |",
            "|---|---|---|---|---|---|",
            *rows,
        ]
        if len(diags) > _MAX_TABLE_ROWS:
            table.append(f"\n… {len(diags) - _MAX_TABLE_ROWS} more diagnostics in the plan file")
        parts.append("\n".join(table) + "\n")
    if notes:
        parts.append(notes)
    source = plan.source.commit[:12] if plan.source.commit else "working tree"
    footer = (
        f"\nPlan digest: `{plan.digest}` · source `{source}`"
        f"{' (dirty)' if plan.source.dirty else ''} · expires {plan.expires}\n"
        f"\n{_next_steps(plan)}\n"
    )
    text = "\n".join(parts)
    if len(text) + len(footer) > limit:
        # Even the table is too long: cut it and say so.
        room = max(0, limit - len(footer) - 120)
        text = (
            text[:room] + "\n\n… diagnostics cut to fit GitHub's comment limit: see the plan file\n"
        )
    changed = [c for c in plan.changes]
    left_out = 0
    sections: list[str] = []
    room = limit - len(text) - len(footer) - 200
    for store, group in groupby(changed, key=_store_of):
        items = list(group)
        if room <= 300:
            left_out += len(items)
            continue
        section, skipped = _store_section(store, items, room)
        sections.append(section)
        room -= len(section)
        left_out += skipped
    body = text + "\n" + "\n".join(sections)
    if left_out:
        body += (
            f"\n_{plural(left_out, 'change')} not shown to fit GitHub's comment limit: "
            "see the plan file._\n"
        )
    return (body + footer)[:limit]
