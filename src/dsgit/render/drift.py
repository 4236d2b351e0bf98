"""Rendering a drift report: text, markdown (for a scheduled issue) or json."""

from __future__ import annotations

import json

from dsgit.plan.io import plan_to_dict
from dsgit.plan.usecase import DriftReport
from dsgit.render.markdown import diff_fence, escape_cell
from dsgit.render.values import diff_lines

__all__ = ["render_drift"]

_TITLES = {
    "changed": "changed live",
    "missing": "missing live",
    "unmanaged": "live without a file (pruned store)",
}


def _lines(report: DriftReport) -> list[str]:
    lines = []
    for item in report.items:
        lines.append(f"{item.change.address}: {_TITLES[item.kind]}")
        lines.extend(f"    {text}" for line in item.change.diff for text in diff_lines(line))
    return lines


def render_drift(report: DriftReport, output_format: str) -> str:
    """The drift report as ``text``, ``markdown`` or ``json``."""
    plan = report.plan
    if output_format == "json":
        body = {
            "environment": plan.environment,
            "universe_id": plan.universe_id,
            "drift": [
                {"kind": item.kind, "address": str(item.change.address)} for item in report.items
            ],
            "errors": [
                {"code": d.code, "message": d.message, "address": d.address} for d in report.errors
            ],
            "plan": plan_to_dict(plan),
        }
        return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    errors = [f"{d.code} ERROR {d.message}" for d in report.errors]
    if output_format == "markdown":
        out = [
            f"### dsgit drift: `{escape_cell(plan.environment)}` (universe {plan.universe_id})",
            "",
        ]
        if errors:
            out += [f"- :x: {escape_cell(text)}" for text in errors] + [""]
        if report.items:
            out.append(f"**{len(report.items)} entries differ from git.**")
            out += ["", diff_fence("\n".join(_lines(report)))]
        elif not errors:
            out.append("**No drift.**")
        return "\n".join(out)[:65_536] + "\n"
    out = [f"drift in environment {plan.environment} (universe {plan.universe_id})", *errors]
    out += _lines(report)
    if report.items:
        out.append(f"{len(report.items)} entries differ from git.")
    elif not errors:
        out.append("No drift: live data matches git.")
    return "\n".join(out) + "\n"
