"""The events of apply, built at the command edges (``dsgit apply``, ``dsgit github apply``).

Kept apart from :mod:`dsgit.notify.events` so the event model imports nothing of apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, assert_never

from dsgit.apply.result import ApplyResult, ApplyStatus
from dsgit.config import Environment
from dsgit.errors import DsgitError, PolicyRefused, StalePlan
from dsgit.notify.events import NOBODY, Context, Event, EventKind, Severity, drift_event
from dsgit.plan.model import Action, Plan
from dsgit.planning.usecase import DriftReport

if TYPE_CHECKING:
    from dsgit.insight.scan import ScanReport

__all__ = ["apply_error_event", "apply_event", "ci_link", "drift_report_event", "scan_event"]


def _apply_counts(result: ApplyResult) -> dict[str, int]:
    return {
        "written": len(result.written),
        "already as planned": len(result.skipped),
        "conflicts": len(result.conflicts),
        "not applied": len(result.pending),
    }


def apply_event(plan: Plan, result: ApplyResult, context: Context = NOBODY) -> Event | None:
    """The event of an apply that ran: ``conflict`` when entries conflicted, else ``apply``;
    None for a rerun of a finished apply (nothing happened: the first run was notified)."""
    if result.already_complete:
        return None
    counts = _apply_counts(result)
    words = ", ".join(f"{n} {what}" for what, n in counts.items())
    event = Event(
        EventKind.APPLY,
        environment=result.environment,
        summary=f"Apply complete: {words}.",
        outcome="applied",
        severity=Severity.OK,
        universe_id=plan.universe_id,
        counts=counts,
        addresses=tuple(str(c.address) for c in result.written),
        reasons=(result.failure,) if result.failure else (),
        plan_digest=result.plan_digest,
        apply_id=result.apply_id,
        actor=context.actor,
        commit=plan.source.commit,
        link=context.link,
    )
    match result.status:
        case ApplyStatus.COMPLETE:
            return event
        case ApplyStatus.CONFLICT:
            return replace(
                event,
                kind=EventKind.CONFLICT,
                summary=f"Apply finished with conflicts: {words}. The conflicting entries "
                "changed since the plan and were not written; make a new plan.",
                outcome="conflict",
                severity=Severity.WARNING,
                addresses=tuple(str(c.address) for c in result.conflicts),
            )
        case ApplyStatus.PARTIAL:
            return replace(
                event,
                summary=f"Apply stopped part way: {words}. Run it again to resume.",
                outcome="partial",
                severity=Severity.ERROR,
            )
        case ApplyStatus.INTERRUPTED:
            return replace(
                event,
                summary=f"Apply interrupted: {words}. Run it again to resume.",
                outcome="interrupted",
                severity=Severity.WARNING,
            )
        case _:
            assert_never(result.status)


def apply_error_event(
    environment: Environment, error: DsgitError, plan: Plan | None, context: Context = NOBODY
) -> Event:
    """The event of an apply stopped by an error: ``refused`` (policy, or a stale or untrusted
    plan: nothing was written) or ``apply`` with outcome ``error``. ``plan`` is None when it
    could not even be read (the GitHub Action's artifact)."""
    match error:
        case PolicyRefused():
            kind, outcome, severity = EventKind.REFUSED, "refused", Severity.WARNING
            summary = "Apply refused by policy: nothing was written."
        case StalePlan():
            kind, outcome, severity = EventKind.REFUSED, "stale", Severity.WARNING
            summary = "Apply refused: the plan is stale; nothing was written. Make a new plan."
        case _:
            kind, outcome, severity = EventKind.APPLY, "error", Severity.ERROR
            summary = "Apply stopped with an error (run it again once mended: it resumes)."
    counts = {}
    if plan is not None:
        counts["planned changes"] = sum(1 for c in plan.changes if c.action is not Action.NOOP)
    return Event(
        kind,
        environment=environment.name,
        summary=summary,
        outcome=outcome,
        severity=severity,
        universe_id=environment.universe_id,
        counts=counts,
        reasons=(str(error),),
        plan_digest=plan.digest if plan is not None else None,
        actor=context.actor,
        commit=plan.source.commit if plan is not None else None,
        link=context.link,
    )


def ci_link(environ: Mapping[str, str]) -> str | None:
    """The GitHub Actions run this command runs in, if any (its page, for "details" links)."""
    repository, run_id = environ.get("GITHUB_REPOSITORY"), environ.get("GITHUB_RUN_ID")
    if not repository or not run_id:
        return None
    server = (environ.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    return f"{server}/{repository}/actions/runs/{run_id}"


def drift_report_event(report: DriftReport, context: Context = NOBODY) -> Event | None:
    """The drift event of a complete report that found drift (None: no drift, or the live
    state could not be read completely, which is an error and not drift)."""
    if not report.items or report.errors:
        return None
    items: dict[str, list[str]] = {}
    for item in report.items:
        items.setdefault(item.kind, []).append(str(item.change.address))
    grouped = {kind: tuple(addresses) for kind, addresses in items.items()}
    return drift_event(report.plan.environment, report.plan.universe_id, grouped, context)


def scan_event(report: ScanReport, context: Context = NOBODY) -> Event | None:
    """The ``scan`` event of a scan that found something to look at — PII in values, keys near
    the 4 MB limit, entries that fail their schema, numeric outliers — or None. It holds counts
    and example addresses (keys, never values)."""
    counts = {"PII findings": 0, "near the size limit": 0, "failing the schema": 0}
    counts["outliers"] = 0
    addresses: list[str] = []
    for store in report.stores:
        found = {
            "PII findings": sum(examples.count for examples in store.pii.values()),
            "near the size limit": store.near_limit_count,
            "failing the schema": (
                store.checked - store.conforming if store.conforming is not None else 0
            ),
            "outliers": sum(len(field.outliers) for field in store.outliers),
        }
        for what, n in found.items():
            counts[what] += n
        examples = [key for key, _ in store.near_limit]
        examples += [key for group in store.pii.values() for key in group.keys]
        addresses += [f"{store.store}/{store.scope}/{key}" for key in sorted(set(examples))]
    counts = {what: n for what, n in counts.items() if n}
    if not counts:
        return None
    words = ", ".join(f"{n} {what}" for what, n in counts.items())
    sampled = " (in a sample)" if report.sample is not None else ""
    return Event(
        EventKind.SCAN,
        environment=report.environment,
        summary=f"A scan of {len(report.stores)} store(s) found {words}{sampled}.",
        outcome="findings",
        severity=Severity.WARNING,
        universe_id=report.universe_id,
        counts=counts,
        addresses=tuple(addresses),
        actor=context.actor,
        link=context.link,
    )
