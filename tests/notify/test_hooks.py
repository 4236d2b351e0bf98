"""How apply results and errors become events (kind, outcome, severity, counts)."""

from __future__ import annotations

import pytest

from approval_builders import change, plan
from dsgit.apply.result import ApplyResult, ApplyStatus, ChangeResult
from dsgit.config import Environment
from dsgit.errors import DsgitError, PolicyRefused, StalePlan
from dsgit.ledger.records import ChangeOutcome, EntryState
from dsgit.model.entry import Address
from dsgit.notify.events import Context, EventKind, Severity
from dsgit.notify.hooks import apply_error_event, apply_event, ci_link
from dsgit.plan.model import Action

PLAN = plan((change("Shop/Sword"), change("Shop/Bow"), change("Shop/Axe", Action.NOOP)))


def _result(status: ApplyStatus, **fields: object) -> ApplyResult:
    def one(key: str, outcome: ChangeOutcome | None) -> ChangeResult:
        state = EntryState(True)
        return ChangeResult(Address.standard("Shop", key), Action.UPDATE, outcome, "", state, state)

    changes = (one("Sword", ChangeOutcome.WRITTEN), one("Bow", ChangeOutcome.CONFLICT))
    return ApplyResult("apply-1", PLAN.digest, "production", status, changes, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "kind", "outcome", "severity"),
    [
        (ApplyStatus.COMPLETE, EventKind.APPLY, "applied", Severity.OK),
        (ApplyStatus.CONFLICT, EventKind.CONFLICT, "conflict", Severity.WARNING),
        (ApplyStatus.PARTIAL, EventKind.APPLY, "partial", Severity.ERROR),
        (ApplyStatus.INTERRUPTED, EventKind.APPLY, "interrupted", Severity.WARNING),
    ],
)
def test_every_apply_status_has_its_event(
    status: ApplyStatus, kind: EventKind, outcome: str, severity: Severity
) -> None:
    event = apply_event(PLAN, _result(status), Context(actor="carol", link="https://x/run"))
    assert event is not None
    assert (event.kind, event.outcome, event.severity) == (kind, outcome, severity)
    assert event.counts == {"written": 1, "already as planned": 0, "conflicts": 1, "not applied": 0}
    assert (event.universe_id, event.plan_digest, event.apply_id) == (42, PLAN.digest, "apply-1")
    assert (event.actor, event.link, event.commit) == ("carol", "https://x/run", "c" * 40)
    expected = ["Shop/global/Bow"] if kind is EventKind.CONFLICT else ["Shop/global/Sword"]
    assert list(event.addresses) == expected


def test_a_rerun_of_a_finished_apply_sends_nothing() -> None:
    assert apply_event(PLAN, _result(ApplyStatus.COMPLETE, already_complete=True)) is None
    partial = apply_event(PLAN, _result(ApplyStatus.PARTIAL, failure="HTTP 503 from Open Cloud"))
    assert partial is not None and partial.reasons == ("HTTP 503 from Open Cloud",)


@pytest.mark.parametrize(
    ("error", "kind", "outcome"),
    [
        (PolicyRefused("needs 1 more approval"), EventKind.REFUSED, "refused"),
        (StalePlan("the plan expired"), EventKind.REFUSED, "stale"),
        (DsgitError("lock held by another apply"), EventKind.APPLY, "error"),
    ],
)
def test_errors_that_stop_an_apply(error: DsgitError, kind: EventKind, outcome: str) -> None:
    env = Environment("production", 42)
    event = apply_error_event(env, error, PLAN)
    assert (event.kind, event.outcome, event.reasons) == (kind, outcome, (str(error),))
    assert event.counts == {"planned changes": 2}  # the no-op is not a change
    unread = apply_error_event(env, error, None)
    assert unread.plan_digest is None and unread.counts == {} and unread.universe_id == 42


def test_ci_link() -> None:
    assert ci_link({}) is None
    environ = {"GITHUB_REPOSITORY": "acme/game", "GITHUB_RUN_ID": "7"}
    assert ci_link(environ) == "https://github.com/acme/game/actions/runs/7"
    environ["GITHUB_SERVER_URL"] = "https://ghe.example/"
    assert ci_link(environ) == "https://ghe.example/acme/game/actions/runs/7"
