"""Bind a plan's writes to the declaration it claims to come from (defence in depth).

The plan digest is plain SHA-256: it catches any accidental edit, but someone who can write the
plan file can edit a change and recompute it. ``source.digest`` already ties a plan to the
declaration it was made from; this check ties each of its writes to that declaration too, so a
plan made from a declaration (``plan``, and ``rollback``, whose source is the commit it returns
to) can only write what that declaration says:

- a create, update or increment writes exactly the declared data (sensitive values as their
  placeholders, encrypted ones as ciphertext), of a declared entry its ownership lets dsgit
  write (``seed``: create only; ``observed``: never);
- an increment's amount takes the entry from the value the precondition recorded to the
  declared one;
- a delete removes an entry that is not declared, and is either the other half of a declared
  rename (``moved_from``) or a prune the declaration allows and has reviewed (``prune: true``
  and DSP002 suppressed, in the declaration or by the plan's own recorded ``--allow DSP002``,
  which the digest and any approval cover).

``revert`` and ``restore`` plans write values from pre-images or revision history, not from a
declaration, so only the digest protects them; see
docs/plan-format.md, "What the digest does not prove".
"""

from __future__ import annotations

from dsgit.errors import StalePlan
from dsgit.model.declaration import Declaration, Ownership
from dsgit.model.entry import Address, EntryData
from dsgit.plan.allow import ALLOW_PREFIX
from dsgit.plan.codes import DiagnosticCode
from dsgit.plan.compare import masked_after
from dsgit.plan.desired import DesiredEntry, desired_from_declaration
from dsgit.plan.digest import entry_digest
from dsgit.plan.model import (
    Action,
    Change,
    IncrementChange,
    OrderedPrecondition,
    Plan,
    written_data,
)

__all__ = ["check_bound_to_declaration"]


def _refuse(change: Change, why: str) -> StalePlan:
    return StalePlan(
        f"{change.address}: {why}; the plan file was edited after it was made (its digest "
        "recomputed) or comes from another declaration: make a new plan"
    )


def _check_write(change: Change, entry: DesiredEntry | None) -> None:
    if entry is None:
        raise _refuse(change, f"the plan would {change.action} an entry that is not declared")
    ownership = entry.policy.ownership
    if ownership is Ownership.OBSERVED or (
        ownership is Ownership.SEED and change.action is not Action.CREATE
    ):
        raise _refuse(change, f"the entry is {ownership.value}: dsgit does not {change.action} it")
    if written_data(change) != masked_after(entry):
        raise _refuse(change, "the value the plan would write is not what the declaration says")
    if not isinstance(change, IncrementChange):
        return
    after, amount, pre = change.after, change.amount, change.precondition
    if not isinstance(after.value, int):
        raise _refuse(change, "the increment has no integer result or amount")
    start = after.value - amount
    if isinstance(pre, OrderedPrecondition) and pre.value is not None:
        consistent = pre.value == start
    else:
        before = EntryData(start, after.attributes, after.users)
        consistent = pre.value_digest == entry_digest(before)
    if not consistent:
        raise _refuse(change, "the increment amount does not lead from the live value to the plan")


def _allowed_here(change: Change, plan: Plan, code: str) -> bool:
    """True when the plan's recorded ``--allow CODE`` let this change's diagnostic through."""
    reasons = {ALLOW_PREFIX + a.reason for a in plan.allowed if a.code == code and a.matched}
    return any(d.code == code and d.suppressed_reason in reasons for d in change.diagnostics)


def _check_delete(
    change: Change, declaration: Declaration, renamed_from: set[Address], plan: Plan
) -> None:
    address = change.address
    if declaration.entry(address) is not None:
        raise _refuse(change, "the plan would delete an entry that is declared")
    if address in renamed_from:
        return
    store = declaration.stores.get((address.kind, address.store))
    policy = store.policy.for_key(address.key) if store is not None else None
    if policy is None or not policy.prune or policy.ownership is not Ownership.OWNED:
        raise _refuse(change, "the plan would delete an entry its store does not prune")
    if not any(
        suppression.code == DiagnosticCode.PRUNE_DELETE for suppression in policy.suppress
    ) and not (_allowed_here(change, plan, DiagnosticCode.PRUNE_DELETE)):
        raise _refuse(change, "the plan would prune an entry without the reviewed DSP002")


def check_bound_to_declaration(plan: Plan, declaration: Declaration | None) -> None:
    """Raise ``StalePlan`` unless every write of a plan made from ``declaration`` follows it."""
    if not plan.kind.from_declaration or declaration is None:
        return
    desired = desired_from_declaration(declaration)
    renamed_from = {
        entry.moved_from
        for store in declaration.stores.values()
        for entry in store.entries.values()
        if entry.moved_from is not None
    }
    for change in plan.changes:
        if change.is_noop:
            continue
        if change.action is Action.DELETE:
            _check_delete(change, declaration, renamed_from, plan)
            continue
        want = desired.entries.get(change.address)
        _check_write(change, want if isinstance(want, DesiredEntry) else None)
