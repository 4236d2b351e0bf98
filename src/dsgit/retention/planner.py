"""``dsgit retention plan``: scan what the rules select, plan the deletions they choose.

One live scan (:mod:`dsgit.scan`) visits every entry the chosen rules select, once, whatever
number of rules select it; :class:`RetentionVisitor` decides per entry (the first rule, in file
order, that chooses it deletes it) and emits one record per deletion to the scan's record file,
so a killed plan resumes from its checkpoint without deciding any entry twice. The records then
become an ordinary plan of kind ``retention``: each deletion is a ``delete`` change with the
live etag as precondition and the rule in its reason, so it goes through ``show``, ``approve``,
``apply`` and ``revert`` like every plan.

Safety, as everywhere: each deletion carries DSP001, suppressed by the rule that chose it
(the reviewed policy file is the reason); a mass delete (DSP003) blocks unless the rules'
``max_deletes`` state a count that covers it, or ``--allow DSP003:COUNT=REASON`` does; a rule
over its ``max_deletes`` plans nothing and makes the plan an error (DSP071). An entry held by
a game server's session lock is left out (DSP070) and retried by the next run, unless the run
is given ``--allow DSP005=REASON``: then it is planned with its DSP005, let through by it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dsgit import __version__
from dsgit.errors import ConfigError, Location
from dsgit.model.declaration import Declaration, SourceInfo, StorePolicy
from dsgit.model.entry import Address, JSONValue, LiveEntry, LiveOrderedEntry, StoreKind
from dsgit.model.sessions import session_lock
from dsgit.plan.build import DEFAULT_EXPIRY, change_order
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.compare import delete_change
from dsgit.plan.io import with_digest
from dsgit.plan.ledger import NoLedger
from dsgit.plan.model import (
    PLAN_FORMAT_VERSION,
    Change,
    Diagnostic,
    Plan,
    PlanKind,
    Severity,
    format_precise_time,
    format_time,
    summarize,
)
from dsgit.plan.targets import AddressFilter
from dsgit.retention.evaluate import evaluate
from dsgit.retention.rules import RetentionPolicy, RetentionRule
from dsgit.scan import (
    ScanClient,
    ScanEntry,
    ScanObserver,
    ScanOptions,
    ScanResult,
    Shard,
    run_scan,
)
from dsgit.scan.visitor import Emit

__all__ = [
    "RetentionRequest",
    "RetentionRun",
    "RetentionVisitor",
    "choose_rules",
    "plan_retention",
]

_EXAMPLES = 5
_RANK = {Severity.ERROR: 0, Severity.BLOCKING: 1, Severity.WARNING: 2, Severity.INFO: 3}


@dataclass(frozen=True)
class RetentionRequest:
    """What ``dsgit retention plan`` was asked (the scan's checkpoint settings included)."""

    environment: str
    universe_id: int
    rules: tuple[str, ...] = ()  # rule names; () = every rule
    allow_locked: bool = False  # --allow DSP005=REASON was given
    shard: Shard | None = None
    checkpoint: Path | None = None
    restart: bool = False
    every_entries: int = 1000
    every_seconds: float = 30.0
    expires_in: timedelta = DEFAULT_EXPIRY
    select: AddressFilter = field(default_factory=AddressFilter)  # --target / --exclude
    now: datetime | None = None  # the time ages are measured from (a resumed scan keeps its own)


def choose_rules(policy: RetentionPolicy, names: Sequence[str]) -> tuple[RetentionRule, ...]:
    """The rules named (in file order), or every rule; a name not in the file is an error."""
    if not policy.rules:
        raise ConfigError(
            "no retention rules: policies/retention.yaml is missing or has no rules "
            "(docs/lifecycle.md shows one)",
            Location(policy.source),
        )
    unknown = [name for name in names if policy.rule(name) is None]
    if unknown:
        known = ", ".join(rule.name for rule in policy.rules)
        raise ConfigError(
            f"no retention rule named {', '.join(map(repr, unknown))} (the rules are: {known})",
            Location(policy.source),
        )
    wanted = set(names)
    return tuple(rule for rule in policy.rules if not wanted or rule.name in wanted)


@dataclass
class _Tally:
    selected: int = 0
    deletes: int = 0
    locked: int = 0
    no_time: int = 0
    locked_examples: list[str] = field(default_factory=list)
    no_time_examples: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _note(examples: list[str], address: str) -> None:
    if len(examples) < _EXAMPLES:
        examples.append(address)


def _live_to_json(live: LiveEntry | LiveOrderedEntry) -> dict[str, JSONValue]:
    if isinstance(live, LiveOrderedEntry):
        return {"value": live.value}
    return {
        "value": live.value,
        "attributes": dict(live.attributes),
        "users": list(live.users),
        "etag": live.etag,
        "revision_id": live.revision_id,
        "revision_create_time": live.revision_create_time,
        "create_time": live.create_time,
    }


def _live_from_json(address: Address, raw: Mapping[str, Any]) -> LiveEntry | LiveOrderedEntry:
    if address.kind is StoreKind.ORDERED:
        return LiveOrderedEntry(address.store, address.scope, address.key, int(raw["value"]))
    return LiveEntry(
        address.store,
        address.scope,
        address.key,
        raw["value"],
        raw["attributes"],
        tuple(int(user) for user in raw["users"]),
        raw["etag"],
        raw["revision_id"],
        raw["revision_create_time"],
        raw["create_time"],
    )


class RetentionVisitor:
    """Decides each scanned entry (see the module docstring); its tallies are checkpointed."""

    def __init__(
        self,
        rules: Sequence[RetentionRule],
        now: datetime,
        *,
        allow_locked: bool,
        select: AddressFilter | None = None,
    ) -> None:
        self.rules = tuple(rules)
        self.select = select or AddressFilter()
        self.now = now
        self.allow_locked = allow_locked
        self.tallies = [_Tally() for _ in rules]
        self.scanned: dict[str, int] = defaultdict(int)  # entries visited per store label
        self._labels: dict[tuple[StoreKind, str], str] = {}

    def visit(self, entry: ScanEntry, emit: Emit) -> None:
        target = entry.address
        if not self.select.selects(target):
            return
        self.scanned[self._label(target)] += 1
        for index in entry.selections:
            self.tallies[index].selected += 1
        for index in entry.selections:
            rule, tally = self.rules[index], self.tallies[index]
            verdict = evaluate(rule, entry, self.now)
            if verdict.no_time:
                tally.no_time += 1
                _note(tally.no_time_examples, str(target))
                continue
            if not verdict.chosen:
                continue
            lock = session_lock(entry.value) if entry.kind is StoreKind.STANDARD else None
            if lock is not None and not self.allow_locked:
                tally.locked += 1
                _note(tally.locked_examples, str(target))
                return
            tally.deletes += 1
            if rule.max_deletes is None or tally.deletes <= rule.max_deletes:
                assert entry.live is not None
                emit(
                    {
                        "rule": index,
                        "address": str(target),
                        "reason": verdict.reason,
                        "live": _live_to_json(entry.live),
                    }
                )
            return

    def _label(self, address: Address) -> str:
        """``_store_label``, remembered per store (computed once per entry otherwise)."""
        pair = (address.kind, address.store)
        label = self._labels.get(pair)
        if label is None:
            label = self._labels[pair] = _store_label(address)
        return label

    def snapshot(self) -> JSONValue:
        return {
            "now": self.now.isoformat(),
            "tallies": [tally.to_json() for tally in self.tallies],
            "scanned": dict(self.scanned),
        }

    def restore(self, state: JSONValue) -> None:
        assert isinstance(state, dict)
        now = state["now"]
        assert isinstance(now, str)
        self.now = datetime.fromisoformat(now)
        tallies = state["tallies"]
        assert isinstance(tallies, list)
        self.tallies = [
            _Tally(**raw)  # type: ignore[arg-type]
            for raw in tallies
            if isinstance(raw, dict)
        ]
        scanned = state["scanned"]
        assert isinstance(scanned, dict)
        self.scanned = defaultdict(int, {str(k): int(v) for k, v in scanned.items()})  # type: ignore[arg-type]


def _store_label(address: Address) -> str:
    return f"{address.kind.value}:{address.store}"


def _policy_for(declaration: Declaration | None, address: Address) -> StorePolicy:
    if declaration is None:
        return StorePolicy()
    store = declaration.stores.get((address.kind, address.store))
    return store.policy.for_key(address.key) if store is not None else StorePolicy()


def _more(total: int, shown: list[str]) -> str:
    return f" and {total - len(shown):,} more" if total > len(shown) else ""


def _over(rule: RetentionRule, tally: _Tally, shards: int) -> bool:
    """Over ``max_deletes``: in a shard plan, this shard's part times N (the shards split the
    keys by a stable hash, so each holds about 1/N; erring towards refusing is the safe side)."""
    return rule.max_deletes is not None and tally.deletes * shards > rule.max_deletes


def _across(count: int, shards: int) -> str:
    if shards == 1:
        return ""
    return f" (this shard's part of about {count * shards:,} across {shards} shards)"


def _rule_diagnostics(
    rules: Sequence[RetentionRule], visitor: RetentionVisitor, shards: int
) -> list[Diagnostic]:
    found = []
    for rule, tally in zip(rules, visitor.tallies, strict=True):
        where = f" (policies/retention.yaml line {rule.line})" if rule.line else ""
        if _over(rule, tally, shards):
            found.append(
                diagnostic(
                    DiagnosticCode.RETENTION_OVER_MAX_DELETES,
                    f"retention rule {rule.name}{where} would delete {tally.deletes:,} "
                    f"entries{_across(tally.deletes, shards)}, over its max_deletes of "
                    f"{rule.max_deletes:,}: none of its deletions are planned",
                    count=tally.deletes,
                    file="policies/retention.yaml",
                    line=rule.line,
                )
            )
        if tally.locked:
            shown = ", ".join(tally.locked_examples)
            more = _more(tally.locked, tally.locked_examples)
            found.append(
                diagnostic(
                    DiagnosticCode.LEFT_OUT_SESSION_LOCKED,
                    f"retention rule {rule.name}: {tally.locked:,} "
                    f"{'entry' if tally.locked == 1 else 'entries'} left out, held by a game "
                    f"server's session lock (MetaData.ActiveSession): {shown}{more}; the next "
                    "run retries them",
                    count=tally.locked,
                )
            )
        if tally.no_time:
            shown = ", ".join(tally.no_time_examples)
            more = _more(tally.no_time, tally.no_time_examples)
            looked = (
                "the last revision" if rule.timestamp is None else rule.timestamp or "the value"
            )
            found.append(
                diagnostic(
                    DiagnosticCode.RETENTION_NO_TIMESTAMP,
                    f"retention rule {rule.name}: {tally.no_time:,} "
                    f"{'entry' if tally.no_time == 1 else 'entries'} kept: no readable time at "
                    f"{looked}: "
                    f"{shown}{more}",
                    count=tally.no_time,
                    file="policies/retention.yaml",
                    line=rule.line,
                )
            )
        planned = 0 if _over(rule, tally, shards) else tally.deletes
        found.append(
            diagnostic(
                DiagnosticCode.RETENTION_SUMMARY,
                f"retention rule {rule.name} ({rule.describe()}): {tally.selected:,} "
                f"selected, {planned:,} deletions planned, ages measured from "
                f"{format_time(visitor.now)}",
                count=planned,
            )
        )
    return found


def _mass_deletes(
    changes: Sequence[Change],
    rules_of: Mapping[Address, RetentionRule],
    scanned: Mapping[str, int],
    declaration: Declaration | None,
    shards: int,
) -> list[Diagnostic]:
    """DSP003 per store, as ``dsgit plan`` does; the rules' ``max_deletes`` state the count.
    A shard plan counts its part times N against the thresholds (shards split by a stable
    hash), so N shard plans that each stay under the minimum cannot add up to a mass delete
    nobody was asked about."""
    by_store: dict[str, list[Address]] = defaultdict(list)
    for change in changes:
        by_store[_store_label(change.address)].append(change.address)
    found = []
    for label, addresses in sorted(by_store.items()):
        count = len(addresses)
        estimate = count * shards
        first = addresses[0]
        policy = _policy_for(declaration, Address(first.kind, first.store, first.scope, ""))
        seen = scanned.get(label, 0)
        share = count / seen if seen else None
        over_share = share is not None and share > policy.mass_delete_threshold
        if estimate < 2 or not (estimate >= policy.mass_delete_min or over_share):
            continue
        rules = {rules_of[a].name: rules_of[a] for a in addresses}
        stated = [rule.max_deletes for rule in rules.values()]
        reason = None
        total = sum(m for m in stated if m is not None)
        if all(m is not None for m in stated) and total >= estimate:
            names = ", ".join(sorted(rules))
            reason = f"max_deletes of retention rule {names} (policies/retention.yaml)"
        of = f" of {seen:,} scanned ({share:.0%})" if share is not None else ""
        found.append(
            diagnostic(
                DiagnosticCode.MASS_DELETE,
                f"{label}: this plan deletes {count:,} entr{'y' if count == 1 else 'ies'}"
                f"{of}{_across(count, shards)}; "
                "the threshold is "
                f"{policy.mass_delete_threshold:.0%} of the store or {policy.mass_delete_min} "
                "entries",
                count=count,
                store=label,
                fix="check the rules; set `max_deletes` on each rule deleting here (it states "
                "the count allowed), or `--allow DSP003:COUNT=REASON`",
                suppressed_reason=reason,
            )
        )
    return found


def _changes(
    records: Iterable[Any],
    rules: Sequence[RetentionRule],
    over: set[int],
    declaration: Declaration | None,
) -> tuple[list[Change], dict[Address, RetentionRule]]:
    changes: list[Change] = []
    rules_of: dict[Address, RetentionRule] = {}
    for record in records:
        index = int(record["rule"])
        if index in over:
            continue
        rule = rules[index]
        address = Address.parse(record["address"])
        live = _live_from_json(address, record["live"])
        chosen = diagnostic(
            DiagnosticCode.ENTRY_DELETE,
            f"{address}: deleted by retention rule {rule.name}",
            address=str(address),
            file="policies/retention.yaml",
            line=rule.line,
            suppressed_reason=f"retention rule {rule.name} (policies/retention.yaml)",
        )
        policy = _policy_for(declaration, address)
        changes.append(
            delete_change(address, live, policy, record["reason"], (chosen,), NoLedger())
        )
        rules_of[address] = rule
    changes.sort(key=lambda change: change_order(change.address))
    return changes, rules_of


@dataclass
class RetentionRun:
    """The plan, and the finished scan behind it: call :meth:`done` once the plan is saved
    (until then a rerun rebuilds the same plan from the finished checkpoint, reading nothing)."""

    plan: Plan
    scan: ScanResult

    def done(self) -> None:
        self.scan.discard()


def plan_retention(
    client: ScanClient,
    policy: RetentionPolicy,
    request: RetentionRequest,
    *,
    declaration: Declaration | None = None,
    observer: ScanObserver | None = None,
) -> RetentionRun:
    """Scan, decide and plan (see the module docstring). An interrupted scan keeps its
    checkpoint for the next run; a finished one is removed by :meth:`RetentionRun.done`."""
    rules = choose_rules(policy, request.rules)
    now = request.now or datetime.now(UTC)
    visitor = RetentionVisitor(rules, now, allow_locked=request.allow_locked, select=request.select)
    options = ScanOptions(
        shard=request.shard,
        checkpoint=request.checkpoint,
        every_entries=request.every_entries,
        every_seconds=request.every_seconds,
        identity={
            "command": "retention",
            "policy": policy.digest,
            "rules": [rule.name for rule in rules],
            "allow_locked": request.allow_locked,
            "targets": list(request.select.targets),
            "excludes": list(request.select.excludes),
            "environment": request.environment,
        },
        restart=request.restart,
        read_values=True,
    )
    result = run_scan(
        client, [rule.selection() for rule in rules], visitor, options, observer=observer
    )
    shards = request.shard.count if request.shard is not None else 1
    over = {
        index
        for index, (rule, tally) in enumerate(zip(rules, visitor.tallies, strict=True))
        if _over(rule, tally, shards)
    }
    changes, rules_of = _changes(result.records(), rules, over, declaration)
    diagnostics = _rule_diagnostics(rules, visitor, shards)
    diagnostics.extend(_mass_deletes(changes, rules_of, visitor.scanned, declaration, shards))
    diagnostics.sort(key=lambda d: (_RANK[d.severity], d.code, d.store or "", d.message))
    created = datetime.now(UTC)
    # The same for every shard of one run, so `dsgit plan combine` joins their plans.
    context = {
        "retention_policy": policy.digest,
        "rules": ",".join(rule.name for rule in rules),
    }
    unchanged = max(0, result.counters["visited"] - len(changes))
    plan = Plan(
        format_version=PLAN_FORMAT_VERSION,
        dsgit_version=__version__,
        kind=PlanKind.RETENTION,
        created=format_precise_time(created),
        expires=format_time(created + request.expires_in),
        environment=request.environment,
        universe_id=request.universe_id,
        source=declaration.source if declaration is not None else SourceInfo(None, True, ""),
        changes=tuple(changes),
        diagnostics=tuple(diagnostics),
        summary=summarize(tuple(changes), unchanged=unchanged),
        digest="",
        context=context,
    )
    return RetentionRun(with_digest(plan), result)
