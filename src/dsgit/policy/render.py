"""A verdict as text (terminal), markdown (pull-request comments) or JSON (scripts)."""

from __future__ import annotations

import json
from typing import Any

from dsgit.plan.model import format_time
from dsgit.policy.evaluate import short_digest
from dsgit.policy.model import Approval
from dsgit.policy.verdict import Rejected, RuleVerdict, Verdict

__all__ = ["render_verdict", "verdict_to_json"]


def _who(approval: Approval) -> str:
    return f"{approval.approver} ({approval.kind}, {format_time(approval.time)})"


def _rule_head(rule: RuleVerdict) -> str:
    state = "satisfied" if rule.satisfied else rule.describe_missing()
    who = f" from {', '.join(rule.from_)}" if rule.from_ else ""
    kind = " (built in)" if rule.implicit else ""
    return (
        f"{rule.name}{kind}: {len(rule.counted)} of {rule.min_approvals}{who}, "
        f"{rule.addresses} change(s): {state}"
    )


def _text(verdict: Verdict) -> str:
    lines = [
        f"Approvals of plan {short_digest(verdict.plan_digest)} for {verdict.environment!r}: "
        + ("SATISFIED" if verdict.satisfied else "NOT SATISFIED")
    ]
    for problem in verdict.problems:
        lines.append(f"  refused: {problem}")
    if not verdict.rules:
        lines.append("  no rule applies: this plan needs no approval")
    for rule in verdict.rules:
        mark = "ok" if rule.satisfied else "missing"
        lines.append(f"  [{mark}] {_rule_head(rule)}")
        for counted in rule.counted:
            lines.append(f"      counts: {_who(counted.approval)}")
        for rejected in rule.rejected:
            lines.append(f"      not for this rule: {_who(rejected.approval)}: {rejected.detail}")
    for rejected in verdict.rejected:
        lines.append(f"  does not count: {_who(rejected.approval)}: {rejected.detail}")
    for note in verdict.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(verdict: Verdict) -> str:
    state = "✅ satisfied" if verdict.satisfied else "❌ not satisfied"
    lines = [f"**Approvals** for `{verdict.environment}`: {state}", ""]
    for problem in verdict.problems:
        lines.append(f"> **Refused:** {_cell(problem)}")
    if verdict.problems:
        lines.append("")
    if verdict.rules:
        lines += ["| rule | needs | approved by | missing |", "| --- | --- | --- | --- |"]
        for rule in verdict.rules:
            who = f" from {', '.join(rule.from_)}" if rule.from_ else ""
            approved = ", ".join(c.approver for c in rule.counted) or "—"
            missing = "—" if rule.satisfied else str(rule.missing)
            lines.append(
                f"| {_cell(rule.name)} | {rule.min_approvals}{_cell(who)} | "
                f"{_cell(approved)} | {missing} |"
            )
    else:
        lines.append("No rule applies: this plan needs no approval.")
    rejected: list[Rejected] = list(verdict.rejected)
    for rule in verdict.rules:
        rejected.extend(rule.rejected)
    if rejected:
        lines += ["", "<details><summary>Approvals that do not count</summary>", ""]
        lines += [f"- {_cell(_who(r.approval))}: {_cell(r.detail)}" for r in rejected]
        lines += ["", "</details>"]
    for note in verdict.notes:
        lines += ["", f"_Note: {_cell(note)}_"]
    lines += ["", f"Plan digest: `{verdict.plan_digest}`"]
    return "\n".join(lines) + "\n"


def _approval_json(approval: Approval) -> dict[str, Any]:
    return {
        "approver": approval.approver,
        "kind": str(approval.kind),
        "time": format_time(approval.time),
        "reference": approval.reference,
        "origin": approval.origin,
        "digest": approval.digest,
        "environment": approval.environment,
        "universe_id": approval.universe_id,
    }


def _rejected_json(rejected: Rejected) -> dict[str, Any]:
    return {
        **_approval_json(rejected.approval),
        "reason": str(rejected.reason),
        "detail": rejected.detail,
    }


def verdict_to_json(verdict: Verdict) -> dict[str, Any]:
    return {
        "plan_digest": verdict.plan_digest,
        "environment": verdict.environment,
        "policy_digest": verdict.policy_digest,
        "satisfied": verdict.satisfied,
        "problems": list(verdict.problems),
        "unmet": list(verdict.unmet()),
        "rules": [
            {
                "name": rule.name,
                "implicit": rule.implicit,
                "min_approvals": rule.min_approvals,
                "from": list(rule.from_),
                "classes": [str(c) for c in rule.classes],
                "changes": rule.addresses,
                "satisfied": rule.satisfied,
                "missing": rule.missing,
                "counted": [
                    {**_approval_json(c.approval), "policy_approver": c.approver}
                    for c in rule.counted
                ],
                "not_counted": [_rejected_json(r) for r in rule.rejected],
            }
            for rule in verdict.rules
        ],
        "not_counted": [_rejected_json(r) for r in verdict.rejected],
        "notes": list(verdict.notes),
    }


def render_verdict(verdict: Verdict, output_format: str) -> str:
    """``text``, ``markdown`` or ``json``."""
    if output_format == "json":
        return json.dumps(verdict_to_json(verdict), indent=2, sort_keys=True) + "\n"
    if output_format == "markdown":
        return _markdown(verdict)
    return _text(verdict)
