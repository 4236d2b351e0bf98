"""The body of a plan's sticky comment: summary, diagnostics, diff, digest, head, approvals.

Bodies stay under :data:`COMMENT_BUDGET` characters (GitHub refuses 65,536): the diff, kept
per store inside its collapsible ``<details>`` block, is what gets cut, with a note saying how
many changes are not shown; everything else (summary, digest, head commit, approvals) is kept.

A segmented plan (:func:`render_segmented_comment`) can hold millions of changes, so its comment
is a summary whatever its size: counts per store and per approval class, the diagnostics
grouped by code, the first changes with their diffs as room allows, and how to see the rest.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from dsgit.plan.model import Action, Change, Plan, Severity
from dsgit.planfile import SegmentedPlan
from dsgit.policy.classes import change_classes
from dsgit.policy.model import ChangeClass
from dsgit.policy.render import render_verdict
from dsgit.policy.verdict import Verdict
from dsgit.render.markdown import attention_parts, diff_fence, escape_cell, render_markdown
from dsgit.render.values import change_headline, diff_lines, summary_line
from dsgit.render.words import plural

__all__ = [
    "COMMENT_BUDGET",
    "CommentLinks",
    "plan_comment",
    "render_plan_comment",
    "render_segmented_comment",
    "render_validation_only",
]

COMMENT_BUDGET = 60_000
FIRST_CHANGES = 50  # the most changes a segmented plan's comment shows with their diffs
_MAX_STORE_ROWS = 50
_MAX_CODE_ROWS = 30
_ACTIONS = (Action.CREATE, Action.UPDATE, Action.INCREMENT, Action.DELETE)


@dataclass(frozen=True)
class CommentLinks:
    """Where the plan is: the head commit, the run that made it and its artifact."""

    head_sha: str
    run_url: str | None = None
    run_id: int | None = None
    artifact: str | None = None
    member: str = "plan.json"  # the plan's path inside the artifact


def _approvals(verdict: Verdict | None) -> str:
    if verdict is None:
        return "**Approvals:** not checked.\n"
    return render_verdict(verdict, "markdown")


def render_plan_comment(
    plan: Plan,
    *,
    head_sha: str,
    verdict: Verdict | None,
    run_url: str | None = None,
    artifact: str | None = None,
    next_step: str | None = None,
    budget: int = COMMENT_BUDGET,
) -> str:
    """The comment for ``plan`` (made at ``head_sha``), at most ``budget`` characters;
    ``next_step`` replaces the closing line (what happens to the plan next)."""
    tail = [
        "",
        _approvals(verdict),
        f"Head commit: `{head_sha}`"
        + (f" · plan artifact `{escape_cell(artifact)}`" if artifact else "")
        + (f" · [workflow run]({run_url})" if run_url else ""),
        "",
        next_step
        or (
            f"Apply: merge this pull request; the Action applies exactly plan `{plan.digest}` "
            "once its approvals pass."
        ),
    ]
    footer = "\n".join(tail) + "\n"
    room = budget - len(footer) - 2
    body = render_markdown(plan, limit=room)
    return body.rstrip("\n") + "\n" + footer


def _store_table(review: Plan) -> str:
    """Counts per store: each action, and the changes of the destructive and erasure classes."""
    classes = change_classes(review)
    rows: dict[tuple[str, str], Counter[str]] = {}
    for change in review.changes:
        if change.is_noop:
            continue
        counts = rows.setdefault((change.address.kind, change.address.store), Counter())
        counts[change.action.value] += 1
        found = classes.get(str(change.address), frozenset())
        counts["destructive"] += ChangeClass.DESTRUCTIVE in found
        counts["erasure"] += ChangeClass.ERASURE in found
    if not rows:
        return ""
    names = [action.value for action in _ACTIONS]
    lines = [
        "| store | kind | " + " | ".join(names) + " | destructive | erasure |",
        "|---|---|" + "---:|" * (len(names) + 2),
    ]
    ordered = sorted(rows.items(), key=lambda item: -sum(item[1][n] for n in names))
    for (kind, store), counts in ordered[:_MAX_STORE_ROWS]:
        cells = [str(counts[name]) for name in (*names, "destructive", "erasure")]
        lines.append(f"| `{escape_cell(store)}` | {kind} | " + " | ".join(cells) + " |")
    if len(ordered) > _MAX_STORE_ROWS:
        lines.append(f"\n… and {plural(len(ordered) - _MAX_STORE_ROWS, 'more store')}")
    return "\n".join(lines) + "\n"


def _code_table(review: Plan) -> str:
    """Diagnostics that need attention, one row per code (a large plan repeats them per entry)."""
    by_code: dict[tuple[str, Severity], list[str]] = {}
    for diag in review.all_diagnostics:
        if diag.severity is Severity.INFO:
            continue
        shown = f"{diag.address}: {diag.message}" if diag.address else diag.message
        if diag.suppressed_reason is not None:
            shown += f" (suppressed: {diag.suppressed_reason})"
        by_code.setdefault((diag.code, diag.severity), []).append(shown)
    if not by_code:
        return ""
    lines = ["| code | severity | count | first |", "|---|---|---:|---|"]
    for (code, level), messages in sorted(by_code.items())[:_MAX_CODE_ROWS]:
        first = escape_cell(messages[0][:300])
        lines.append(f"| `{code}` | {level.value} | {len(messages)} | {first} |")
    if len(by_code) > _MAX_CODE_ROWS:
        lines.append(f"\n… and {plural(len(by_code) - _MAX_CODE_ROWS, 'more code')}")
    return "\n".join(lines) + "\n"


def _change_text(change: Change) -> str:
    lines = [change_headline(change)]
    for line in change.diff:
        lines.extend(f"{text[0]}     {text[2:]}" for text in diff_lines(line, inline_replace=False))
    return "\n".join(lines)


def _first_changes(changes: tuple[Change, ...], room: int) -> tuple[str, int]:
    """The diff block of as many of ``changes`` as fit ``room`` characters; how many fit."""
    blocks: list[str] = []
    used = 40
    for change in changes:
        block = _change_text(change)
        if used + len(block) + 1 > room:
            break
        blocks.append(block)
        used += len(block) + 1
    if not blocks:
        return "", 0
    return diff_fence("\n".join(blocks)) + "\n", len(blocks)


def _how_to_see(links: CommentLinks, shown: int) -> str:
    download = (
        f"`gh run download {links.run_id} -n {links.artifact} -D plan`"
        if links.run_id is not None and links.artifact
        else "download the plan artifact into `plan/`"
    )
    page = shown // FIRST_CHANGES + 1 if shown else 1
    return (
        f"To see them: {download}, then `dsgit show plan/{links.member} --page {page}` "
        f"({FIRST_CHANGES} changes a page; `--format markdown` for this layout)."
    )


def render_segmented_comment(
    plan: SegmentedPlan,
    review: Plan,
    *,
    links: CommentLinks,
    verdict: Verdict | None,
    next_step: str | None = None,
    budget: int = COMMENT_BUDGET,
) -> str:
    """The comment of a segmented plan, at most ``budget`` characters whatever its size.

    ``review`` is the plan as approvals read it (:meth:`SegmentedPlan.review`): every change's
    address, action and diagnostics, which the counts and classes come from; the first
    changes are read from the segments with their diffs."""
    manifest = plan.manifest
    header = manifest.header
    total = manifest.total_changes
    parts = [
        f"### dsgit {header.kind}: `{escape_cell(header.environment)}` (universe "
        f"{header.universe_id}) · segmented plan\n",
        f"**Plan:** {summary_line(header)} · {plural(total, 'change')} in "
        f"{plural(len(manifest.segments), 'segment')}.\n",
    ]
    parts.extend(attention_parts(review))  # from every change, not only those shown
    parts.extend(part for part in (_store_table(review), _code_table(review)) if part)
    source = header.source.commit[:12] if header.source.commit else "working tree"
    footer = "\n".join(
        [
            "",
            f"Plan digest: `{manifest.digest}` (the manifest: it covers every segment) · change "
            f"set `{manifest.change_set_digest}` · source `{source}`"
            f"{' (dirty)' if header.source.dirty else ''} · expires {header.expires}",
            "",
            _approvals(verdict),
            f"Head commit: `{links.head_sha}`"
            + (f" · plan artifact `{escape_cell(links.artifact)}`" if links.artifact else "")
            + (f" · [workflow run]({links.run_url})" if links.run_url else ""),
            "",
            next_step
            or (
                f"Apply: merge this pull request; the Action applies exactly plan "
                f"`{manifest.digest}` once its approvals pass."
            ),
        ]
    )
    text = "\n".join(parts)
    reserve = len(footer) + 600  # the "and K more" line and the block's own lines
    if len(text) + reserve > budget:
        text = text[: max(0, budget - reserve - 80)] + "\n\n… cut to fit GitHub's comment limit\n"
    first = plan.changes_at(0, FIRST_CHANGES)
    block, shown = _first_changes(first, budget - len(text) - reserve)
    if shown:
        text += f"\n**The first {plural(shown, 'change')}:**\n\n{block}"
    if total > shown:
        text += f"\n… and {plural(total - shown, 'more change')}. {_how_to_see(links, shown)}\n"
    return (text + footer + "\n")[:budget]


def plan_comment(
    plan: Plan | SegmentedPlan,
    review: Plan,
    links: CommentLinks,
    verdict: Verdict | None,
    *,
    next_step: str | None = None,
) -> str:
    """The sticky comment of a plan: in full, or a segmented plan's summary (``review``: the
    plan as approvals read it, :func:`dsgit.github.steps.review_of`)."""
    if isinstance(plan, SegmentedPlan):
        return render_segmented_comment(
            plan, review, links=links, verdict=verdict, next_step=next_step
        )
    return render_plan_comment(
        plan,
        head_sha=links.head_sha,
        verdict=verdict,
        run_url=links.run_url,
        artifact=links.artifact,
        next_step=next_step,
    )


def render_validation_only(env: str, reason: str) -> str:
    """What a pull request from a fork, or with validation errors, gets instead of a plan."""
    return f"### dsgit: `{escape_cell(env)}` not planned\n\n{escape_cell(reason)}\n"
