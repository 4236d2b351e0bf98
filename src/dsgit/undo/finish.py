"""Last touches every undo plan gets after the planner built it: undo diagnostics on changes
and on the plan, value-schema warnings, and the digest over the result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from dsgit.model.declaration import Declaration
from dsgit.model.entry import Address
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.desired import DesiredEntry, Removal
from dsgit.plan.io import with_digest
from dsgit.plan.model import Action, Diagnostic, Plan, PlanKind, Severity
from dsgit.planning.usecase import schema_check_for

__all__ = ["finish_plan", "schema_warnings"]

_RANK = {Severity.ERROR: 0, Severity.BLOCKING: 1, Severity.WARNING: 2, Severity.INFO: 3}


def schema_warnings(
    declaration: Declaration | None,
    entries: Mapping[Address, DesiredEntry | Removal | None],
) -> dict[Address, list[Diagnostic]]:
    """DSP042 for values written back that fail the store's current schema.

    A warning, not an error: the value was live before (valid under the schema of its day), and
    refusing to undo because the schema moved on would leave the bad state in place. The
    message names the pointer only, never the value (it may be sensitive).
    """
    if declaration is None:
        return {}
    check = schema_check_for(declaration)
    found: dict[Address, list[Diagnostic]] = {}
    for address, want in entries.items():
        if not isinstance(want, DesiredEntry) or want.policy.schema is None:
            continue
        if want.problem is not None:
            continue
        problems = check(want.policy.schema, want.compare_data.value)
        if problems:
            pointers = ", ".join(sorted({p.pointer or "/" for p in problems})[:5])
            found.setdefault(address, []).append(
                diagnostic(
                    DiagnosticCode.RESTORED_FAILS_SCHEMA,
                    f"{address}: the value written back fails the current schema "
                    f"{want.policy.schema} at {pointers}",
                    address=str(address),
                )
            )
    return found


def finish_plan(
    plan: Plan,
    *,
    kind: PlanKind,
    change_diagnostics: Mapping[Address, Sequence[Diagnostic]] | None = None,
    plan_diagnostics: Sequence[Diagnostic] = (),
    reasons: Mapping[Action, str] | None = None,
    address_reasons: Mapping[Address, Mapping[Action, str]] | None = None,
) -> Plan:
    """``plan`` as an undo plan of ``kind``, with the extra diagnostics, digest recomputed.

    ``reasons`` replace the planner's reason of creates and updates ("declared, missing live"
    means nothing when the desired value comes from a pre-image or a revision);
    ``address_reasons`` replace them for single addresses. Diagnostics for
    an address the plan does not change (already in the wanted state) are dropped: there is
    nothing to warn about.
    """
    extra = change_diagnostics or {}
    changes = []
    for change in plan.changes:
        more = tuple(extra.get(change.address, ()))
        if more and change.action is not Action.NOOP:
            change = replace(change, diagnostics=(*change.diagnostics, *more))  # noqa: PLW2901
        reason = (address_reasons or {}).get(change.address, {}).get(change.action)
        if reason is None:
            reason = (reasons or {}).get(change.action)
        if reason is not None:
            change = replace(change, reason=reason)  # noqa: PLW2901
        changes.append(change)
    diagnostics = sorted(
        (*plan.diagnostics, *plan_diagnostics),
        key=lambda d: (_RANK[d.severity], d.code, d.store or "", d.address or "", d.message),
    )
    return with_digest(
        replace(plan, kind=kind, changes=tuple(changes), diagnostics=tuple(diagnostics))
    )
