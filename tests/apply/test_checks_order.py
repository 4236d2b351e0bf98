"""apply/checks.py: one ordered list of pure checks; the first failure decides the outcome, and
one map turns outcomes into exit codes (for the CLI and the Action alike)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from approval_builders import NOW, plan
from dsgit.apply.checks import CHECKS, CheckInput, first_failure, is_remote, require_approvals
from dsgit.apply.outcome import EXIT_CODES, Outcome, exit_code, outcome_of_error
from dsgit.apply.result import ApplyStatus
from dsgit.config import Environment
from dsgit.errors import (
    ConflictError,
    DsgitError,
    PartialApply,
    PolicyRefused,
    StalePlan,
)
from dsgit.model.declaration import SourceInfo
from dsgit.plan.codes import DiagnosticCode
from dsgit.plan.model import Diagnostic, Severity


def env(**fields: object) -> Environment:
    base: dict[str, object] = {
        "name": "production",
        "universe_id": 42,
        "url": "https://apis.roblox.com",
    }
    return Environment(**{**base, **fields})  # type: ignore[arg-type]


def given(target=None, environment=None, **fields):  # type: ignore[no-untyped-def]
    target = target or plan()
    environment = environment or env()
    return CheckInput(
        **{
            "plan": target,
            "source": target.source,
            "env": environment,
            "verdict": require_approvals(target, environment),
            "now": NOW,
            **fields,
        }
    )


def test_a_good_plan_passes_every_check() -> None:
    assert first_failure(given()) is None


def test_the_first_failure_decides() -> None:
    dirty = replace(plan(), source=SourceInfo(None, True, "sha256:" + "d" * 64))
    found = first_failure(given(dirty, env(protected=True), now=NOW + timedelta(days=30)))
    assert found is not None and found.check == "expiry" and found.outcome is Outcome.STALE
    found = first_failure(given(dirty, env(protected=True)))
    assert found is not None and found.check == "dirty" and found.outcome is Outcome.REFUSED
    found = first_failure(given(plan(), env(protected=True)))
    assert found is not None and found.check == "approvals"
    assert "protected environment" in found.message
    assert [check.__name__ for check in CHECKS] == [
        "not_expired",
        "same_environment",
        "same_universe",
        "declaration_unchanged",
        "clean_source",
        "approvals_satisfied",
        "no_blocking_diagnostics",
    ]


def test_dirty_plans_need_allow_dirty_on_remote_environments_only() -> None:
    dirty = replace(plan(), source=SourceInfo(None, True, "sha256:" + "d" * 64))
    found = first_failure(given(dirty))
    assert found is not None and "--allow-dirty" in found.message
    assert first_failure(given(dirty, allow_dirty=True)) is None
    served = env(url="http://127.0.0.1:8123")
    assert first_failure(given(dirty, served)) is None
    assert not is_remote(env(url=None, emulator="x.db"))  # type: ignore[arg-type]
    assert not is_remote(env(url="http://emulator.test"))
    assert is_remote(env(url="https://apis.roblox.com"))


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (PolicyRefused("x"), Outcome.REFUSED),
        (StalePlan("x"), Outcome.STALE),
        (ConflictError("x"), Outcome.CONFLICT),
        (PartialApply("x"), Outcome.PARTIAL),
        (DsgitError("x"), Outcome.ERROR),
    ],
)
def test_one_map_from_outcome_to_exit_code_agrees_with_the_errors(
    error: DsgitError, outcome: Outcome
) -> None:
    assert outcome_of_error(error) is outcome
    assert exit_code(outcome) == error.exit_code


def test_apply_statuses_exit_through_the_same_map() -> None:
    assert set(EXIT_CODES) == set(Outcome)
    for status in ApplyStatus:
        assert status.exit_code == EXIT_CODES[status.outcome]


def test_a_blocking_diagnostic_is_named_once_and_the_refusal_says_how_to_allow_it() -> None:
    named = Diagnostic(
        DiagnosticCode.PRUNE_DELETE,
        Severity.BLOCKING,
        "Shop/global/old: live key has no file and standard:Shop has prune: true",
        None,
        "Shop/global/old",
    )
    bare = Diagnostic(
        DiagnosticCode.MASS_DELETE, Severity.BLOCKING, "would delete 9 entries", None, None, 9
    )
    found = first_failure(given(replace(plan(), diagnostics=(named, bare))))
    assert found is not None and found.check == "diagnostics"
    assert found.outcome is Outcome.REFUSED
    assert found.message.count("Shop/global/old:") == 1
    assert "DSP003 blocking: plan: would delete 9 entries" in found.message
    assert "--allow CODE=REASON" in found.message
