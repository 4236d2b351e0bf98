"""Per-store figures of a scan, accumulated one live entry at a time (memory bounded in the
number of keys: reservoirs, top-k heaps and capped example lists).

:class:`StoreFigures` is the builder; :meth:`StoreFigures.summary` freezes it into a
:class:`StoreSummary` that the renderers (text, JSON, HTML) read.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from jsonschema.protocols import Validator

from dsgit.insight.conformance import violations
from dsgit.insight.pii import find_pii
from dsgit.insight.stats import Outlier, Reservoir, SizeHistogram, robust_outliers
from dsgit.insight.walk import leaves
from dsgit.model.entry import JSONValue, LiveEntry
from dsgit.model.limits import MAX_VALUE_CHARS, encoded_length
from dsgit.model.sessions import session_lock
from dsgit.plan.masking import PointerPatterns
from dsgit.plan.model import parse_time

__all__ = [
    "NEAR_LIMIT_SHARE",
    "Examples",
    "FieldOutliers",
    "KeyRules",
    "Settings",
    "StoreFigures",
    "StoreSummary",
]

NEAR_LIMIT_SHARE = 0.9  # a value at 90 % of the 4 MB limit is "near" it
EXAMPLES = 3  # example keys kept per finding
_MAX_FIELDS = 500  # numeric pointers followed per store
_TOP = 5  # candidate outliers kept per pointer
_REFERENCE = 2_000  # reference values kept per pointer for the median and MAD


@dataclass(frozen=True)
class KeyRules:
    """What applies to one key: its schema's validator (None: no schema) and the pointers
    whose values are never inspected (sensitive or encrypted)."""

    validator: Validator | None
    sensitive: PointerPatterns


@dataclass(frozen=True)
class Settings:
    """What a scan looks for: the stale age, the time it runs at, the share of the limit."""

    now: datetime
    stale_days: int = 365
    near_limit: float = NEAR_LIMIT_SHARE


@dataclass
class Examples:
    """A count and the first few keys it was seen in."""

    count: int = 0
    keys: list[str] = field(default_factory=list)

    def to_state(self) -> list[Any]:
        return [self.count, self.keys]

    @classmethod
    def from_state(cls, state: list[Any]) -> Examples:
        return cls(int(state[0]), [str(key) for key in state[1]])

    def add(self, key: str) -> None:
        """Count one more; keep the smallest keys, so examples do not depend on read order."""
        self.count += 1
        if len(self.keys) < EXAMPLES or key < self.keys[-1]:
            bisect.insort(self.keys, key)
            del self.keys[EXAMPLES:]


@dataclass
class _Numbers:
    count: int = 0
    reference: Reservoir[float] | None = None
    top: list[tuple[float, str]] = field(default_factory=list)  # min-heap of the largest

    def to_state(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "reference": self.reference.to_state() if self.reference is not None else None,
            "top": [list(item) for item in self.top],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], seed: str) -> _Numbers:
        numbers = cls(int(state["count"]), None, [(float(v), str(k)) for v, k in state["top"]])
        heapq.heapify(numbers.top)
        if state["reference"] is not None:
            numbers.reference = Reservoir(_REFERENCE, seed=seed)
            numbers.reference.restore(state["reference"])
        return numbers

    def add(self, value: float, key: str, seed: str) -> None:
        if self.reference is None:
            self.reference = Reservoir(_REFERENCE, seed=seed)
        self.count += 1
        self.reference.add(value, key)
        item = (value, key)
        if len(self.top) < _TOP:
            heapq.heappush(self.top, item)
        elif item > self.top[0]:
            heapq.heapreplace(self.top, item)


@dataclass(frozen=True)
class FieldOutliers:
    pointer: str
    values: int
    outliers: tuple[Outlier, ...]


@dataclass(frozen=True)
class StoreSummary:
    """Everything a scan found in one store (frozen; renderers read only this)."""

    store: str
    scope: str
    keys: int  # listed
    read: int  # entries read (all of them, or the sample)
    sampled: bool
    sizes: SizeHistogram
    near_limit: tuple[tuple[str, int], ...]  # (key, size), largest first
    near_limit_count: int
    stale: Examples
    oldest: tuple[tuple[str, str], ...]  # (key, last revision time), oldest first
    schema: str | None
    conforming: int | None  # None when no entry read has a schema
    checked: int  # entries read that have a schema (all of them, unless overrides differ)
    violations: Mapping[tuple[str, str, str], Examples]  # (pointer, keyword, expected)
    outliers: tuple[FieldOutliers, ...]
    pii: Mapping[tuple[str, str], Examples]  # (kind, pointer)
    locks: Examples
    with_users: int
    last_writes: Mapping[str, int]  # YYYY-MM-DD -> entries last written that day
    missing: int  # listed but gone when read (deleted meanwhile)

    @property
    def estimated_bytes(self) -> int:
        """Total encoded size of the store's latest values (scaled up from a sample)."""
        if not self.read:
            return 0
        if not self.sampled:
            return self.sizes.total
        return round(self.sizes.total * (self.keys / self.read))

    @property
    def conformance(self) -> float | None:
        if self.conforming is None or not self.checked:
            return None
        return self.conforming / self.checked


class StoreFigures:
    """The builder: feed it every entry read (:meth:`add`), then take :meth:`summary`."""

    def __init__(
        self,
        store: str,
        scope: str,
        settings: Settings,
        *,
        validator: Validator | None = None,
        schema: str | None = None,
        sensitive: PointerPatterns | None = None,
        rules: Callable[[str], KeyRules] | None = None,
    ) -> None:
        self.store = store
        self.scope = scope
        self.settings = settings
        # Per key: its schema and sensitive pointers (a store's overrides may differ per key).
        fixed = KeyRules(validator, sensitive or PointerPatterns(()))
        self.rules = rules or (lambda key: fixed)
        self.schema = schema
        self.checked = 0
        self.keys = 0
        self.read = 0
        self.missing = 0
        self.sampled = False
        self.sizes = SizeHistogram(seed=store)
        self._near: list[tuple[int, str]] = []
        self.near_count = 0
        self.stale = Examples()
        self._oldest: list[tuple[float, str, str]] = []  # max-heap by negated time
        self.conforming = 0
        self.violations: dict[tuple[str, str, str], Examples] = {}
        self._numbers: dict[str, _Numbers] = {}
        self.pii: dict[tuple[str, str], Examples] = {}
        self.locks = Examples()
        self.with_users = 0
        self.last_writes: dict[str, int] = {}
        self._cutoff = settings.now - timedelta(days=settings.stale_days)

    def add(self, entry: LiveEntry) -> None:
        key = entry.key
        self.read += 1
        size = encoded_length(entry.value)
        self.sizes.add(size, key)
        if size >= self.settings.near_limit * MAX_VALUE_CHARS:
            self.near_count += 1
            heapq.heappush(self._near, (size, key))
            if len(self._near) > 20:
                heapq.heappop(self._near)
        self._revision_time(entry)
        if entry.users:
            self.with_users += 1
        rules = self.rules(key)
        if rules.validator is not None:
            self.checked += 1
            found = list(violations(rules.validator, entry.value))
            if not found:
                self.conforming += 1
            for violation in found:
                at = (violation.pointer, violation.keyword, violation.expected)
                self.violations.setdefault(at, Examples()).add(key)
        for finding in find_pii(entry.value, has_users=bool(entry.users)):
            self.pii.setdefault((str(finding.kind), finding.pointer), Examples()).add(key)
        if session_lock(entry.value) is not None:
            self.locks.add(key)
        self._add_numbers(entry.value, key, rules.sensitive)

    def _revision_time(self, entry: LiveEntry) -> None:
        try:
            written = parse_time(entry.revision_create_time)
        except ValueError:
            return
        day = written.strftime("%Y-%m-%d")
        self.last_writes[day] = self.last_writes.get(day, 0) + 1
        if written < self._cutoff:
            self.stale.add(entry.key)
        item = (-written.timestamp(), entry.key, entry.revision_create_time)
        if len(self._oldest) < EXAMPLES:
            heapq.heappush(self._oldest, item)
        elif item > self._oldest[0]:
            heapq.heapreplace(self._oldest, item)

    def _add_numbers(self, value: JSONValue, key: str, sensitive: PointerPatterns) -> None:
        masked = sensitive.mask(value) if sensitive else value
        for pointer, leaf in leaves(masked):
            if isinstance(leaf, bool) or not isinstance(leaf, int | float):
                continue
            numbers = self._numbers.get(pointer)
            if numbers is None:
                if len(self._numbers) >= _MAX_FIELDS:
                    continue
                numbers = self._numbers[pointer] = _Numbers()
            numbers.add(float(leaf), key, f"{self.store}{pointer}")

    # --- checkpoints: a killed scan resumes with the figures it had ---------------------
    def to_state(self) -> dict[str, Any]:
        """Everything counted so far, as JSON (saved in the scan's checkpoint)."""
        return {
            "read": self.read,
            "sizes": self.sizes.to_state(),
            "near": [list(item) for item in self._near],
            "near_count": self.near_count,
            "stale": self.stale.to_state(),
            "oldest": [list(item) for item in self._oldest],
            "conforming": self.conforming,
            "checked": self.checked,
            "violations": [[*at, found.to_state()] for at, found in self.violations.items()],
            "numbers": {pointer: n.to_state() for pointer, n in self._numbers.items()},
            "pii": [[*at, found.to_state()] for at, found in self.pii.items()],
            "locks": self.locks.to_state(),
            "with_users": self.with_users,
            "last_writes": self.last_writes,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.read = int(state["read"])
        self.sizes.restore(state["sizes"])
        self._near = [(int(size), str(key)) for size, key in state["near"]]
        heapq.heapify(self._near)
        self.near_count = int(state["near_count"])
        self.stale = Examples.from_state(state["stale"])
        self._oldest = [(float(t), str(k), str(text)) for t, k, text in state["oldest"]]
        heapq.heapify(self._oldest)
        self.conforming, self.checked = int(state["conforming"]), int(state["checked"])
        self.violations = {
            (str(p), str(w), str(e)): Examples.from_state(found)
            for p, w, e, found in state["violations"]
        }
        self._numbers = {
            pointer: _Numbers.from_state(raw, f"{self.store}{pointer}")
            for pointer, raw in state["numbers"].items()
        }
        self.pii = {(str(k), str(p)): Examples.from_state(found) for k, p, found in state["pii"]}
        self.locks = Examples.from_state(state["locks"])
        self.with_users = int(state["with_users"])
        self.last_writes = {str(day): int(n) for day, n in state["last_writes"].items()}

    def summary(self) -> StoreSummary:
        outliers = []
        for pointer, numbers in sorted(self._numbers.items()):
            reference = numbers.reference.items if numbers.reference is not None else []
            found = robust_outliers(reference, ((key, value) for value, key in numbers.top))
            if found:
                outliers.append(FieldOutliers(pointer, numbers.count, tuple(found)))
        return StoreSummary(
            store=self.store,
            scope=self.scope,
            keys=self.keys,
            read=self.read,
            sampled=self.sampled,
            sizes=self.sizes,
            near_limit=tuple((key, size) for size, key in sorted(self._near, reverse=True)),
            near_limit_count=self.near_count,
            stale=self.stale,
            oldest=tuple((key, time) for _, key, time in sorted(self._oldest, reverse=True)),
            schema=self.schema,
            conforming=self.conforming if self.checked else None,
            checked=self.checked,
            violations=dict(sorted(self.violations.items(), key=lambda kv: -kv[1].count)),
            outliers=tuple(outliers),
            pii=dict(sorted(self.pii.items())),
            locks=self.locks,
            with_users=self.with_users,
            last_writes=dict(sorted(self.last_writes.items())),
            missing=self.missing,
        )
