"""Find one user's data in the live universe: what each template and rule selects, read.

Templates name their entries (a key template: one read; a whole-store template: the store's
listing, every scope), so they are read directly. Rules list their stores (globs against the
store listing; ``{UserId}`` expanded first) with the literal start of their key glob as the
listing's prefix, and read each selected entry. A failed listing or read raises: a read that
failed is never "nothing of the user there".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from dsgit.erasure.match import Decision, decide
from dsgit.erasure.policy import (
    ErasurePolicy,
    ErasureRule,
    KeyTemplate,
    StoreTemplate,
    expand,
)
from dsgit.model.entry import RESERVED_STORE, Address, LiveEntry, LiveOrderedEntry, StoreKind
from dsgit.plan.compare import live_data
from dsgit.remote.api import OpenCloudApi

__all__ = ["Found", "Survey", "collect"]

_GLOB = "*?["


@dataclass(frozen=True)
class Found:
    """One entry holding the user, and what erasing them does to it."""

    address: Address
    live: LiveEntry | LiveOrderedEntry
    decision: Decision
    source: str  # the template or rule, for the summary


@dataclass
class Survey:
    """What :func:`collect` read and found (the found entries by address, first decision wins
    unless a later one deletes what an earlier one only edits)."""

    found: dict[Address, Found] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)  # entries read per template/rule

    def add(self, item: Found) -> None:
        current = self.found.get(item.address)
        if current is None or (current.decision.after is not None and item.decision.after is None):
            self.found[item.address] = item


def _literal(pattern: str) -> str:
    cut = min((pattern.index(c) for c in _GLOB if c in pattern), default=len(pattern))
    return pattern[:cut]


def _is_glob(text: str) -> bool:
    return any(c in text for c in _GLOB)


class _Reader:
    def __init__(self, api: OpenCloudApi) -> None:
        self.api = api
        self._names: list[str] | None = None

    def store_names(self, pattern: str) -> list[str]:
        if not _is_glob(pattern):
            return [pattern] if pattern != RESERVED_STORE else []
        if self._names is None:
            self._names = sorted(
                info.id for info in self.api.list_data_stores(prefix=_literal(pattern) or None)
            )
        return [n for n in self._names if n != RESERVED_STORE and fnmatchcase(n, pattern)]

    def standard(self, store: str, scope: str, keys: str | None) -> Iterator[LiveEntry]:
        prefix = _literal(keys) if keys is not None else ""
        wanted = [
            (store, item.scope, item.key)
            for item in self.api.list_keys(store, scope, prefix=prefix or None)
            if keys is None or fnmatchcase(item.key, keys)
        ]
        for _, live in sorted(
            self.api.get_entries(wanted), key=lambda pair: (pair[0][1], pair[0][2])
        ):
            if live is not None:
                yield live

    def ordered(self, store: str, scope: str, keys: str | None) -> Iterator[LiveOrderedEntry]:
        for live in self.api.list_ordered(store, scope):
            if keys is None or fnmatchcase(live.key, keys):
                yield live


def _template(
    reader: _Reader, template: KeyTemplate | StoreTemplate, user: int
) -> Iterator[LiveEntry | LiveOrderedEntry]:
    if isinstance(template, StoreTemplate):
        yield from reader.standard(expand(template.store, user), "-", None)
        return
    store, scope, key = (expand(t, user) for t in (template.store, template.scope, template.key))
    if template.kind is StoreKind.ORDERED:
        ordered = reader.api.get_ordered(store, key, scope)
        if ordered is not None:
            yield ordered
        return
    live = reader.api.get_entry(store, key, scope)
    if live is not None:
        yield live


def _rule(reader: _Reader, rule: ErasureRule, user: int) -> Iterator[LiveEntry | LiveOrderedEntry]:
    keys = rule.keys_for(user)
    for store in reader.store_names(rule.store_for(user)):
        if rule.kind is StoreKind.ORDERED:
            yield from reader.ordered(store, rule.scope, keys)
        else:
            yield from reader.standard(store, rule.scope, keys)


def collect(
    api: OpenCloudApi,
    policy: ErasurePolicy,
    user: int,
    *,
    on_read: Callable[[int], None] = lambda count: None,
) -> Survey:
    """Every entry of ``user`` the policy's templates and rules find in ``api``'s universe."""
    survey = Survey()
    reader = _Reader(api)
    for template in policy.templates:
        label = template.describe()
        survey.read[label] = 0
        for live in _template(reader, template, user):
            survey.read[label] += 1
            on_read(1)
            survey.add(
                Found(live.address, live, Decision(None, f"{label}: the user's entry"), label)
            )
    for rule in policy.rules:
        label = f"rule {rule.name}"
        survey.read[label] = 0
        for live in _rule(reader, rule, user):
            survey.read[label] += 1
            on_read(1)
            decision = decide(rule, live_data(live), user)
            if decision is not None:
                survey.add(Found(live.address, live, decision, label))
    return survey
