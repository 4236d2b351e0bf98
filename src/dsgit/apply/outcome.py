"""How an apply ends, and the one map from that outcome to the exit code.

The CLI (``dsgit apply``) and the GitHub Action (``dsgit github apply``) both report through
:func:`exit_code`, so the same ending never exits two ways. The error classes in
:mod:`dsgit.errors` carry the same numbers (a test holds them equal).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from dsgit.errors import (
    EXIT_CONFLICT,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_POLICY,
    EXIT_STALE,
    ConflictError,
    DsgitError,
    PartialApply,
    PolicyRefused,
    StalePlan,
)

__all__ = ["EXIT_CODES", "Outcome", "exit_code", "outcome_of_error"]


class Outcome(StrEnum):
    """Every way an apply can end."""

    APPLIED = "applied"  # every change written or already as planned (or nothing to do)
    REFUSED = "refused"  # by policy: approvals missing, dirty plan, blocking diagnostics
    STALE = "stale"  # edited, expired, other environment/universe, declaration moved on
    CONFLICT = "conflict"  # some entries changed since the plan; the rest applied
    PARTIAL = "partial"  # stopped part way; run again to resume
    INTERRUPTED = "interrupted"  # Ctrl-C / SIGTERM; resumable
    ERROR = "error"  # anything else (bad file, remote error before writing)


EXIT_CODES: Mapping[Outcome, int] = MappingProxyType(
    {
        Outcome.APPLIED: EXIT_OK,
        Outcome.ERROR: EXIT_ERROR,
        Outcome.REFUSED: EXIT_POLICY,
        Outcome.STALE: EXIT_STALE,
        Outcome.CONFLICT: EXIT_CONFLICT,
        Outcome.PARTIAL: EXIT_PARTIAL,
        Outcome.INTERRUPTED: EXIT_INTERRUPTED,
    }
)


def exit_code(outcome: Outcome) -> int:
    return EXIT_CODES[outcome]


def outcome_of_error(error: DsgitError) -> Outcome:
    """The outcome an error that stopped an apply stands for."""
    match error:
        case PolicyRefused():
            return Outcome.REFUSED
        case StalePlan():
            return Outcome.STALE
        case ConflictError():
            return Outcome.CONFLICT
        case PartialApply():
            return Outcome.PARTIAL
        case _:
            return Outcome.ERROR
