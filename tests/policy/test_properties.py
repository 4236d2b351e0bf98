"""Properties of evaluate() over random policies, plans and approval sets (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from approval_builders import CREATED, NOW, Person, change, plan, policy_of, review
from dsgit.plan.model import Action, Plan
from dsgit.policy import Approval, EvaluationContext, Policy, Verdict, evaluate
from dsgit.policy.model import ApprovalKind
from dsgit.policy.signature import signature_valid

POOL = [
    Person(name, f"{name}-gh", seed)
    for seed, name in enumerate(["alice", "bob", "carol", "dave", "erin", "frank"], start=11)
]
OUTSIDER = Person("mallory", "mallory-gh", 99)
ADDRESSES = ["Shop/Sword", "Shop/Shield", "Bans/1", "Flags/beta"]
ENVIRONMENTS = ["production", "staging"]


@st.composite
def policies(draw: st.DrawFn) -> tuple[Policy, list[Person]]:
    people = draw(
        st.lists(st.sampled_from(POOL), min_size=1, max_size=6, unique_by=lambda p: p.name)
    )
    names = [p.name for p in people]
    groups = {"owners": draw(st.lists(st.sampled_from(names), min_size=1, unique=True))}
    rules = []
    for index in range(draw(st.integers(0, 3))):
        sources = draw(st.sampled_from([[], ["owners"], [names[0]]]))
        pool = (
            set(groups["owners"])
            if sources == ["owners"]
            else ({names[0]} if sources else set(names))
        )
        rules.append(
            {
                "name": f"rule{index}",
                "environments": draw(st.sampled_from([["*"], ["production"], ["staging"]])),
                "addresses": draw(st.sampled_from([["*"], ["Shop/*"], ["Bans/*", "Flags/*"]])),
                "classes": draw(st.sampled_from([["any"], ["destructive"], ["any", "erasure"]])),
                "min_approvals": draw(st.integers(1, len(pool))),
                "from": sources,
            }
        )
    extra = {
        "max_age": draw(st.sampled_from(["1h", "1d", "7d"])),
        "destructive_min_approvals": draw(st.integers(1, 2)),
        "groups": groups,
    }
    return policy_of(people, rules, **extra), people


@st.composite
def plans(draw: st.DrawFn, policy: Policy) -> Plan:
    picked = draw(st.lists(st.sampled_from(ADDRESSES), min_size=1, max_size=4, unique=True))
    changes = tuple(
        change(
            address,
            draw(st.sampled_from([Action.CREATE, Action.UPDATE, Action.DELETE, Action.NOOP])),
        )
        for address in picked
    )
    return plan(
        changes,
        environment=draw(st.sampled_from(ENVIRONMENTS)),
        kind=draw(st.sampled_from(["plan", "erasure"])),
        policy_digest=policy.digest,
    )


@st.composite
def approvals(draw: st.DrawFn, target: Plan) -> Approval:
    person = draw(st.sampled_from([*POOL, OUTSIDER]))
    offset = draw(
        st.sampled_from(
            [
                timedelta(0),
                -timedelta(minutes=30),
                -timedelta(hours=2),
                -timedelta(days=3),
                timedelta(hours=2),
                -timedelta(days=10),
            ]
        )
    )
    when = NOW + offset
    digest = draw(st.sampled_from([target.digest, "sha256:" + "0" * 64]))
    environment = draw(st.sampled_from([target.environment, "other"]))
    universe = draw(st.sampled_from([target.universe_id, 7]))
    if draw(st.booleans()):
        return review(
            person.github or person.name,
            target,
            when=when,
            review_id=draw(st.integers(1, 10_000)),
            problems=draw(st.sampled_from([(), ("stale commit",)])),
        )
    signed = person.sign(
        target, when=when, digest=digest, environment=environment, universe_id=universe
    )
    if draw(st.integers(0, 5)) == 0:  # forged: claims someone else
        other = draw(st.sampled_from(POOL))
        from dataclasses import replace

        signed = replace(signed, approver=other.name)
    return signed


@st.composite
def cases(draw: st.DrawFn) -> tuple[Plan, list[Approval], Policy, EvaluationContext, Approval]:
    policy, _people = draw(policies())
    target = draw(plans(policy))
    found = draw(st.lists(approvals(target), max_size=8))
    extra = draw(approvals(target))
    authors = frozenset(
        draw(
            st.lists(
                st.sampled_from([p.name for p in POOL] + [p.github for p in POOL if p.github]),
                max_size=2,
            )
        )
    )
    context = EvaluationContext(
        now=NOW, protected=draw(st.booleans()), authors=authors, plan_policy_digest=policy.digest
    )
    return target, found, policy, context, extra


def _counted(verdict: Verdict) -> list[Approval]:
    found = [c.approval for c in verdict.counted]
    for rule in verdict.rules:
        found.extend(c.approval for c in rule.counted)
    return found


@settings(max_examples=300, deadline=None)
@given(cases())
def test_never_counts_what_must_not_count(case) -> None:  # type: ignore[no-untyped-def]
    target, found, policy, context, _extra = case
    verdict = evaluate(target, found, policy, context)
    for approval in _counted(verdict):
        assert approval.digest == target.digest
        assert approval.environment == target.environment
        assert approval.universe_id == target.universe_id
        assert context.now - approval.time <= policy.max_age  # not expired
        assert approval.time >= CREATED - context.clock_skew
        assert not approval.problems
        match approval.kind:
            case ApprovalKind.SIGNATURE:
                person = policy.approver(approval.approver)
                assert person is not None and person.key is not None
                assert signature_valid(approval, person.key)
            case ApprovalKind.GITHUB_REVIEW:
                person = policy.approver_by_github(approval.approver)
                assert person is not None
        assert not (person.identities() & context.authors)  # no self-approval
    for rule in verdict.rules:
        people = [c.approver for c in rule.counted]
        assert len(people) == len(set(people))  # one person counts once
    assert len({c.approver for c in verdict.counted}) == len(verdict.counted)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_adding_an_approval_never_unsatisfies(case) -> None:  # type: ignore[no-untyped-def]
    target, found, policy, context, extra = case
    before = evaluate(target, found, policy, context)
    after = evaluate(target, [*found, extra], policy, context)
    if before.satisfied:
        assert after.satisfied
    for old, new in zip(before.rules, after.rules, strict=True):
        assert len(new.counted) >= len(old.counted)
