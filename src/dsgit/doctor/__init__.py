"""``dsgit doctor``: is an environment ready? Key, scopes per command, one real read, budget.

User guide: docs/doctor.md. Entry point: :func:`diagnose`.
"""

from __future__ import annotations

from dsgit.doctor.needs import COMMAND_OPERATIONS, command_scopes, operation_scopes
from dsgit.doctor.report import Check, CommandScopes, DoctorReport, ScopeState, Status
from dsgit.doctor.run import diagnose

__all__ = [
    "COMMAND_OPERATIONS",
    "Check",
    "CommandScopes",
    "DoctorReport",
    "ScopeState",
    "Status",
    "command_scopes",
    "diagnose",
    "operation_scopes",
]
