"""``dsgit plan combine``: join shard plans into one segmented plan (docs/plan-format.md).

N jobs each plan one shard (``--shard K/N``); their plans join into one manifest that is
reviewed, approved and applied as one digest. The shard plans must be of one plan: the same
kind, environment, universe, source (commit, dirty flag, declaration digest and slice), dsgit
version and approvals stamp — else nothing is written and the error names the field and both
files. Their changes are merged in the canonical order, streaming (one segment of each input
in memory): two changes of one address (overlapping shards, or the same plan twice) are
refused, naming the address and both files. Each shard plan names its shard (context
``shard: K/N``): the inputs must be every shard of one N exactly once (a missing, repeated or
mixed-N shard is refused), so one approved digest is never a part passed off as the whole; the
combined plan records ``shards: N``.

The combined plan was *made* when its oldest shard was (``created``: any revision newer than
the oldest read is a conflict at apply, never an overwrite) and expires with the first to
expire; its plan-level diagnostics are those of every shard (each once), its authors those of
every shard (none of them may approve it). The lists of :data:`UNION_KEYS` differ by shard (an
erasure shard lists the ledger records of the entries it plans): they are joined.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path

from dsgit.approvals.authors import decode_authors, encode_authors
from dsgit.approvals.stamp import AUTHORS_KEY
from dsgit.errors import ConfigError, Location
from dsgit.ledger.canonical import canonical_json
from dsgit.model.shard import Shard
from dsgit.plan.io import with_digest
from dsgit.plan.model import Allowance, Change, Diagnostic, Plan, parse_time, summarize
from dsgit.plan.segments import (
    COMBINED_KEY,
    DEFAULT_SEGMENT_SIZE,
    SHARD_KEY,
    Manifest,
    change_order,
)
from dsgit.planfile.read import SegmentedPlan
from dsgit.planfile.write import SegmentWriter, write_plan

__all__ = ["UNION_KEYS", "ShardPlan", "combine_plans"]

# Context keys holding JSON lists that shards of one plan may differ in: the combined plan holds
# their union (an erasure's ledger redactions, docs/ledger.md#redaction).
UNION_KEYS = ("redact_ledger",)


@dataclass(frozen=True)
class ShardPlan:
    """One input: a plan file as read, and where it came from."""

    path: Path
    plan: Plan | SegmentedPlan

    @property
    def header(self) -> Plan:
        return self.plan.header if isinstance(self.plan, SegmentedPlan) else self.plan

    def changes(self) -> Iterator[Change]:
        """The changes in canonical order (a segmented plan's already are)."""
        if isinstance(self.plan, SegmentedPlan):
            return self.plan.changes()
        return iter(sorted(self.plan.changes, key=change_order))

    def unchanged(self) -> int:
        """No-ops the summary counts that are not changes (entries compared equal)."""
        header = self.header
        listed = (
            sum(1 for c in header.changes if c.is_noop)
            if not isinstance(self.plan, SegmentedPlan)
            else 0
        )
        return max(header.summary.get("no-op", 0) - listed, 0)


def _identity(plan: Plan) -> dict[str, object]:
    """What must be equal in every shard plan of one plan."""
    return {
        "kind": plan.kind,
        "environment": plan.environment,
        "universe_id": plan.universe_id,
        "source": (plan.source.commit, plan.source.dirty, plan.source.digest),
        "source.slice": plan.declaration_slice.digest if plan.declaration_slice else None,
        "dsgit_version": plan.dsgit_version,
        "context": {
            k: v for k, v in plan.context.items() if k not in (AUTHORS_KEY, SHARD_KEY, *UNION_KEYS)
        },
    }


def _describe(value: object) -> str:
    """A field's value as a person reads it (no Python reprs of enums, tuples or dicts)."""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return ", ".join(_describe(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_describe(v)}" for k, v in value.items()) or "(none)"
    return "(none)" if value is None else str(value)


def _complete(inputs: Sequence[ShardPlan]) -> int | None:
    """The N of the shard plans, checked to be every shard 1..N exactly once; None when no
    input names its shard (plans from before shard plans did). ``ConfigError`` otherwise."""
    shards: dict[int, Path] = {}
    count: int | None = None
    for item in inputs:
        text = item.header.context.get(SHARD_KEY)
        where = Location(str(item.path), field=f"context.{SHARD_KEY}")
        if text is None:
            if any(SHARD_KEY in other.header.context for other in inputs):
                raise ConfigError(
                    "this plan is not a shard plan (made without --shard) but the others "
                    "are: combine only the shard plans of one --shard K/N run",
                    where,
                )
            return None
        shard = Shard.parse(text)
        if count is not None and shard.count != count:
            raise ConfigError(
                f"this is shard {shard} but the others are of {count} shards: combine the "
                "plans of one --shard K/N run",
                where,
            )
        count = shard.count
        if shard.index in shards:
            raise ConfigError(
                f"shard {shard} is given twice (here and in {shards[shard.index]})", where
            )
        shards[shard.index] = item.path
    assert count is not None
    missing = [str(k) for k in range(1, count + 1) if k not in shards]
    if missing:
        raise ConfigError(
            f"shard {', '.join(f'{k}/{count}' for k in missing)} of {count} is missing: "
            f"combine all {count} shard plans, or the approved plan would cover only part of "
            "the entries; nothing was written",
            Location(str(inputs[0].path), field=f"context.{SHARD_KEY}"),
        )
    return count


def _same(inputs: Sequence[ShardPlan]) -> None:
    first = inputs[0]
    expected = _identity(first.header)
    for other in inputs[1:]:
        for name, theirs in _identity(other.header).items():
            mine = expected[name]
            if mine != theirs:
                raise ConfigError(
                    f"the shard plans are not of one plan: {name} is {_describe(theirs)} here "
                    f"but {_describe(mine)} in {first.path}; plan every shard from the same "
                    "commit for the same environment",
                    Location(str(other.path), field=name),
                )


def _merged(inputs: Sequence[ShardPlan]) -> Iterator[Change]:
    """Every change in canonical order; ``ConfigError`` on two changes of one address."""
    streams = [
        ((change_order(change), index, change) for change in item.changes())
        for index, item in enumerate(inputs)
    ]
    previous: tuple[str, int] | None = None
    for (_, address), index, change in heapq.merge(*streams, key=lambda t: (t[0], t[1])):
        if previous is not None and previous[0] == address:
            raise ConfigError(
                f"{address} is in two shard plans ({inputs[previous[1]].path} and this one): "
                "the shards overlap (made with different --shard counts, or one plan given "
                "twice); nothing was written",
                Location(str(inputs[index].path)),
            )
        previous = (address, index)
        yield change


def _diagnostics(inputs: Sequence[ShardPlan]) -> tuple[Diagnostic, ...]:
    found: dict[Diagnostic, None] = {}
    for item in inputs:
        found.update(dict.fromkeys(item.header.diagnostics))
    return tuple(found)


def _allowed(inputs: Sequence[ShardPlan]) -> tuple[Allowance, ...]:
    first = inputs[0].header.allowed
    if all(item.header.allowed == first for item in inputs):
        return first  # given once for the whole plan (and counted there)
    merged: dict[tuple[str, str, int | None], int] = {}
    for item in inputs:
        for allowance in item.header.allowed:
            key = (allowance.code, allowance.reason, allowance.count)
            merged[key] = merged.get(key, 0) + allowance.matched
    return tuple(Allowance(code, reason, count, n) for (code, reason, count), n in merged.items())


def _union(lists: Sequence[list[dict[str, object]]]) -> str:
    """The items of every list once; one item listed by several shards with different
    ``fields`` (a record one shard redacts whole, another only in part) holds them all."""
    items: dict[str, dict[str, object]] = {}
    for listed in lists:
        for item in listed:
            key = canonical_json({k: v for k, v in item.items() if k != "fields"})
            known = items.setdefault(key, dict(item))
            fields = item.get("fields")
            if isinstance(fields, list):
                had = known.get("fields")
                merged = set(had) if isinstance(had, list) else set()
                known["fields"] = sorted(merged | {str(f) for f in fields})
    return json.dumps([items[k] for k in sorted(items)], sort_keys=True)


def _header(inputs: Sequence[ShardPlan], count: int | None) -> Plan:
    headers = [item.header for item in inputs]
    oldest = min(headers, key=lambda p: parse_time(p.created))
    first_to_expire = min(headers, key=lambda p: parse_time(p.expires))
    context = {k: v for k, v in oldest.context.items() if k != SHARD_KEY}
    if count is not None:
        context[COMBINED_KEY] = str(count)
    for key in UNION_KEYS:
        if any(key in p.context for p in headers):
            context[key] = _union([json.loads(h.context.get(key, "[]")) for h in headers])
    if any(AUTHORS_KEY in p.context for p in headers):
        authors: set[str] = set()
        for header in headers:
            authors |= decode_authors(header.context.get(AUTHORS_KEY))
        context[AUTHORS_KEY] = encode_authors(frozenset(authors))
    return replace(
        oldest,
        expires=first_to_expire.expires,
        changes=(),
        diagnostics=_diagnostics(inputs),
        allowed=_allowed(inputs),
        context=context,
    )


def combine_plans(
    inputs: Sequence[ShardPlan], out: Path, *, segment_size: int = DEFAULT_SEGMENT_SIZE
) -> Plan | Manifest:
    """Join ``inputs`` into one segmented plan at ``out``; nothing is written on error.

    Shard plans without a single change combine into an ordinary plan of no changes."""
    if not inputs:
        raise ValueError("combine needs at least one shard plan")
    for item in inputs:
        if isinstance(item.plan, SegmentedPlan):
            item.plan.verify()
    _same(inputs)
    header = _header(inputs, _complete(inputs))
    unchanged = sum(item.unchanged() for item in inputs)
    with SegmentWriter(out, segment_size=segment_size) as writer:
        for change in _merged(inputs):
            writer.add(change)
        if writer.count == 0:
            summary = {**summarize(()), "no-op": unchanged}
            return write_plan(out, with_digest(replace(header, summary=summary)))
        return writer.finish(header, unchanged=unchanged)
