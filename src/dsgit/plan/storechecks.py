"""Checks over a whole store once every change is known: renames without ``moved_from``
(DSP004), mass deletes (DSP003), per-store counts (DSP022, DSP031-DSP033), and suppressions.

Pure functions over the builder's results; :mod:`dsgit.plan.build` calls them in order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from dsgit.model.declaration import StorePolicy, Suppression
from dsgit.model.entry import Address, StoreKind
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.compare import live_data
from dsgit.plan.desired import DesiredEntry, DesiredState, StoreSpec
from dsgit.plan.digest import canonical_json
from dsgit.plan.live import LiveState, Unknown
from dsgit.plan.model import Action, Change, Diagnostic, Severity

__all__ = [
    "StoreTally",
    "mass_deletes",
    "rename_suspects",
    "suppress",
    "tally_diagnostics",
]

_EXAMPLES = 5  # addresses named in a store-level count message


def suppress(
    diag: Diagnostic, suppressions: tuple[Suppression, ...], *, count: int | None = None
) -> Diagnostic:
    """``diag`` with ``suppressed_reason`` set when a suppression of its code allows it.

    Only BLOCKING diagnostics can be suppressed. With ``count`` (mass delete), the suppression
    must state a ``count`` at least as large, else the diagnostic stays blocked and says why.
    """
    if diag.severity is not Severity.BLOCKING:
        return diag
    for suppression in suppressions:
        if suppression.code != diag.code:
            continue
        if count is not None and (suppression.count is None or suppression.count < count):
            allowed = "no count" if suppression.count is None else f"count {suppression.count}"
            return replace(
                diag,
                message=f"{diag.message} (the suppression states {allowed}, "
                f"this plan deletes {count}: still blocked)",
            )
        return replace(diag, suppressed_reason=suppression.reason)
    return diag


def _label(kind: StoreKind, name: str, spec: StoreSpec | None) -> str:
    return spec.label if spec is not None else f"{kind.value}:{name}"


def _substantial(value: object) -> bool:
    """Values distinctive enough that equality suggests a rename (not ``0``, ``{}`` or
    ``[0, false]``): strings of 8+ characters, containers of 16+ characters of JSON."""
    if isinstance(value, str):
        return len(value) >= 8
    return isinstance(value, dict | list) and len(canonical_json(value)) >= 16


def rename_suspects(
    changes: Mapping[Address, Change], desired: DesiredState, live: LiveState
) -> list[tuple[Address, Address]]:
    """``(deleted, created)`` pairs where a delete's live value is exactly one create's value.

    Values shared by several creates or several deletes (defaults, templates) are ambiguous
    and never paired; declared renames (``moved_from``) are not suspects.
    """
    creates: dict[tuple[StoreKind, bytes], list[Address]] = defaultdict(list)
    for address, change in changes.items():
        want = desired.entries.get(address)
        if change.action is not Action.CREATE or change.moved_from is not None:
            continue
        if not isinstance(want, DesiredEntry) or not _substantial(want.compare_data.value):
            continue
        creates[(address.kind, canonical_json(want.compare_data.value))].append(address)
    if not creates:
        return []
    deletes: dict[tuple[StoreKind, bytes], list[Address]] = defaultdict(list)
    for address, change in changes.items():
        if change.action is not Action.DELETE or "renamed to" in change.reason:
            continue
        found = live.lookup(address)
        if found is None or isinstance(found, Unknown):
            continue
        deletes[(address.kind, canonical_json(live_data(found).value))].append(address)
    pairs = []
    for fingerprint, deleted in sorted(deletes.items()):
        created = creates.get(fingerprint, [])
        if len(deleted) == 1 and len(created) == 1:
            pairs.append((deleted[0], created[0]))
    return pairs


def mass_deletes(
    changes: Mapping[Address, Change], desired: DesiredState, live: LiveState
) -> list[Diagnostic]:
    """DSP003 per store deleting at least 2 entries and over its threshold (suppressed when a
    suppression states a large enough ``count``)."""
    counts: dict[tuple[StoreKind, str], int] = defaultdict(int)
    for address, change in changes.items():
        if change.action is Action.DELETE:
            counts[(address.kind, address.store)] += 1
    found = []
    for (kind, name), count in sorted(counts.items()):
        spec = desired.stores.get((kind, name))
        policy = spec.policy if spec is not None else StorePolicy()
        live_count = 0
        for scope in spec.scopes if spec is not None else ():
            keys = live.listed_keys(kind, name, scope)
            live_count += len(keys) if keys is not None else 0
        share = count / live_count if live_count else None
        over_share = share is not None and share > policy.mass_delete_threshold
        if count < 2 or not (count >= policy.mass_delete_min or over_share):
            continue
        label = _label(kind, name, spec)
        of = f" of {live_count} live keys ({share:.0%})" if share is not None else ""
        diag = diagnostic(
            DiagnosticCode.MASS_DELETE,
            f"{label}: this plan deletes {count} entries{of}; the threshold is "
            f"{policy.mass_delete_threshold:.0%} of the store or {policy.mass_delete_min} "
            "entries",
            count=count,
            store=label,
            file=spec.file if spec is not None else None,
        )
        found.append(suppress(diag, policy.suppress, count=count))
    return found


@dataclass
class StoreTally:
    """Addresses of one store that the plan leaves alone but reports, by reason."""

    seed_kept: list[str] = field(default_factory=list)
    observed_differs: list[str] = field(default_factory=list)
    observed_missing: list[str] = field(default_factory=list)
    live_fails_schema: list[str] = field(default_factory=list)


def tally_diagnostics(
    tallies: Mapping[tuple[StoreKind, str], StoreTally], desired: DesiredState
) -> list[Diagnostic]:
    """One counting diagnostic per store and reason, naming the first few addresses."""
    found = []
    for (kind, name), tally in sorted(tallies.items()):
        spec = desired.stores.get((kind, name))
        label = _label(kind, name, spec)
        schema = spec.policy.schema if spec is not None else None
        for code, addresses, what in (
            (
                DiagnosticCode.LIVE_FAILS_SCHEMA,
                tally.live_fails_schema,
                f"fail the store's schema {schema} live",
            ),
            (DiagnosticCode.SEED_DIFFERS, tally.seed_kept, "differ live and are kept (seed)"),
            (
                DiagnosticCode.OBSERVED_DIFFERS,
                tally.observed_differs,
                "differ live from the declaration (observed)",
            ),
            (
                DiagnosticCode.OBSERVED_MISSING,
                tally.observed_missing,
                "are declared but missing live (observed)",
            ),
        ):
            if not addresses:
                continue
            more = ", ..." if len(addresses) > _EXAMPLES else ""
            shown = ", ".join(addresses[:_EXAMPLES]) + more
            found.append(
                diagnostic(
                    code,
                    f"{label}: {len(addresses)} entries {what}: {shown}",
                    count=len(addresses),
                    store=label,
                )
            )
    return found
