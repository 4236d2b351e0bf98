"""Change classes of a plan, computed from its changes (never read from the plan file).

- ``any``: every change that writes;
- ``destructive``: a delete, or a change (or its store) with a BLOCKING-class diagnostic —
  prune, mass delete, rename, session lock — suppressed or not; a plan-level one without a
  store makes every change destructive;
- ``erasure``: every change of an erasure plan;
- ``configs``: changes to Experience Configs (``configs:`` addresses).
"""

from __future__ import annotations

from collections.abc import Mapping

from dsgit.plan.model import Action, Plan, PlanKind, Severity
from dsgit.policy.model import ChangeClass

__all__ = ["change_classes", "plan_classes"]


def change_classes(plan: Plan) -> Mapping[str, frozenset[ChangeClass]]:
    """Each written address of the plan and its classes (no-ops are left out)."""
    plan_wide = False
    stores: set[str] = set()
    for diag in plan.diagnostics:
        if diag.severity is Severity.BLOCKING:
            if diag.store is None and diag.address is None:
                plan_wide = True
            elif diag.store is not None:
                stores.add(diag.store)
    found: dict[str, frozenset[ChangeClass]] = {}
    for change in plan.changes:
        if change.is_noop:
            continue
        address = str(change.address)
        classes = {ChangeClass.ANY}
        destructive = (
            plan_wide
            or change.action is Action.DELETE
            or any(diag.severity is Severity.BLOCKING for diag in change.diagnostics)
            or any(
                d.severity is Severity.BLOCKING and d.address == address for d in plan.diagnostics
            )
            or _encoded_store(change.address.kind.value, change.address.store) in stores
        )
        if destructive:
            classes.add(ChangeClass.DESTRUCTIVE)
        if plan.kind is PlanKind.ERASURE:
            classes.add(ChangeClass.ERASURE)
        if address.startswith("configs:"):
            classes.add(ChangeClass.CONFIGS)
        found[address] = frozenset(classes)
    return found


def _encoded_store(kind: str, name: str) -> str:
    return f"{kind}:{name}"


def plan_classes(plan: Plan) -> frozenset[ChangeClass]:
    """Every class any change of the plan is of."""
    found: set[ChangeClass] = set()
    for classes in change_classes(plan).values():
        found |= classes
    return frozenset(found)
