"""The json rendering of a plan: exactly the plan file (canonical JSON, secrets masked)."""

from __future__ import annotations

from dsgit.plan.io import plan_to_json
from dsgit.plan.model import Plan

__all__ = ["render_json"]


def render_json(plan: Plan) -> str:
    return plan_to_json(plan).decode("utf-8")
