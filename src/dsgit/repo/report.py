"""Render validation problems: ``path:line:col: CODE message``, JSON, or GitHub annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence

from dsgit.repo.problems import CODES, Problem, Severity

__all__ = ["render_github", "render_json", "render_text", "summary"]


def _path(prefix: str, problem: Problem) -> str:
    return f"{prefix}/{problem.file}" if prefix else problem.file


def summary(problems: Sequence[Problem], files: int, entries: int) -> str:
    errors = sum(1 for p in problems if p.severity is Severity.ERROR)
    warnings = len(problems) - errors
    file_word = "file" if files == 1 else "files"
    entry_word = "entry" if entries == 1 else "entries"
    scope = f"{files:,} {file_word}, {entries:,} {entry_word}"
    if not problems:
        return f"{scope}: no problems"
    parts = [f"{errors} error{'s' if errors != 1 else ''}"]
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return f"{scope}: {', '.join(parts)}"


def render_text(problems: Sequence[Problem], prefix: str = "") -> str:
    lines = []
    for problem in problems:
        where = _path(prefix, problem)
        if problem.line is not None:
            where += f":{problem.line}"
            if problem.column is not None:
                where += f":{problem.column}"
        level = "" if problem.severity is Severity.ERROR else "warning: "
        lines.append(f"{where}: {problem.code} {level}{problem.message}")
    return "\n".join(lines)


def render_json(problems: Sequence[Problem], files: int, entries: int, prefix: str = "") -> str:
    body = {
        "valid": not any(p.severity is Severity.ERROR for p in problems),
        "files": files,
        "entries": entries,
        "errors": sum(1 for p in problems if p.severity is Severity.ERROR),
        "warnings": sum(1 for p in problems if p.severity is Severity.WARNING),
        "problems": [{**p.to_json(), "file": _path(prefix, p)} for p in problems],
    }
    return json.dumps(body, indent=2, ensure_ascii=False)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(problems: Sequence[Problem], prefix: str = "") -> str:
    """Workflow commands GitHub shows as annotations on the file and line."""
    lines = []
    for problem in problems:
        level = "error" if problem.severity is Severity.ERROR else "warning"
        props = [f"file={_escape_property(_path(prefix, problem))}"]
        if problem.line is not None:
            props.append(f"line={problem.line}")
            if problem.column is not None:
                props.append(f"col={problem.column}")
        props.append(f"title={problem.code}")
        message = f"{problem.message} ({CODES[problem.code]})"
        lines.append(f"::{level} {','.join(props)}::{_escape_data(message)}")
    return "\n".join(lines)
