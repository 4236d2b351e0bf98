"""Rendering a drift report: text, markdown (for a scheduled issue) or json."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Literal

from dsgit.plan.io import plan_to_dict
from dsgit.plan.model import DiffLine
from dsgit.planning.usecase import DriftReport
from dsgit.render.markdown import diff_fence, escape_cell
from dsgit.render.values import diff_lines

__all__ = ["render_drift"]

_TITLES = {
    "changed": "changed live",
    "missing": "missing live",
    "unmanaged": "live without a file (pruned store)",
}


_FLIP: dict[str, Literal["add", "remove", "replace"]] = {
    "add": "remove",
    "remove": "add",
    "replace": "replace",
}


def _git_to_live(line: DiffLine) -> DiffLine:
    """A plan's diff goes live -> git (what apply would do); drift reads git -> live (what
    happened live)."""
    return replace(line, op=_FLIP[line.op], old=line.new, new=line.old)


def _lines(report: DriftReport) -> list[str]:
    lines = []
    for item in report.items:
        lines.append(f"{item.change.address}: {_TITLES[item.kind]}")
        for line in item.change.diff:
            lines.extend(f"    {text}" for text in diff_lines(_git_to_live(line)))
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
            out.append(f"**{len(report.items)} entries differ from git** (diffs: git -> live).")
            out += ["", diff_fence("\n".join(_lines(report)))]
        elif not errors:
            out.append("**No drift.**")
        return "\n".join(out)[:65_536] + "\n"
    out = [
        f"drift in environment {plan.environment} (universe {plan.universe_id}); "
        "diffs read git -> live",
        *errors,
    ]
    out += _lines(report)
    if report.items:
        out.append(f"{len(report.items)} entries differ from git.")
    elif not errors:
        out.append("No drift: live data matches git.")
    return "\n".join(out) + "\n"
