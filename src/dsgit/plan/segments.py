"""Segmented plans, as values: a manifest and its JSON Lines segments (docs/plan-format.md).

A plan with more changes than fit comfortably in one document is written as a **manifest** —
the usual header (kind, times, environment, universe, source, context, allowances), the plan-
level diagnostics, the summary, and one reference per segment (file, sha256 digest, count,
first and last address) — plus **segments**: files of one change per line, each line the
canonical JSON a single plan's ``changes`` array holds. The manifest's ``digest`` covers its
body, hence every segment's digest: it is the one digest shown, approved and applied.

Changes are in one canonical order (:func:`change_order`: every write before every delete,
then by address), so the same change set gives the same segments whoever wrote it — one
process, or N shards combined — and :func:`change_set_digest` (the sha256 of every change line
in that order) names the change set independently of how it was cut into segments.

This module is pure (bytes in, bytes out); :mod:`dsgit.planfile` reads and writes the files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, assert_never, cast

from dsgit.errors import ConfigError, Location
from dsgit.model.entry import EntryData, JSONValue
from dsgit.model.shard import Shard
from dsgit.plan.digest import canonical_json, sha256_digest
from dsgit.plan.io import (
    change_from_dict,
    change_to_dict,
    check_exact,
    plan_body,
    plan_from_dict,
    plan_schema,
    with_digest,
)
from dsgit.plan.model import (
    Action,
    Change,
    CreateChange,
    DeleteChange,
    IncrementChange,
    NoopChange,
    Plan,
    UpdateChange,
    summarize,
)

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from referencing import Registry

__all__ = [
    "COMBINED_KEY",
    "DEFAULT_SEGMENT_SIZE",
    "SHARD_KEY",
    "WITHHELD",
    "Manifest",
    "SegmentRef",
    "change_from_line",
    "change_line",
    "change_order",
    "change_set_digest",
    "is_manifest",
    "manifest_from_json",
    "manifest_to_json",
    "of_shard",
    "review_change",
]

DEFAULT_SEGMENT_SIZE = 5_000
"""Changes per segment, and the most a plan holds in one document before it is segmented.

A change in a plan of player profiles is a few KB in memory (the value, its diff, the
precondition): 5,000 of them are tens of MB, where a 100,000-change document is ~420 MB."""

_SEGMENT_FIELDS = ("file", "digest", "changes", "first", "last")


@dataclass(frozen=True)
class SegmentRef:
    """One segment as the manifest names it: ``file`` relative to the manifest's folder."""

    file: str
    digest: str
    changes: int
    first: str
    last: str

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "file": self.file,
            "digest": self.digest,
            "changes": self.changes,
            "first": self.first,
            "last": self.last,
        }


@dataclass(frozen=True)
class Manifest:
    """A segmented plan: ``header`` is the plan without its changes (``header.digest`` is the
    manifest's digest), ``segments`` in change order, ``change_set_digest`` over all lines."""

    header: Plan
    segments: tuple[SegmentRef, ...]
    change_set_digest: str

    @property
    def digest(self) -> str:
        return self.header.digest

    @property
    def total_changes(self) -> int:
        return sum(segment.changes for segment in self.segments)


def change_order(change: Change) -> tuple[int, str]:
    """The canonical order: writes (create, update, increment, no-op) first, deletes last (a
    rename's create lands before its delete), then by plan address."""
    return (1 if change.action is Action.DELETE else 0, str(change.address))


def change_line(change: Change) -> bytes:
    """The segment line of one change: its canonical JSON and a newline."""
    return canonical_json(change_to_dict(change)) + b"\n"


def change_set_digest(lines: Iterable[bytes]) -> str:
    """``sha256:<hex>`` over the change lines in canonical order (see :func:`sorted_lines`)."""
    hasher = hashlib.sha256()
    for line in lines:
        hasher.update(line)
    return "sha256:" + hasher.hexdigest()


def sorted_lines(changes: Iterable[Change]) -> list[bytes]:
    """Every change's line, in canonical order (for a plan held in memory)."""
    return [change_line(change) for change in sorted(changes, key=change_order)]


@cache
def _registry() -> Registry[Any]:
    from referencing import Registry, Resource

    schema = plan_schema()
    registry: Registry[Any] = Registry().with_resource(
        schema["$id"], Resource.from_contents(schema)
    )
    return registry


@cache
def manifest_schema() -> dict[str, Any]:
    """``dsgit/schemas/plan-manifest.schema.json``, shipped as package data."""
    text = resources.files("dsgit").joinpath("schemas/plan-manifest.schema.json").read_text()
    return cast(dict[str, Any], json.loads(text))


@cache
def _manifest_validator() -> Draft202012Validator:
    # Loaded when a plan file is read, not when the core is imported (as plan.io does).
    from jsonschema import Draft202012Validator

    return Draft202012Validator(manifest_schema(), registry=_registry())


@cache
def _change_validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    schema = plan_schema()
    change = {"$schema": schema["$schema"], "$defs": schema["$defs"], **schema["$defs"]["change"]}
    return Draft202012Validator(change)


def change_from_line(line: bytes, source: str, number: int) -> Change:
    """One segment line as a change; ``ConfigError`` naming ``source:number`` when it is not.

    The line's bytes were checked against the segment's digest, which the manifest's digest
    covers, so they are what dsgit wrote: the change is built directly, and only a line that
    does not convert is checked against the schema, for a message naming the field (a schema
    check of every line would cost more than the apply's own work per change).
    """
    try:
        raw = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"segment line is not JSON: {exc}", Location(source, number)) from None
    try:
        if not isinstance(raw, dict):
            raise TypeError("not an object")
        return change_from_dict(raw, source, f"line {number}")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        failure = exc
    errors = sorted(_change_validator().iter_errors(raw), key=lambda err: list(err.absolute_path))
    if errors:
        first = errors[0]
        pointer = "/" + "/".join(str(part) for part in first.absolute_path)
        message = f"invalid change: {first.message}"
        raise ConfigError(message, Location(source, number, field=pointer))
    raise ConfigError(f"invalid change: {failure}", Location(source, number))


def of_shard(plan: Plan, shard: Shard) -> Plan:
    """The plan's changes of ``shard`` (by a stable hash of each address), its summary counting
    them, its context naming the shard (``shard: K/N``, so ``plan combine`` can tell a missing or
    repeated shard), its digest new; plan-level diagnostics stay (they are about stores, not
    shards)."""
    changes = tuple(c for c in plan.changes if shard.holds(c.address))
    context = {**plan.context, SHARD_KEY: str(shard)}
    return with_digest(replace(plan, changes=changes, summary=summarize(changes), context=context))


SHARD_KEY = "shard"
"""The plan context key of a shard plan: ``K/N``."""
COMBINED_KEY = "shards"
"""The plan context key of a combined plan: ``N``, the number of shards it joins (all of them)."""


WITHHELD = EntryData({"$dsgit": "withheld: a review of a segmented plan carries no values"})
"""The one ``after`` of every review change that writes (one object, so no memory per change);
apply refuses a change holding it (:func:`dsgit.apply.run.prepare_steps`)."""


def review_change(change: Change) -> Change:
    """What approvals and checks read of a change: its kind, address, precondition,
    diagnostics and rename link — its value and diff withheld (they stay on disk until apply
    streams them). Never applied: apply refuses a change whose ``after`` is :data:`WITHHELD`."""
    match change:
        case CreateChange() | UpdateChange() | IncrementChange():
            return replace(change, after=WITHHELD, diff=(), sensitive=(), encrypted=())
        case DeleteChange() | NoopChange():
            return replace(change, diff=(), sensitive=(), encrypted=())
        case _:
            assert_never(change)


def _manifest_body(
    header: Plan, segments: Iterable[SegmentRef], change_set: str
) -> dict[str, JSONValue]:
    body = plan_body(replace(header, changes=()))
    del body["changes"]
    body["segments"] = [segment.to_json() for segment in segments]
    body["change_set_digest"] = change_set
    return body


def manifest_of(header: Plan, segments: tuple[SegmentRef, ...], change_set: str) -> Manifest:
    """The manifest of ``header`` (its changes ignored) with its digest computed."""
    body = _manifest_body(header, segments, change_set)
    digest = sha256_digest(canonical_json(body))
    return Manifest(replace(header, changes=(), digest=digest), segments, change_set)


def manifest_to_json(manifest: Manifest) -> bytes:
    """The canonical manifest file bytes, ending with one newline."""
    body = _manifest_body(manifest.header, manifest.segments, manifest.change_set_digest)
    body["digest"] = manifest.digest
    return canonical_json(body) + b"\n"


def is_manifest(raw: Mapping[str, Any]) -> bool:
    """True for a parsed plan file that is a manifest (it has ``segments``, no ``changes``)."""
    return "segments" in raw and "changes" not in raw


def manifest_from_json(data: bytes, raw: Mapping[str, Any], *, source: str) -> Manifest:
    """A manifest from its bytes and their parsed form (see :func:`is_manifest`).

    Raises ``StalePlan`` when the bytes are not exactly what dsgit wrote and ``ConfigError``
    when they are not a valid manifest.
    """
    check_exact(data, raw, source)
    errors = sorted(_manifest_validator().iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        pointer = "/" + "/".join(str(part) for part in first.absolute_path)
        message = f"invalid plan manifest: {first.message}"
        raise ConfigError(message, Location(source, field=pointer))
    header = plan_from_dict({**raw, "changes": []}, source)
    segments = tuple(
        SegmentRef(*(item[name] for name in _SEGMENT_FIELDS)) for item in raw["segments"]
    )
    return Manifest(header, segments, raw["change_set_digest"])
