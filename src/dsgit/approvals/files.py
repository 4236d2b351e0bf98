"""Signed approvals on disk: ``PLAN.approvals/<approver>.json`` beside a plan, or any file or
folder named with ``--approvals`` (JSON documents, or text holding approval blocks)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dsgit.approvals.document import approval_from_json, approval_json_text, approvals_in_text
from dsgit.errors import ConfigError, Location
from dsgit.policy.model import Approval

__all__ = ["FoundApprovals", "approvals_dir", "read_approvals", "write_approval"]

_MAX_FILE = 256 * 1024
_MAX_FILES = 500


@dataclass(frozen=True)
class FoundApprovals:
    """Approvals read from files, and the files that held none (said in the verdict)."""

    approvals: tuple[Approval, ...] = ()
    problems: tuple[str, ...] = ()


def approvals_dir(plan_file: Path) -> Path:
    """``PLAN.approvals/``: where ``dsgit approve`` writes and apply looks first."""
    return plan_file.with_name(plan_file.name + ".approvals")


def write_approval(path: Path, approval: Approval) -> None:
    """Write atomically (a reader never sees half a document)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".approval-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(approval_json_text(approval))
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(
            f"cannot write the approval: {exc.strerror}", Location(str(path))
        ) from None


def _read_file(path: Path) -> tuple[list[Approval], list[str]]:
    shown = str(path)
    try:
        if path.stat().st_size > _MAX_FILE:
            return [], [f"{shown}: larger than {_MAX_FILE // 1024} KiB, not read"]
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        return [], [f"{shown}: cannot be read ({reason})"]
    if text.lstrip().startswith("{"):
        try:
            return [approval_from_json(json.loads(text), shown)], []
        except json.JSONDecodeError as exc:
            return [], [f"{shown}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg})"]
        except ConfigError as exc:
            return [], [f"not an approval: {exc}"]
    found, problems = approvals_in_text(text, shown)
    if not found and not problems:
        problems.append(f"{shown}: holds no approval")
    return found, problems


def read_approvals(paths: list[Path]) -> FoundApprovals:
    """Every approval in ``paths`` (files, or folders of ``*.json`` / ``*.txt`` / ``*.md``).

    A missing folder holds nothing; a missing file named explicitly is an error.
    """
    approvals: list[Approval] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            files = sorted(
                p for p in path.iterdir() if p.suffix in (".json", ".txt", ".md") and p.is_file()
            )
            for file in files[:_MAX_FILES]:
                found, trouble = _read_file(file)
                approvals.extend(found)
                problems.extend(trouble)
        elif path.is_file():
            found, trouble = _read_file(path)
            approvals.extend(found)
            problems.extend(trouble)
        elif not path.name.endswith(".approvals"):
            raise ConfigError("no such approvals file or folder", Location(str(path)))
    return FoundApprovals(tuple(approvals), tuple(problems))
