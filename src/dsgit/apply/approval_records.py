"""The approvals an apply relied on, as ledger records (DESIGN.md §5, §7).

One ``approval`` record per approval a rule counted: approver (the policy name), method
(``signature`` or ``github-review``), and ``signature_digest`` — the sha256 of the signed
document, or ``github-review:<id>``. They are appended in the same batch as, and just before,
the run's ``apply`` record, so the hash chain binds them to it.

This is the small adapter the apply-record writer uses until the ledger's apply record cites
approvals itself (an ``approvals=`` field); then :func:`approval_citations` feeds that field.
"""

from __future__ import annotations

from dsgit.ledger.records import ApprovalRecord
from dsgit.plan.model import Plan
from dsgit.policy.verdict import Verdict

__all__ = ["approval_bodies", "approval_citations"]


def approval_bodies(verdict: Verdict | None, plan: Plan) -> tuple[ApprovalRecord, ...]:
    if verdict is None:
        return ()
    return tuple(
        ApprovalRecord(
            plan_digest=plan.digest,
            environment=plan.environment,
            universe_id=plan.universe_id,
            approver=counted.approver,
            method=str(counted.approval.kind),
            signature_digest=counted.approval.reference,
            expires=plan.expires,
        )
        for counted in verdict.relied_on()
    )


def approval_citations(verdict: Verdict | None) -> tuple[str, ...]:
    """``<approver>:<method>:<reference>`` of each approval relied on."""
    if verdict is None:
        return ()
    return tuple(
        f"{c.approver}:{c.approval.kind}:{c.approval.reference}" for c in verdict.relied_on()
    )
