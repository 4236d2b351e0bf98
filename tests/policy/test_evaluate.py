"""evaluate(): which approvals count, per rule, and why the others do not."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from approval_builders import CREATED, NOW, Person, change, plan, policy_of, review
from dsgit.plan.model import Action, PlanKind
from dsgit.policy import EvaluationContext, Reason, evaluate
from dsgit.policy.classes import change_classes
from dsgit.policy.model import NO_POLICY_DIGEST, ChangeClass
from dsgit.policy.render import render_verdict, verdict_to_json

ALICE, BOB, CAROL = (
    Person("alice", "alice-gh", 1),
    Person("bob", "bobdev", 2),
    Person("carol", seed=3),
)


def ctx(target_policy_digest: str | None = None, **fields: object) -> EvaluationContext:
    return EvaluationContext(now=NOW, protected=True, **fields)  # type: ignore[arg-type]


def stamped(policy_digest: str, *changes: object, **fields: object):  # type: ignore[no-untyped-def]
    return plan(tuple(changes), policy_digest=policy_digest, **fields)  # type: ignore[arg-type]


def judge(target, approvals, policy, **fields):  # type: ignore[no-untyped-def]
    context = EvaluationContext(
        now=NOW,
        protected=fields.pop("protected", True),
        plan_policy_digest=target.context.get("approvals_policy"),
        **fields,
    )
    return evaluate(target, approvals, policy, context)


def test_protected_environment_needs_one_approval_even_without_rules() -> None:
    policy = policy_of([ALICE, BOB])
    target = stamped(policy.digest)
    verdict = judge(target, [], policy)
    assert not verdict.satisfied
    assert [r.name for r in verdict.rules] == ["protected environment"]
    assert "needs 1 more approval" in verdict.unmet()[0]
    assert judge(target, [ALICE.sign(target)], policy).satisfied


def test_unprotected_environment_without_rules_needs_nothing() -> None:
    policy = policy_of([ALICE])
    target = stamped(policy.digest, environment="staging")
    verdict = judge(target, [], policy, protected=False)
    assert verdict.satisfied and not verdict.required


def test_rules_by_environment_address_and_class() -> None:
    rules = [
        {"name": "shop", "environments": ["prod*"], "addresses": ["Shop/*"], "min_approvals": 1},
        {
            "name": "bans",
            "addresses": ["Bans/*"],
            "classes": ["destructive"],
            "min_approvals": 2,
            "from": ["owners"],
        },
    ]
    policy = policy_of([ALICE, BOB, CAROL], rules, groups={"owners": ["alice", "bob"]})
    target = stamped(policy.digest, change("Shop/Sword"), change("Bans/1", Action.DELETE))
    verdict = judge(target, [CAROL.sign(target)], policy)
    by_name = {r.name: r for r in verdict.rules}
    assert set(by_name) == {"shop", "bans"}
    assert by_name["shop"].satisfied
    bans = by_name["bans"]
    assert not bans.satisfied and bans.missing == 2
    assert [r.reason for r in bans.rejected] == [Reason.NOT_IN_RULE]
    verdict = judge(target, [CAROL.sign(target), ALICE.sign(target), BOB.sign(target)], policy)
    assert verdict.satisfied


def test_destructive_plan_in_protected_environment_needs_two_people_by_default() -> None:
    policy = policy_of([ALICE, BOB])
    target = stamped(policy.digest, change("Shop/Old", Action.DELETE))
    one = judge(target, [ALICE.sign(target)], policy)
    assert not one.satisfied
    assert any("destructive" in line and "1 more" in line for line in one.unmet())
    assert judge(target, [ALICE.sign(target), BOB.sign(target)], policy).satisfied
    relaxed = policy_of([ALICE, BOB], destructive_min_approvals=1)
    assert judge(
        stamped(relaxed.digest, change("Shop/Old", Action.DELETE)),
        [ALICE.sign(stamped(relaxed.digest, change("Shop/Old", Action.DELETE)))],
        relaxed,
    ).satisfied


def test_change_classes_come_from_the_plan() -> None:
    target = plan(
        (
            change("A/1"),
            change("A/2", Action.DELETE),
            change("A/3", blocking=True),
            change("A/4", Action.NOOP),
        )
    )
    classes = change_classes(target)
    assert set(classes) == {"A/global/1", "A/global/2", "A/global/3"}
    assert classes["A/global/1"] == {ChangeClass.ANY}
    assert ChangeClass.DESTRUCTIVE in classes["A/global/2"]
    assert ChangeClass.DESTRUCTIVE in classes["A/global/3"]
    erasure = plan((change("A/1"),), kind=PlanKind.ERASURE)
    assert ChangeClass.ERASURE in change_classes(erasure)["A/global/1"]


def test_forged_signature_is_refused() -> None:
    policy = policy_of([ALICE, BOB])
    target = stamped(policy.digest)
    forged = replace(ALICE.sign(target), signature=BOB.sign(target, name="alice").signature)
    forged = replace(forged, key=ALICE.key)
    verdict = judge(target, [forged], policy)
    assert not verdict.satisfied
    assert verdict.rejected[0].reason is Reason.BAD_SIGNATURE
    assert "does not verify with alice's key" in verdict.rejected[0].detail


def test_signature_over_another_digest_is_refused() -> None:
    policy = policy_of([ALICE])
    target = stamped(policy.digest)
    signed_other = ALICE.sign(target, digest="sha256:" + "0" * 64)
    moved = replace(signed_other, digest=target.digest)  # the digest field edited to match
    verdict = judge(target, [signed_other, moved], policy)
    reasons = sorted(r.reason for r in verdict.rejected)
    assert reasons == sorted([Reason.OTHER_PLAN, Reason.BAD_SIGNATURE])
    assert not verdict.satisfied


def test_replayed_approval_of_an_older_plan_is_refused() -> None:
    policy = policy_of([ALICE])
    older = stamped(policy.digest, change("Shop/Sword"))
    newer = stamped(policy.digest, change("Shop/Shield"))
    verdict = judge(newer, [ALICE.sign(older)], policy)
    assert verdict.rejected[0].reason is Reason.OTHER_PLAN
    assert "approves another plan" in verdict.rejected[0].detail


def test_key_not_in_policy_is_refused() -> None:
    policy = policy_of([ALICE, BOB])
    target = stamped(policy.digest)
    mallory = Person("mallory")
    as_alice = mallory.sign(target, name="alice")
    bob_as_alice = BOB.sign(target, name="alice")
    verdict = judge(target, [as_alice, mallory.sign(target), bob_as_alice], policy)
    details = [(r.reason, r.detail) for r in verdict.rejected]
    assert (Reason.UNKNOWN_KEY, "signed with a key not in the policy, not alice's key") in details
    assert (Reason.UNKNOWN_KEY, "signed with bob's key, not alice's key") in details
    assert any("'mallory' is not an approver" in d for r, d in details if r is Reason.NOT_APPROVER)
    assert not verdict.satisfied


def test_policy_changed_after_the_plan_is_refused() -> None:
    policy = policy_of([ALICE])
    target = stamped(policy.digest)
    loosened = policy_of([ALICE, Person("eve")])
    verdict = judge(target, [ALICE.sign(target)], loosened)
    assert not verdict.satisfied
    assert "changed since the plan was made" in verdict.problems[0]
    unstamped = plan()
    verdict = judge(unstamped, [ALICE.sign(unstamped)], policy)
    assert "does not record the approvals policy" in verdict.problems[0]
    no_policy = policy_of([])
    assert no_policy.digest != NO_POLICY_DIGEST


def test_wrong_environment_universe_expired_future_before_plan() -> None:
    policy = policy_of([ALICE, BOB, CAROL], max_age="1d")
    target = stamped(policy.digest)
    verdict = judge(
        target,
        [
            ALICE.sign(target, environment="staging"),
            BOB.sign(target, universe_id=7),
            CAROL.sign(target, when=NOW + timedelta(hours=1)),
            ALICE.sign(target, when=CREATED - timedelta(hours=1)),
        ],
        policy,
    )
    assert sorted(r.reason for r in verdict.rejected) == sorted(
        [
            Reason.WRONG_ENVIRONMENT,
            Reason.WRONG_UNIVERSE,
            Reason.FUTURE,
            Reason.BEFORE_PLAN,
        ]
    )
    assert not verdict.satisfied
    later = EvaluationContext(
        now=NOW + timedelta(days=2), protected=True, plan_policy_digest=policy.digest
    )
    expired = evaluate(target, [CAROL.sign(target)], policy, later)
    assert expired.rejected[0].reason is Reason.EXPIRED
    assert "older than max_age 1d" in expired.rejected[0].detail


def test_self_approval_does_not_count_unless_the_policy_allows_it() -> None:
    policy = policy_of([ALICE, BOB])
    target = stamped(policy.digest)
    verdict = judge(target, [ALICE.sign(target)], policy, authors=frozenset({"alice"}))
    assert verdict.rejected[0].reason is Reason.SELF and not verdict.satisfied
    via_github = judge(
        target, [review("alice-gh", target)], policy, authors=frozenset({"alice-gh"})
    )
    assert via_github.rejected[0].reason is Reason.SELF
    solo = policy_of([ALICE], allow_self_approval=True)
    target = stamped(solo.digest)
    assert judge(target, [ALICE.sign(target)], solo, authors=frozenset({"alice"})).satisfied


def test_one_person_counts_once_across_sources() -> None:
    policy = policy_of([ALICE, BOB])
    target = stamped(policy.digest, change("Shop/Old", Action.DELETE))
    verdict = judge(target, [ALICE.sign(target), review("alice-gh", target)], policy)
    assert [r.reason for r in verdict.rejected] == [Reason.DUPLICATE]
    assert not verdict.satisfied  # destructive: two *different* people


def test_review_problems_from_the_source_never_count() -> None:
    policy = policy_of([ALICE])
    target = stamped(policy.digest)
    verdict = judge(target, [review("alice-gh", target, problems=("a bot",))], policy)
    assert verdict.rejected[0].reason is Reason.SOURCE and not verdict.satisfied


def test_source_errors_are_notes_and_count_nothing() -> None:
    policy = policy_of([ALICE])
    target = stamped(policy.digest)
    verdict = judge(target, [], policy, source_errors=("GitHub reviews could not be read",))
    assert not verdict.satisfied and "fail closed" in verdict.notes[0]


def test_renderings_name_rules_and_reasons() -> None:
    policy = policy_of([ALICE, BOB])
    target = stamped(policy.digest, change("Shop/Old", Action.DELETE))
    verdict = judge(target, [ALICE.sign(target), ALICE.sign(target, environment="staging")], policy)
    text = render_verdict(verdict, "text")
    assert "NOT SATISFIED" in text and "destructive change" in text and "staging" in text
    markdown = render_verdict(verdict, "markdown")
    assert "| rule | needs |" in markdown and "do not count" in markdown
    body = verdict_to_json(verdict)
    assert body["satisfied"] is False and body["not_counted"][0]["reason"] == "wrong-environment"
