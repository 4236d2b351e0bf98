"""Retention: ``policies/retention.yaml`` rules turned into ordinary plans of deletions
(docs/lifecycle.md, "Retention"), on the live scan of :mod:`dsgit.scan`."""

from __future__ import annotations

from dsgit.retention.planner import RetentionRequest, RetentionRun, plan_retention
from dsgit.retention.policy_file import RETENTION_FILE, load_retention, retention_problems
from dsgit.retention.rules import Action, Predicate, RetentionPolicy, RetentionRule

__all__ = [
    "RETENTION_FILE",
    "Action",
    "Predicate",
    "RetentionPolicy",
    "RetentionRequest",
    "RetentionRule",
    "RetentionRun",
    "load_retention",
    "plan_retention",
    "retention_problems",
]
