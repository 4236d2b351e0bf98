"""The verdict of evaluating approvals: per rule, what counts, what does not and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dsgit.policy.model import Approval, ChangeClass

__all__ = ["Counted", "Reason", "Rejected", "RuleVerdict", "Verdict"]


class Reason(StrEnum):
    """Why an approval does not count (stable values, shown in JSON)."""

    NOT_APPROVER = "not-an-approver"
    UNKNOWN_KEY = "key-not-in-policy"
    BAD_SIGNATURE = "bad-signature"
    OTHER_PLAN = "other-plan"
    WRONG_ENVIRONMENT = "wrong-environment"
    WRONG_UNIVERSE = "wrong-universe"
    EXPIRED = "expired"
    BEFORE_PLAN = "before-plan"
    FUTURE = "dated-in-the-future"
    SELF = "self-approval"
    DUPLICATE = "duplicate-person"
    SOURCE = "source-rule"  # the source's own rules (GitHub: stale commit, bot, permission…)
    NOT_IN_RULE = "not-in-rule"  # a valid approval, but not from the people this rule asks for


@dataclass(frozen=True)
class Counted:
    """An approval that counts, and the policy approver it counts for."""

    approval: Approval
    approver: str


@dataclass(frozen=True)
class Rejected:
    """An approval that does not count (for the whole plan, or for one rule)."""

    approval: Approval
    reason: Reason
    detail: str


@dataclass(frozen=True)
class RuleVerdict:
    """One applicable rule: who counted, who did not, and how many are still missing."""

    name: str
    min_approvals: int
    from_: tuple[str, ...]
    classes: tuple[ChangeClass, ...]
    addresses: int  # how many of the plan's changes the rule covers
    counted: tuple[Counted, ...]
    rejected: tuple[Rejected, ...]
    implicit: bool = False

    @property
    def satisfied(self) -> bool:
        return len(self.counted) >= self.min_approvals

    @property
    def missing(self) -> int:
        return max(0, self.min_approvals - len(self.counted))

    def describe_missing(self) -> str:
        """``needs 1 more approval from data-owners``."""
        who = f" from {', '.join(self.from_)}" if self.from_ else ""
        plural = "s" if self.missing != 1 else ""
        return f"needs {self.missing} more approval{plural}{who}"


@dataclass(frozen=True)
class Verdict:
    """Whether a plan's approvals satisfy the policy. ``problems`` refuse the plan outright
    (a policy changed after the plan, a policy that does not load, a source that failed)."""

    plan_digest: str
    environment: str
    policy_digest: str
    rules: tuple[RuleVerdict, ...]
    rejected: tuple[Rejected, ...]
    counted: tuple[Counted, ...]
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def satisfied(self) -> bool:
        return not self.problems and all(rule.satisfied for rule in self.rules)

    @property
    def required(self) -> bool:
        """True when any rule applies (else the plan needs no approval)."""
        return bool(self.rules)

    def unmet(self) -> tuple[str, ...]:
        """One line per reason the plan may not run: problems first, then each unmet rule."""
        lines = list(self.problems)
        lines.extend(
            f"rule {rule.name!r}: {rule.describe_missing()} (has {len(rule.counted)} of "
            f"{rule.min_approvals})"
            for rule in self.rules
            if not rule.satisfied
        )
        return tuple(lines)

    def relied_on(self) -> tuple[Counted, ...]:
        """The approvals some rule counted (what an apply cites in the ledger)."""
        seen: dict[str, Counted] = {}
        for rule in self.rules:
            for counted in rule.counted:
                seen.setdefault(counted.approval.reference, counted)
        # By approver: the same verdict always cites (and the ledger records) in one order.
        return tuple(sorted(seen.values(), key=lambda c: (c.approver, c.approval.reference)))
