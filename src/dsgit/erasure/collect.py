"""Find one user's data in the live universe: what each template and rule selects, read.

Key templates name one entry each: they are read directly (one read per template, by the
shard owning the key under ``--shard``). Everything else is one **live scan**
(:mod:`dsgit.scan`): each whole-store template and each rule is a selection (store globs
matched against the store listing, ``{UserId}`` expanded first, the literal start of a key
glob as the listing's prefix), so a ``users_metadata`` rule over ``store: "*"`` lists and
reads every entry once, with bounded memory, a checkpoint, ``--shard K/N`` and an ETA, like
retention and migrations.

:class:`ErasureVisitor` decides each entry where the scan reads it and emits a record only
for an entry holding the user: in a plan, the planned change itself, already masked (where the
user was, never what they held: a checkpoint's records hold no value of the user); in
``--verify``, the address. A failed listing or read raises (the checkpoint is kept): a read
that failed is never "nothing of the user there".
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from dsgit.erasure.match import Decision, decide
from dsgit.erasure.policy import ErasurePolicy, ErasureRule, KeyTemplate, StoreTemplate, expand
from dsgit.erasure.proof import hashed_user
from dsgit.model.entry import (
    RESERVED_STORE,
    Address,
    EntryData,
    JSONValue,
    LiveEntry,
    LiveOrderedEntry,
    StoreKind,
)
from dsgit.plan.compare import active_session, live_data
from dsgit.plan.io import change_to_dict
from dsgit.plan.model import Change
from dsgit.scan import (
    ALL_SCOPES,
    Emit,
    ScanClient,
    ScanEntry,
    ScanObserver,
    ScanOptions,
    ScanResult,
    Selection,
    Shard,
    run_scan,
)

__all__ = [
    "ErasureClient",
    "ErasureScan",
    "ErasureVisitor",
    "Found",
    "ScanSettings",
    "collect",
]

EXAMPLES = 5


class ErasureClient(ScanClient, Protocol):
    """The scan's client, and the two direct reads key templates need."""

    def get_ordered(
        self, store: str, key: str, scope: str = "global"
    ) -> LiveOrderedEntry | None: ...


@dataclass(frozen=True)
class Found:
    """One entry holding the user, and what erasing them does to it."""

    address: Address
    live: LiveEntry | LiveOrderedEntry
    decision: Decision
    source: str  # the template or rule, for the summary


@dataclass(frozen=True)
class ScanSettings:
    """How the scan runs (``dsgit erase``'s checkpoint options and ``--shard``)."""

    checkpoint: Path | None = None
    restart: bool = False
    every_entries: int = 1000
    every_seconds: float = 30.0
    shard: Shard | None = None
    count_ahead: bool = True


ChangeOf = Callable[[Found, bool], Change]


class ErasureVisitor:
    """Decides each scanned entry (see the module docstring); its tallies are checkpointed.

    ``change_of`` given (a plan): an entry held by a session lock is counted and left out
    unless ``allow_locked``; every other finding is emitted as ``{"change": ...}``. Without it
    (``--verify``) every finding, held or not, is emitted as ``{"address": ...}``.
    """

    def __init__(
        self,
        labels: Sequence[str],
        rules: Sequence[ErasureRule | None],
        user: int,
        *,
        change_of: ChangeOf | None,
        allow_locked: bool = False,
        skip: frozenset[Address] = frozenset(),
    ) -> None:
        self.labels = tuple(labels)
        self.rules = tuple(rules)
        self.user = user
        self.change_of = change_of
        self.allow_locked = allow_locked
        self.skip = skip  # found by a key template already (it decides them)
        self.read = [0] * len(labels)
        self.found = 0
        self.locked = 0
        self.locked_examples: list[str] = []

    def decision(self, entry: ScanEntry) -> tuple[Decision, str] | None:
        """What the selections that matched ``entry`` do to it, in file order: the first
        deletion ends it; edits chain (each rule removes the user from what the last left)."""
        assert entry.live is not None
        current: EntryData = live_data(entry.live)
        whys: list[str] = []
        source: str | None = None
        for index in sorted(entry.selections):
            rule = self.rules[index]
            if rule is None:
                decided: Decision | None = Decision(None, f"{self.labels[index]}: the user's entry")
            else:
                decided = decide(rule, current, self.user)
            if decided is None:
                continue
            source = source or self.labels[index]
            if decided.after is None:
                return decided, source
            current = decided.after
            whys.append(decided.why)
        if source is None:
            return None
        return Decision(current, "; ".join(whys)), source

    def visit(self, entry: ScanEntry, emit: Emit) -> None:
        for index in entry.selections:
            self.read[index] += 1
        if entry.live is None or entry.address in self.skip:
            return
        decided = self.decision(entry)
        if decided is None:
            return
        decision, source = decided
        found = Found(entry.address, entry.live, decision, source)
        self.found += 1
        if self.change_of is None:
            emit({"address": str(entry.address)})
            return
        held = entry.kind is StoreKind.STANDARD and active_session(entry.value)
        if held and not self.allow_locked:
            self.locked += 1
            address = str(entry.address)
            # The smallest addresses: the examples do not depend on the order of reads.
            if len(self.locked_examples) < EXAMPLES or address < self.locked_examples[-1]:
                bisect.insort(self.locked_examples, address)
                del self.locked_examples[EXAMPLES:]
            return
        emit({"change": change_to_dict(self.change_of(found, held))})

    def snapshot(self) -> JSONValue:
        return {
            "read": list(self.read),
            "found": self.found,
            "locked": self.locked,
            "locked_examples": list(self.locked_examples),
        }

    def restore(self, state: JSONValue) -> None:
        assert isinstance(state, dict)
        read = state["read"]
        assert isinstance(read, list) and len(read) == len(self.labels)
        self.read = [int(n) for n in read]  # type: ignore[arg-type]
        self.found = int(state["found"])  # type: ignore[arg-type]
        self.locked = int(state["locked"])  # type: ignore[arg-type]
        examples = state["locked_examples"]
        assert isinstance(examples, list)
        self.locked_examples = [str(a) for a in examples]


@dataclass
class ErasureScan:
    """What :func:`collect` read and found: the key templates' entries (few, in memory) and
    the finished scan (its findings streamed from disk by :meth:`records`)."""

    direct: dict[Address, Found]
    direct_read: dict[str, int]
    visitor: ErasureVisitor
    scan: ScanResult

    @property
    def read(self) -> dict[str, int]:
        """Entries read per template and rule (a label may be several selections' sum)."""
        counts = dict(self.direct_read)
        for label, count in zip(self.visitor.labels, self.visitor.read, strict=True):
            counts[label] = counts.get(label, 0) + count
        return counts

    def records(self) -> Iterator[Any]:
        return self.scan.records()

    def done(self) -> None:
        """Remove the scan's checkpoint and records (once the plan or the proof is out)."""
        self.scan.discard()

    def close(self) -> None:
        self.scan.close()


def _read_template(
    client: ErasureClient, template: KeyTemplate, user: int
) -> LiveEntry | LiveOrderedEntry | None:
    store, scope, key = (expand(t, user) for t in (template.store, template.scope, template.key))
    if store == RESERVED_STORE:
        return None
    if template.kind is StoreKind.ORDERED:
        return client.get_ordered(store, key, scope)
    return client.get_entry(store, key, scope)


def _selections(
    policy: ErasurePolicy, user: int
) -> tuple[list[Selection], list[str], list[ErasureRule | None]]:
    selections: list[Selection] = []
    labels: list[str] = []
    rules: list[ErasureRule | None] = []
    for template in policy.templates:
        if isinstance(template, StoreTemplate):
            selections.append(Selection((expand(template.store, user),), scopes=(ALL_SCOPES,)))
            labels.append(template.describe())
            rules.append(None)
    for rule in policy.rules:
        selections.append(
            Selection(
                (rule.store_for(user),),
                kind=rule.kind,
                scopes=(rule.scope,),
                keys=rule.keys_for(user),
            )
        )
        labels.append(f"rule {rule.name}")
        rules.append(rule)
    return selections, labels, rules


def collect(
    client: ErasureClient,
    policy: ErasurePolicy,
    user: int,
    *,
    salt: str,
    environment: str,
    settings: ScanSettings | None = None,
    change_of: ChangeOf | None = None,
    allow_locked: bool = False,
    observer: ScanObserver | None = None,
) -> ErasureScan:
    """Every entry of ``user`` the policy's templates and rules find in ``client``'s universe
    (this shard's, with ``settings.shard``); see the module docstring."""
    settings = settings or ScanSettings()
    shard = settings.shard
    direct: dict[Address, Found] = {}
    direct_read: dict[str, int] = {}
    for template in policy.templates:
        if not isinstance(template, KeyTemplate):
            continue
        label = template.describe()
        direct_read.setdefault(label, 0)
        if shard is not None and not shard.owns(
            template.kind.value,
            expand(template.store, user),
            expand(template.scope, user),
            expand(template.key, user),
        ):
            continue
        live = _read_template(client, template, user)
        if live is None:
            continue
        direct_read[label] += 1
        if live.address not in direct:
            why = f"{label}: the user's entry"
            direct[live.address] = Found(live.address, live, Decision(None, why), label)
    selections, labels, rules = _selections(policy, user)
    visitor = ErasureVisitor(
        labels,
        rules,
        user,
        change_of=change_of,
        allow_locked=allow_locked,
        skip=frozenset(direct),
    )
    options = ScanOptions(
        shard=shard,
        checkpoint=settings.checkpoint,
        every_entries=settings.every_entries,
        every_seconds=settings.every_seconds,
        restart=settings.restart,
        count_ahead=settings.count_ahead,
        identity={
            "command": "erase" if change_of is not None else "erase --verify",
            "user": hashed_user(salt, user),  # never the id in clear
            "policy": policy.digest,
            "allow_locked": allow_locked,
            "environment": environment,
        },
    )
    result = run_scan(client, selections, visitor, options, observer=observer)
    return ErasureScan(direct, direct_read, visitor, result)
