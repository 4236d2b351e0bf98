"""The approvals policy core (DESIGN.md §5): pure, no I/O.

``evaluate(plan, approvals, policy, context) -> Verdict`` decides whether a plan's approvals
satisfy ``policies/approvals.yaml``; adapters in :mod:`dsgit.approvals` read the files, keys
and GitHub reviews that feed it.
"""

from __future__ import annotations

from dsgit.policy.evaluate import evaluate
from dsgit.policy.model import (
    Approval,
    ApprovalKind,
    Approver,
    ChangeClass,
    EvaluationContext,
    Policy,
    Rule,
)
from dsgit.policy.verdict import Counted, Reason, Rejected, RuleVerdict, Verdict

__all__ = [
    "Approval",
    "ApprovalKind",
    "Approver",
    "ChangeClass",
    "Counted",
    "EvaluationContext",
    "Policy",
    "Reason",
    "Rejected",
    "Rule",
    "RuleVerdict",
    "Verdict",
    "evaluate",
]
