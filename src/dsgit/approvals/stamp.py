"""What a plan records for approvals (covered by its digest, so it cannot be edited):
``context.approvals_policy``, the digest of ``policies/approvals.yaml`` when the plan was made
(a policy changed afterwards refuses the plan), and ``context.authors``, who made it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dsgit.approvals.authors import (
    decode_authors,
    encode_authors,
    identities_of_commit,
    local_identities,
)
from dsgit.approvals.policy_file import load_policy
from dsgit.plan.io import with_digest
from dsgit.plan.model import Plan

__all__ = ["AUTHORS_KEY", "POLICY_KEY", "plan_authors", "plan_policy_digest", "stamp_plan"]

POLICY_KEY = "approvals_policy"
AUTHORS_KEY = "authors"


def stamp_plan(plan: Plan, root: Path) -> Plan:
    """``plan`` with the policy digest and its authors recorded, digest recomputed.

    Every plan-making command calls this before saving; a plan stamped already keeps its
    stamp. Raises ``ConfigError`` when the policy file is broken (better now than at apply).
    """
    if POLICY_KEY in plan.context:
        return plan
    policy = load_policy(root)
    authors = local_identities(root) | identities_of_commit(root, plan.source.commit)
    context = {**plan.context, POLICY_KEY: policy.digest, AUTHORS_KEY: encode_authors(authors)}
    return with_digest(replace(plan, context=context))


def plan_policy_digest(plan: Plan) -> str | None:
    return plan.context.get(POLICY_KEY)


def plan_authors(plan: Plan) -> frozenset[str]:
    return decode_authors(plan.context.get(AUTHORS_KEY))
