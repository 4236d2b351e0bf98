"""``evaluate(plan, approvals, policy, context) -> Verdict``: the one approvals decision.

``dsgit approvals check``, ``dsgit apply`` and the GitHub Action all call this function, so
what a pull request shows is what apply enforces. It is pure: approvals arrive already read
(signed files, text blocks, GitHub reviews turned into :class:`Approval` values by adapters).

An approval counts when all hold: its approver is in the policy (a signature by the key the
policy lists for that name, and valid); the source found no problem (GitHub's rules); it
names this plan's digest, environment and universe; it was made after the plan, is not in the
future, and is younger than ``max_age``; its approver is not an author of the plan or of its
commits; and it is that person's first valid approval (one person counts once). A rule then
counts the approvals of the people it takes (``from``).

Rules apply by environment, address glob and change class. A protected environment always
needs ``protected_min_approvals`` (default 1) when no rule applies, and a destructive plan in
a protected environment ``destructive_min_approvals`` (default 2) distinct people unless a
rule covering the destructive class says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from fnmatch import fnmatchcase

from dsgit.plan.model import Plan, parse_time
from dsgit.policy.classes import change_classes
from dsgit.policy.model import (
    NO_POLICY_DIGEST,
    Approval,
    ApprovalKind,
    Approver,
    ChangeClass,
    EvaluationContext,
    Policy,
    Rule,
)
from dsgit.policy.signature import signature_valid
from dsgit.policy.verdict import Counted, Reason, Rejected, RuleVerdict, Verdict

__all__ = ["applicable_rules", "evaluate", "format_age", "short_digest"]


def short_digest(digest: str) -> str:
    return digest[:19] + "…" if len(digest) > 19 else digest


def format_age(age: timedelta) -> str:
    """``7d``, ``36h``, ``90m``: the largest whole unit."""
    seconds = int(age.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def applicable_rules(plan: Plan, policy: Policy, protected: bool) -> list[tuple[Rule, int]]:
    """The rules that apply to ``plan`` and how many of its changes each covers."""
    classes = change_classes(plan)
    found: list[tuple[Rule, int]] = []
    for rule in policy.rules:
        if not any(fnmatchcase(plan.environment, pattern) for pattern in rule.environments):
            continue
        wanted = set(rule.classes)
        covered = sum(
            1
            for address, kinds in classes.items()
            if kinds & wanted and any(fnmatchcase(address, glob) for glob in rule.addresses)
        )
        if covered:
            found.append((rule, covered))
    if not protected:
        return found
    written = len(classes)
    if not found:
        found.append(
            (
                Rule(
                    name="protected environment",
                    min_approvals=policy.protected_min_approvals,
                    implicit=True,
                ),
                written,
            )
        )
    destructive = sum(1 for kinds in classes.values() if ChangeClass.DESTRUCTIVE in kinds)
    covers_destructive = any(ChangeClass.DESTRUCTIVE in rule.classes for rule, _ in found)
    if destructive and not covers_destructive:
        found.append(
            (
                Rule(
                    name="destructive change in a protected environment",
                    classes=(ChangeClass.DESTRUCTIVE,),
                    min_approvals=policy.destructive_min_approvals,
                    implicit=True,
                ),
                destructive,
            )
        )
    return found


def _person(approval: Approval, policy: Policy) -> Approver | None:
    match approval.kind:
        case ApprovalKind.SIGNATURE:
            return policy.approver(approval.approver)
        case ApprovalKind.GITHUB_REVIEW:
            return policy.approver_by_github(approval.approver)


def _judge(
    approval: Approval, plan: Plan, policy: Policy, context: EvaluationContext
) -> tuple[Approver | None, Rejected | None]:
    """The approver an approval is from, or why it does not count at all."""

    def no(reason: Reason, detail: str) -> tuple[Approver | None, Rejected]:
        return None, Rejected(approval, reason, detail)

    person = _person(approval, policy)
    if person is None:
        what = "GitHub user" if approval.kind is ApprovalKind.GITHUB_REVIEW else "approver"
        return no(
            Reason.NOT_APPROVER,
            f"{what} {approval.approver!r} is not an approver in {policy.source}",
        )
    if approval.kind is ApprovalKind.SIGNATURE:
        if person.key is None:
            return no(Reason.UNKNOWN_KEY, f"{person.name} has no key in {policy.source}")
        if approval.key != person.key:
            owner = policy.approver_by_key(approval.key or "")
            whose = f"{owner.name}'s key" if owner is not None else "a key not in the policy"
            return no(Reason.UNKNOWN_KEY, f"signed with {whose}, not {person.name}'s key")
        if not signature_valid(approval, person.key):
            return no(
                Reason.BAD_SIGNATURE,
                f"the signature does not verify with {person.name}'s key (forged or altered)",
            )
    if approval.problems:
        return no(Reason.SOURCE, "; ".join(approval.problems))
    if approval.digest != plan.digest:
        return no(
            Reason.OTHER_PLAN,
            f"approves another plan ({short_digest(approval.digest)}), not this one "
            f"({short_digest(plan.digest)})",
        )
    if approval.environment != plan.environment:
        return no(
            Reason.WRONG_ENVIRONMENT,
            f"approves environment {approval.environment!r}, not {plan.environment!r}",
        )
    if approval.universe_id != plan.universe_id:
        return no(
            Reason.WRONG_UNIVERSE,
            f"approves universe {approval.universe_id}, not {plan.universe_id}",
        )
    created = parse_time(plan.created)
    if approval.time < created - context.clock_skew:
        return no(Reason.BEFORE_PLAN, f"made {approval.time:%Y-%m-%d %H:%M} before the plan")
    if approval.time > context.now + context.clock_skew:
        return no(Reason.FUTURE, f"dated {approval.time:%Y-%m-%d %H:%M}, in the future")
    if context.now - approval.time > policy.max_age:
        return no(
            Reason.EXPIRED,
            f"made {approval.time:%Y-%m-%d %H:%M}, older than max_age {format_age(policy.max_age)}",
        )
    if not policy.allow_self_approval and person.identities() & context.authors:
        return no(
            Reason.SELF,
            f"{person.name} is an author of the plan or of its commits (no self-approval)",
        )
    return person, None


def _policy_problems(
    plan: Plan, policy: Policy, context: EvaluationContext, required: bool
) -> list[str]:
    recorded = context.plan_policy_digest
    if recorded is None:
        if policy.digest != NO_POLICY_DIGEST and required:
            return [
                f"the plan does not record the approvals policy it was made under; make a new "
                f"plan (current {policy.source}: {short_digest(policy.digest)})"
            ]
        return []
    if recorded != policy.digest:
        if recorded == NO_POLICY_DIGEST:
            then = "made when there was no approvals policy"
        else:
            then = f"made under {short_digest(recorded)}"
        now = short_digest(policy.digest) if policy.digest != NO_POLICY_DIGEST else "removed"
        return [
            f"{policy.source} changed since the plan was made (plan {then}, now {now}); "
            "make a new plan and have it approved"
        ]
    return []


def evaluate(
    plan: Plan,
    approvals: Iterable[Approval],
    policy: Policy,
    context: EvaluationContext,
) -> Verdict:
    """Judge every approval and every applicable rule; never raises."""
    rules = applicable_rules(plan, policy, context.protected)
    problems = _policy_problems(plan, policy, context, required=bool(rules))
    rejected: list[Rejected] = []
    valid: list[tuple[Approval, Approver]] = []
    for approval in approvals:
        person, refusal = _judge(approval, plan, policy, context)
        if refusal is not None:
            rejected.append(refusal)
        else:
            assert person is not None
            valid.append((approval, person))
    counted: dict[str, Counted] = {}
    for approval, person in sorted(valid, key=lambda item: (item[0].time, item[0].reference)):
        first = counted.get(person.name)
        if first is None:
            counted[person.name] = Counted(approval, person.name)
        else:
            rejected.append(
                Rejected(
                    approval,
                    Reason.DUPLICATE,
                    f"{person.name} already counts ({first.approval.reference}); one person "
                    "counts once",
                )
            )
    verdicts: list[RuleVerdict] = []
    for rule, covered in rules:
        eligible = policy.members(rule.from_) if rule.from_ else None
        take: list[Counted] = []
        leave: list[Rejected] = []
        for item in counted.values():
            if eligible is None or item.approver in eligible:
                take.append(item)
            else:
                leave.append(
                    Rejected(
                        item.approval,
                        Reason.NOT_IN_RULE,
                        f"{item.approver} is not in {', '.join(rule.from_)}",
                    )
                )
        verdicts.append(
            RuleVerdict(
                name=rule.name,
                min_approvals=rule.min_approvals,
                from_=rule.from_,
                classes=rule.classes,
                addresses=covered,
                counted=tuple(take),
                rejected=tuple(leave),
                implicit=rule.implicit,
            )
        )
    notes = tuple(
        f"{error}: no approval from that source counts (fail closed)"
        for error in context.source_errors
    )
    return Verdict(
        plan_digest=plan.digest,
        environment=plan.environment,
        policy_digest=policy.digest,
        rules=tuple(verdicts),
        rejected=tuple(rejected),
        counted=tuple(counted.values()),
        problems=tuple(problems),
        notes=notes,
    )
