"""Validation problems as annotations, only on the lines a pull request changed.

GitHub shows at most 10 annotations of each kind per step; the rest would vanish, so the first
:data:`MAX_ANNOTATIONS` become workflow commands and every problem (shown or not) is listed in
the job summary. A problem on a line the pull request did not touch is not annotated: it is
old news, reported in the summary only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from dsgit.repo.problems import Problem, Severity
from dsgit.repo.report import render_github

__all__ = ["MAX_ANNOTATIONS", "Annotated", "annotate", "changed_lines"]

MAX_ANNOTATIONS = 10
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def changed_lines(patches: Mapping[str, str | None]) -> dict[str, set[int] | None]:
    """Lines added or changed, per file, from unified diffs (GitHub's ``patch`` of each file).

    None for a file without a patch (binary or too large for GitHub to show): every line of it
    counts as changed, since the pull request may have touched any.
    """
    found: dict[str, set[int] | None] = {}
    for path, patch in patches.items():
        if patch is None:
            found[path] = None
            continue
        lines: set[int] = set()
        number = 0
        for text in patch.splitlines():
            hunk = _HUNK.match(text)
            if hunk:
                number = int(hunk.group(1))
                continue
            if text.startswith("+"):
                lines.add(number)
                number += 1
            elif text.startswith("-") or text.startswith("\\"):
                continue
            else:
                number += 1
        found[path] = lines
    return found


@dataclass(frozen=True)
class Annotated:
    """Workflow commands to print, and the summary section listing every problem."""

    commands: str
    summary: str
    on_changed_lines: int
    shown: int


def _on_changed(problem: Problem, changed: Mapping[str, set[int] | None], prefix: str) -> bool:
    path = f"{prefix}/{problem.file}" if prefix else problem.file
    if path not in changed:
        return False
    lines = changed[path]
    if lines is None or problem.line is None:
        return True  # a whole-file problem on a changed file
    return problem.line in lines


def annotate(
    problems: Sequence[Problem], changed: Mapping[str, set[int] | None], prefix: str = ""
) -> Annotated:
    """``prefix`` is the repository root's path inside the git repository ('' at the top)."""
    relevant = [p for p in problems if _on_changed(p, changed, prefix)]
    ordered = sorted(
        relevant, key=lambda p: (p.severity is not Severity.ERROR, p.file, p.line or 0)
    )
    shown = ordered[:MAX_ANNOTATIONS]
    commands = render_github(shown, prefix) if shown else ""
    return Annotated(
        commands, _summary(problems, relevant, shown, prefix), len(relevant), len(shown)
    )


def _summary(
    problems: Sequence[Problem], relevant: Iterable[Problem], shown: Sequence[Problem], prefix: str
) -> str:
    if not problems:
        return "### dsgit validate\n\n:white_check_mark: No problems.\n"
    touched = set(map(id, relevant))
    annotated = set(map(id, shown))
    errors = sum(1 for p in problems if p.severity is Severity.ERROR)
    lines = [
        "### dsgit validate",
        "",
        f"{len(problems)} problem(s), {errors} error(s); {len(touched)} on lines this pull "
        f"request changed, {len(annotated)} shown as annotations (GitHub shows "
        f"{MAX_ANNOTATIONS} per step).",
        "",
        "| | where | code | message | on a changed line |",
        "|---|---|---|---|---|",
    ]
    for problem in problems:
        path = f"{prefix}/{problem.file}" if prefix else problem.file
        where = f"{path}:{problem.line}" if problem.line else path
        icon = ":x:" if problem.severity is Severity.ERROR else ":warning:"
        mark = (
            "annotated" if id(problem) in annotated else ("yes" if id(problem) in touched else "")
        )
        message = problem.message.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {icon} | `{where}` | `{problem.code}` | {message} | {mark} |")
    return "\n".join(lines) + "\n"
