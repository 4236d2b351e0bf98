"""Diagnostics only undo plans emit (DSP040-DSP049; docs/undo.md lists them).

They follow the planner's catalogue (:mod:`dsgit.plan.codes`): stable codes, one severity each,
a suggested fix. Planning's own codes (DSP001 entry delete, DSP003 mass delete, DSP005 session
lock...) apply to undo plans unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsgit.plan.model import Diagnostic, Severity

__all__ = ["UNDO_CODES", "UndoCode", "undo_diagnostic"]


@dataclass(frozen=True)
class UndoCode:
    """One undo diagnostic kind."""

    code: str
    severity: Severity
    title: str
    fix: str | None


_CODES = (
    UndoCode(
        "DSP040",
        Severity.BLOCKING,
        "changed since the apply being reverted",
        "keep the later value with `--exclude ADDRESS`, or overwrite it on purpose with "
        "`--overwrite-changed REASON`",
    ),
    UndoCode(
        "DSP041",
        Severity.ERROR,
        "no pre-image for a change the apply wrote",
        "restore this entry with `dsgit restore --at TIME --target ADDRESS` instead",
    ),
    UndoCode(
        "DSP042",
        Severity.WARNING,
        "restored value fails the current schema",
        "check that the game reads the old shape, or fix the value after the undo",
    ),
    UndoCode(
        "DSP043",
        Severity.INFO,
        "increment reverted as an opposite increment",
        None,
    ),
    UndoCode(
        "DSP044",
        Severity.INFO,
        "ordered data stores cannot be restored to a time",
        "ordered data stores keep no revisions; use `dsgit revert APPLY` for their changes",
    ),
    UndoCode(
        "DSP045",
        Severity.INFO,
        "entries declared now but not at the rollback commit are left live",
        "delete them with `dsgit revert APPLY` (the apply that created them), or prune",
    ),
)

UNDO_CODES: dict[str, UndoCode] = {code.code: code for code in _CODES}


def undo_diagnostic(
    code: str,
    message: str,
    *,
    address: str | None = None,
    count: int | None = None,
    store: str | None = None,
    suppressed_reason: str | None = None,
) -> Diagnostic:
    """A diagnostic of undo catalogue ``code``, with its severity and fix."""
    entry = UNDO_CODES[code]
    return Diagnostic(
        code=code,
        severity=entry.severity,
        message=message,
        fix=entry.fix,
        address=address,
        count=count,
        store=store,
        suppressed_reason=suppressed_reason,
    )
