"""Build a plan: set algebra of desired and live addresses, then store-level checks.

Pure: takes a :class:`DesiredState` and a :class:`LiveState`, returns a :class:`Plan`.

- desired and live -> compare per ownership (:func:`dsgit.plan.compare.compare_entry`);
- desired, not live -> create (owned, seed); observed entries are only reported;
- live, not desired, in a pruned owned store -> delete (DSP002);
- ``Removal`` and live -> delete (DSP001);
- ``moved_from`` -> create at the new address and delete at the old one, linked;
- then the store-level checks of :mod:`dsgit.plan.storechecks` (renames without
  ``moved_from``, mass deletes, counts) and suppressions; changes sorted by kind, store,
  scope, key; unchanged entries only counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from dsgit import __version__
from dsgit.model.declaration import Ownership, StorePolicy, Suppression
from dsgit.model.entry import RESERVED_STORE, Address, LiveEntry, LiveOrderedEntry, StoreKind
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.compare import (
    EntryFacts,
    SchemaCheck,
    check_declared,
    compare_entry,
    delete_change,
    live_data,
    precondition_of,
)
from dsgit.plan.desired import DesiredEntry, DesiredState, Removal, StoreSpec
from dsgit.plan.io import with_digest
from dsgit.plan.jsondiff import diff_data
from dsgit.plan.ledger import AppliedLookup, NoLedger
from dsgit.plan.live import UNKNOWN, LiveState, Unknown
from dsgit.plan.masking import PointerPatterns
from dsgit.plan.model import (
    PLAN_FORMAT_VERSION,
    Change,
    Diagnostic,
    NoopChange,
    Plan,
    PlanKind,
    Severity,
    format_precise_time,
    format_time,
    summarize,
)
from dsgit.plan.storechecks import (
    StoreTally,
    mass_deletes,
    rename_suspects,
    suppress,
    tally_diagnostics,
)
from dsgit.plan.targets import AddressFilter

__all__ = ["PlanSettings", "build_plan", "change_order"]

DEFAULT_EXPIRY = timedelta(hours=24)


@dataclass(frozen=True)
class PlanSettings:
    """Everything a plan needs besides desired and live state."""

    environment: str
    universe_id: int
    now: datetime
    kind: PlanKind = PlanKind.PLAN
    expires_in: timedelta = DEFAULT_EXPIRY
    select: AddressFilter = field(default_factory=AddressFilter)
    ledger: AppliedLookup = field(default_factory=NoLedger)
    schema_check: SchemaCheck | None = None
    context: Mapping[str, str] = field(default_factory=dict)
    dsgit_version: str = __version__


def change_order(address: Address) -> tuple[int, str, str, str]:
    """Standard stores first, then ordered; by store, scope, key."""
    return (
        0 if address.kind is StoreKind.STANDARD else 1,
        address.store,
        address.scope,
        address.key,
    )


_SEVERITY_RANK = {Severity.ERROR: 0, Severity.BLOCKING: 1, Severity.WARNING: 2, Severity.INFO: 3}


def _diagnostic_order(diag: Diagnostic) -> tuple[int, str, str, str, str]:
    return (
        _SEVERITY_RANK[diag.severity],
        diag.code,
        diag.store or "",
        diag.address or "",
        diag.message,
    )


class _Builder:
    def __init__(self, desired: DesiredState, live: LiveState, settings: PlanSettings) -> None:
        self.desired = desired
        self.live = live
        self.settings = settings
        self.changes: dict[Address, Change] = {}
        self.diagnostics: list[Diagnostic] = list(live.diagnostics)
        self.unchanged = 0
        self.tallies: dict[tuple[StoreKind, str], StoreTally] = defaultdict(StoreTally)
        self.handled: set[Address] = set()
        self.suppressions: dict[Address, tuple[Suppression, ...]] = {}

    # --- helpers ---------------------------------------------------------------------------

    def policy(self, address: Address) -> StorePolicy:
        return self.desired.policy(address)

    def lookup(self, address: Address) -> LiveEntry | LiveOrderedEntry | Unknown | None:
        found = self.live.lookup(address)
        if found is UNKNOWN and not self._explained(address):
            self.diagnostics.append(
                diagnostic(
                    DiagnosticCode.NOT_READ,
                    f"{address}: its live state was not read",
                    address=str(address),
                )
            )
        return found

    def _explained(self, address: Address) -> bool:
        if address in self.live.unread:
            return True
        listing = self.live.listings.get((address.kind, address.store, address.scope))
        return listing is not None and not listing.ok

    def selected(self, address: Address) -> bool:
        if address.store == RESERVED_STORE:
            return False
        return self.settings.select.selects(address)

    # --- passes ----------------------------------------------------------------------------

    def renames(self) -> dict[Address, Address]:
        """Valid ``moved_from`` links (old -> new) whose either half is selected."""
        links: dict[Address, Address] = {}
        for address, want in sorted(self.desired.entries.items()):
            if not isinstance(want, DesiredEntry) or want.moved_from is None:
                continue
            old = want.moved_from
            if not (self.selected(address) or self.selected(old)):
                continue
            problem = None
            if old == address:
                problem = "moved_from names the entry itself"
            elif old.kind is not address.kind:
                problem = f"moved_from {old} is of another kind of data store"
            elif isinstance(self.desired.entries.get(old), DesiredEntry):
                problem = f"moved_from {old} is still declared (remove its file)"
            elif old in links:
                problem = f"moved_from {old} is also claimed by {links[old]}"
            if problem is not None:
                self.diagnostics.append(
                    diagnostic(
                        DiagnosticCode.INVALID_MOVED_FROM,
                        f"{address}: {problem}",
                        address=str(address),
                        file=want.file,
                        line=want.line,
                    )
                )
                continue
            links[old] = address
        return links

    def entries(self, links: Mapping[Address, Address]) -> None:
        renamed_to = {new: old for old, new in links.items()}
        for address, want in sorted(self.desired.entries.items()):
            if address in links:
                continue  # a rename source: planned with its target
            if not (self.selected(address) or address in renamed_to):
                continue
            self.handled.add(address)
            if want is None or isinstance(want, Removal):
                self.removal(address, want or Removal())
                continue
            self.suppressions[address] = (*want.suppress, *want.policy.suppress)
            if want.problem is not None:
                self.diagnostics.append(want.problem)
                continue
            found = check_declared(want, self.settings.schema_check)
            live = self.lookup(address)
            if isinstance(live, Unknown):
                self.diagnostics.extend(found)
                continue
            change, facts = compare_entry(
                want, live, ledger=self.settings.ledger, schema_check=self.settings.schema_check
            )
            self.tally(address, facts)
            if change is None and found:
                change = self.noop(want, live)
            if change is not None:
                change = replace(change, diagnostics=(*found, *change.diagnostics))
                self.changes[address] = change
            if address in renamed_to:
                self.rename(renamed_to[address], address, want)

    def noop(self, want: DesiredEntry, live: LiveEntry | LiveOrderedEntry | None) -> Change:
        patterns = PointerPatterns((*want.policy.sensitive, *want.policy.encrypted))
        lines = diff_data(live_data(live), want.compare_data, patterns)[0] if live else []
        return NoopChange(
            address=want.address,
            reason=f"{want.policy.ownership.value}: not written",
            precondition=precondition_of(want.address.kind, live),
            diff=tuple(lines),
            sensitive=tuple(sorted(want.policy.sensitive)),
            encrypted=tuple(sorted(want.policy.encrypted)),
            diagnostics=(),
            ownership=want.policy.ownership.value,
        )

    def tally(self, address: Address, facts: EntryFacts) -> None:
        if facts.unchanged and not facts.live_fails_schema:
            self.unchanged += 1
            return
        tally = self.tallies[(address.kind, address.store)]
        text = str(address)
        if facts.unchanged:
            self.unchanged += 1
        for flag, found in (
            (facts.seed_kept, tally.seed_kept),
            (facts.observed_differs, tally.observed_differs),
            (facts.observed_missing, tally.observed_missing),
        ):
            if flag:
                found.append(text)
                self.unchanged += 1
        if facts.live_fails_schema:
            tally.live_fails_schema.append(text)

    def removal(self, address: Address, want: Removal) -> None:
        policy = self.policy(address)
        live = self.lookup(address)
        if live is None or isinstance(live, Unknown):
            return
        if policy.ownership is not Ownership.OWNED:
            self.unchanged += 1
            return
        self.suppressions[address] = (*want.suppress, *policy.suppress)
        diag = diagnostic(
            DiagnosticCode.ENTRY_DELETE,
            f"{address}: deletes the live entry ({want.reason})",
            address=str(address),
        )
        self.changes[address] = delete_change(
            address, live, policy, want.reason, (diag,), self.settings.ledger
        )

    def rename(self, old: Address, new: Address, want: DesiredEntry) -> None:
        self.handled.add(old)
        policy = self.policy(old)
        live = self.lookup(old)
        if isinstance(live, Unknown):
            return
        note = diagnostic(
            DiagnosticCode.RENAME,
            f"{new}: renamed from {old} (moved_from)"
            + ("" if live is not None else "; the old entry does not exist live"),
            address=str(new),
            file=want.file,
            line=want.line,
        )
        created = self.changes.get(new)
        if live is None or policy.ownership is not Ownership.OWNED:
            if created is not None:
                self.changes[new] = replace(created, diagnostics=(*created.diagnostics, note))
            return
        self.suppressions[old] = (*want.suppress, *policy.suppress)
        self.changes[old] = delete_change(
            old, live, policy, f"renamed to {new}", (note,), self.settings.ledger
        )
        if created is not None:
            self.changes[new] = replace(created, moved_from=old)

    def prune(self) -> None:
        for (kind, name), spec in sorted(self.desired.stores.items()):
            if name == RESERVED_STORE or not spec.policy.prune:
                continue
            for scope in spec.scopes:
                self.prune_scope(kind, name, scope, spec)

    def prune_scope(self, kind: StoreKind, name: str, scope: str, spec: StoreSpec) -> None:
        """Delete every listed key of the scope that has no file (owned, pruned keys only)."""
        keys = self.live.listed_keys(kind, name, scope)
        if keys is None:
            if (kind, name, scope) not in self.live.listings and (
                self.settings.select.may_select_store(kind, name)
            ):
                self.diagnostics.append(
                    diagnostic(
                        DiagnosticCode.NOT_READ,
                        f"{spec.label}/{scope}: the scope was not listed, so keys to "
                        "prune are unknown",
                        store=spec.label,
                    )
                )
            return
        for key in sorted(keys):
            address = Address(kind, name, scope, key)
            if address in self.desired.entries or address in self.handled:
                continue
            policy = spec.policy.for_key(key)
            if not policy.prune or policy.ownership is not Ownership.OWNED:
                continue
            if not self.selected(address):
                continue
            live = self.lookup(address)
            if live is None or isinstance(live, Unknown):
                continue
            self.suppressions[address] = policy.suppress
            diag = diagnostic(
                DiagnosticCode.PRUNE_DELETE,
                f"{address}: live key has no file and {spec.label} has prune: true",
                address=str(address),
                file=spec.file,
            )
            self.changes[address] = delete_change(
                address, live, policy, "no file (prune)", (diag,), self.settings.ledger
            )

    def rename_heuristic(self) -> None:
        """DSP004 on deletes that look like the other half of an undeclared rename."""
        for address, target in rename_suspects(self.changes, self.desired, self.live):
            change = self.changes[address]
            want = self.desired.entries.get(target)
            declared = want if isinstance(want, DesiredEntry) else None
            extra = declared.suppress if declared is not None else ()
            self.suppressions[address] = (*self.suppressions.get(address, ()), *extra)
            same_place = (address.store, address.scope) == (target.store, target.scope)
            moved = (
                address.key
                if same_place
                else f"{{store: {address.store}, scope: {address.scope}, key: {address.key}}}"
            )
            diag = diagnostic(
                DiagnosticCode.RENAME_WITHOUT_MOVED_FROM,
                f"{address}: deleted while {target} is created with the same value: if this "
                f"is a rename, declare `moved_from: {moved}` in {target}'s file",
                address=str(address),
                file=declared.file if declared is not None else None,
                line=declared.line if declared is not None else None,
            )
            self.changes[address] = replace(change, diagnostics=(*change.diagnostics, diag))

    def finish(self) -> Plan:
        changes = []
        for address in sorted(self.changes, key=change_order):
            change = self.changes[address]
            suppressions = self.suppressions.get(address, ())
            diags = tuple(suppress(diag, suppressions) for diag in change.diagnostics)
            changes.append(replace(change, diagnostics=diags))
        settings = self.settings
        plan = Plan(
            format_version=PLAN_FORMAT_VERSION,
            dsgit_version=settings.dsgit_version,
            kind=settings.kind,
            # to the microsecond: apply compares revision times with it (docs/applying.md §5)
            created=format_precise_time(settings.now),
            expires=format_time(settings.now + settings.expires_in),
            environment=settings.environment,
            universe_id=settings.universe_id,
            source=self.desired.source,
            changes=tuple(changes),
            diagnostics=tuple(sorted(_dedupe(self.diagnostics), key=_diagnostic_order)),
            summary=summarize(tuple(changes), unchanged=self.unchanged),
            digest="",
            context=dict(settings.context),
        )
        return with_digest(plan)


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[Diagnostic] = set()
    out = []
    for diag in diagnostics:
        if diag not in seen:
            seen.add(diag)
            out.append(diag)
    return out


def build_plan(desired: DesiredState, live: LiveState, settings: PlanSettings) -> Plan:
    """The plan that takes ``live`` to ``desired`` as ownership allows (pure, deterministic)."""
    builder = _Builder(desired, live, settings)
    links = builder.renames()
    builder.entries(links)
    builder.prune()
    builder.rename_heuristic()
    builder.diagnostics.extend(mass_deletes(builder.changes, desired, live))
    builder.diagnostics.extend(tally_diagnostics(builder.tallies, desired))
    return builder.finish()
