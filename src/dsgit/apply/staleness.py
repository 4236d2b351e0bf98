"""Is a plan stale? Only when the declaration inputs it depends on changed (DESIGN.md §4, §6.1).

A plan that records its declaration slice (:mod:`dsgit.plan.slice`) stays applicable after
commits that touch other entries, stores or schemas: apply recomputes the slice of the plan's
own changes and diagnostics against the declaration it finds and refuses (exit 4), naming each
file, only when one of those inputs differs. Plans made before dsgit recorded slices fall back
to the digest of the whole declaration. Live state that moved is a different question, answered
per entry by compare-and-swap when the write is made.
"""

from __future__ import annotations

from dsgit.apply.binding import check_bound_to_declaration
from dsgit.errors import StalePlan
from dsgit.model.declaration import Declaration, SourceInfo
from dsgit.plan.model import Plan
from dsgit.plan.slice import ChangedInput, InputKind, changed_inputs, slice_of

__all__ = ["check_source_unchanged", "stale_inputs"]

_SHOWN = 10


def _describe(item: ChangedInput) -> str:
    label = f"{item.kind.value} {item.name}"
    if item.file is None:
        where = label
    elif item.kind in (InputKind.ENTRY, InputKind.STORE):
        where = f"{item.file} ({label})"
    else:
        where = item.file
    return f"{where}: no longer declared" if item.removed else where


def check_source_unchanged(
    plan: Plan, source: SourceInfo | None, declaration: Declaration | None
) -> None:
    """Raise ``StalePlan`` when what the plan was made from changed in ``declaration``."""
    message = stale_inputs(plan, source, declaration)
    if message is not None:
        raise StalePlan(message)


def stale_inputs(
    plan: Plan, source: SourceInfo | None, declaration: Declaration | None
) -> str | None:
    """Why the plan is stale against ``declaration`` (None: it is not)."""
    if source is None:
        return None
    made = f" at commit {plan.source.commit[:12]}" if plan.source.commit else ""
    planned = plan.declaration_slice
    if planned is None or declaration is None:
        if source.digest != plan.source.digest:
            return (
                f"the declaration changed since the plan was made{made} (declaration digest "
                f"{source.digest[:19]}…, plan made from {plan.source.digest[:19]}…); "
                "make a new plan"
            )
        return None
    current = slice_of(plan.changes, plan.diagnostics, declaration, declaration.policies)
    if current.digest == planned.digest:
        return None
    changed = changed_inputs(planned, current)
    moved = [item for item in changed if item.in_both]
    if not moved:
        # Nothing the plan read changed, yet its inputs differ from what its changes read: the
        # plan file was edited (changes added or removed) and its digest recomputed.
        try:
            check_bound_to_declaration(plan, declaration)
        except StalePlan as exc:  # names the offending write
            return str(exc)
        return (
            "the plan's recorded declaration inputs do not match its changes: the plan file was "
            "edited after it was made (its digest recomputed); make a new plan"
        )
    lines = [f"  {_describe(item)}" for item in changed[:_SHOWN]]
    if len(changed) > _SHOWN:
        lines.append(f"  … and {len(changed) - _SHOWN} more")
    return (
        f"the declaration changed since the plan was made{made}, in what the plan depends on:\n"
        + "\n".join(lines)
        + "\nmake a new plan"
    )
