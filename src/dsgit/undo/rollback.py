"""``dsgit rollback --to COMMIT``: plan the declaration as it was at a commit (DESIGN.md §8).

The old declaration is read from git objects (no checkout) and planned exactly as ``dsgit plan``
would have planned it then: same ownership, prune and suppressions, of that commit. The plan's
source is that commit, so apply resolves sensitive placeholders from it and refuses (exit 4) if
the plan no longer matches it.

Entries declared now but not at the commit are not deleted unless the old store prunes them
(a rollback of the declaration is not an undo of applies): DSP045 lists them; ``dsgit revert``
undoes the apply that created them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from dsgit.crypto import Keyring
from dsgit.model.declaration import Declaration, Ownership
from dsgit.model.entry import Address
from dsgit.model.overrides import for_environment
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.ledger import AppliedLookup
from dsgit.plan.model import Action, Diagnostic, Plan, PlanKind, summarize
from dsgit.plan.targets import AddressFilter
from dsgit.planning.read import ReadObserver
from dsgit.planning.usecase import PlanRequest, make_plan
from dsgit.remote.api import OpenCloudApi
from dsgit.undo.desired import kept_note, kept_ownership
from dsgit.undo.finish import finish_plan

__all__ = ["left_live", "plan_rollback"]

_EXAMPLES = 5


def _declared(declaration: Declaration) -> Iterable[tuple[Address, Ownership, bool]]:
    for store in declaration.stores.values():
        for entry in store.entries.values():
            policy = store.policy.for_key(entry.address.key)
            yield entry.address, policy.ownership, policy.prune


def left_live(then: Declaration, now: Declaration, select: AddressFilter) -> tuple[Address, ...]:
    """Owned entries declared ``now`` that ``then`` neither declares nor prunes."""
    old = {address for address, _, _ in _declared(then)}
    pruned_then = {
        (kind, name)
        for (kind, name), store in then.stores.items()
        if store.policy.prune and store.policy.ownership is Ownership.OWNED
    }
    found = []
    for address, ownership, _ in _declared(now):
        if address in old or ownership is Ownership.OBSERVED or not select.selects(address):
            continue
        if (address.kind, address.store) in pruned_then:
            continue
        found.append(address)
    return tuple(sorted(found))


def _keep_seed_and_observed(
    plan: Plan, current: Declaration | None, notes: list[Diagnostic]
) -> Plan:
    """Drop deletes (a prune of the old declaration) of entries declared seed or observed now."""
    kept_changes = []
    for change in plan.changes:
        kept = kept_ownership((current,), change.address)
        if change.action is Action.DELETE and kept is not None:
            notes.append(kept_note(change.address, kept, f"pruned at {commit_of(plan)}"))
            continue
        kept_changes.append(change)
    if len(kept_changes) == len(plan.changes):
        return plan
    changes = tuple(kept_changes)
    unchanged = plan.summary.get(Action.NOOP.value, 0)
    return replace(plan, changes=changes, summary=summarize(changes, unchanged=unchanged))


def commit_of(plan: Plan) -> str:
    return plan.context.get("to_commit", "")[:12]


def plan_rollback(
    then: Declaration,
    api: OpenCloudApi,
    request: PlanRequest,
    *,
    current: Declaration | None = None,
    ledger: AppliedLookup | None = None,
    keyring: Keyring | None = None,
    observer: ReadObserver | None = None,
) -> Plan:
    """Plan ``then`` (the declaration at the rollback commit) against live data."""
    commit = then.source.commit or ""
    then = for_environment(then, request.environment)
    if current is not None:
        current = for_environment(current, request.environment)
    plan = make_plan(
        then,
        api,
        request,
        ledger=ledger,
        keyring=keyring,
        context={"to_commit": commit},
        observer=observer,
    )
    notes: list[Diagnostic] = []
    plan = _keep_seed_and_observed(plan, current, notes)
    if current is not None:
        kept = left_live(then, current, AddressFilter(request.targets, request.excludes))
        if kept:
            shown = ", ".join(str(a) for a in kept[:_EXAMPLES])
            more = ", ..." if len(kept) > _EXAMPLES else ""
            notes.append(
                diagnostic(
                    DiagnosticCode.LEFT_LIVE_BY_ROLLBACK,
                    f"{len(kept)} entries declared now are not declared at {commit[:12]} and "
                    f"stay live as they are: {shown}{more}",
                    count=len(kept),
                )
            )
    return finish_plan(plan, kind=PlanKind.ROLLBACK, plan_diagnostics=notes)
