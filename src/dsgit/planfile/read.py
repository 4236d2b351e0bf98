"""Reading plan files: a single document, or a segmented plan streamed one segment at a time.

:func:`read_any_plan` tells the two apart. A :class:`SegmentedPlan` never holds more than one
segment's changes: :meth:`SegmentedPlan.verify` hashes every segment file (streaming) and
refuses the plan (``StalePlan``, exit 4) when one does not match the digest its manifest
names; :meth:`SegmentedPlan.segment` reads one segment, checks its bytes against that digest
again (a file swapped after the check is caught too) and parses its lines.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from dsgit.errors import ConfigError, Location, StalePlan
from dsgit.plan.io import plan_from_json
from dsgit.plan.model import Change, Plan
from dsgit.plan.segments import (
    Manifest,
    SegmentRef,
    change_from_line,
    is_manifest,
    manifest_from_json,
    review_change,
)

__all__ = ["SegmentedPlan", "read_any_plan", "read_plan_bytes"]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class SegmentedPlan:
    """A manifest read from ``path``; its segments resolve against the manifest's folder."""

    manifest: Manifest
    path: Path

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def header(self) -> Plan:
        return self.manifest.header

    def _segment_path(self, ref: SegmentRef) -> Path:
        folder = Path(os.path.abspath(self.path.parent))
        target = Path(os.path.abspath(folder / ref.file))
        if target.parent != folder and folder not in target.parents:
            raise ConfigError(
                f"segment {ref.file!r} is outside the plan's folder", Location(str(self.path))
            )
        return target

    def _unreadable(self, ref: SegmentRef, exc: OSError) -> ConfigError:
        if isinstance(exc, FileNotFoundError):
            return ConfigError(
                f"segment file {ref.file} is missing: a segmented plan is the manifest and its "
                f"{self.path.name}.segments/ folder; copy both",
                Location(str(self.path)),
            )
        return ConfigError(
            f"cannot read segment {ref.file}: {exc.strerror}", Location(str(self.path))
        )

    def _mismatch(self, ref: SegmentRef, actual: str) -> StalePlan:
        return StalePlan(
            f"{self.path}: segment {ref.file} does not match the plan (manifest says "
            f"{ref.digest}, the file is {actual}): it was edited or replaced after the plan was "
            "made; nothing was written; make a new plan"
        )

    def verify(self) -> None:
        """Hash every segment file; ``StalePlan`` at the first that does not match."""
        for ref in self.manifest.segments:
            hasher = hashlib.sha256()
            try:
                with self._segment_path(ref).open("rb") as handle:
                    while chunk := handle.read(_CHUNK):
                        hasher.update(chunk)
            except OSError as exc:
                raise self._unreadable(ref, exc) from None
            actual = "sha256:" + hasher.hexdigest()
            if actual != ref.digest:
                raise self._mismatch(ref, actual)

    def segment(self, index: int) -> tuple[Change, ...]:
        """The changes of segment ``index`` (0-based), its bytes checked against its digest."""
        ref = self.manifest.segments[index]
        path = self._segment_path(ref)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise self._unreadable(ref, exc) from None
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        if actual != ref.digest:
            raise self._mismatch(ref, actual)
        lines = data.splitlines(keepends=True)
        source = str(path)
        changes = tuple(
            change_from_line(line, source, number) for number, line in enumerate(lines, start=1)
        )
        if len(changes) != ref.changes:
            raise ConfigError(
                f"segment holds {len(changes)} changes, the manifest says {ref.changes}",
                Location(source),
            )
        return changes

    def changes(self) -> Iterator[Change]:
        """Every change in order, one segment in memory at a time."""
        for index in range(len(self.manifest.segments)):
            yield from self.segment(index)

    def changes_at(self, start: int, count: int) -> tuple[Change, ...]:
        """``count`` changes from position ``start`` (0-based), reading only the segments
        that hold them (a page of ``dsgit show``)."""
        found: list[Change] = []
        offset = 0
        for index, ref in enumerate(self.manifest.segments):
            end = offset + ref.changes
            if end > start and len(found) < count:
                changes = self.segment(index)
                begin = max(start - offset, 0)
                found.extend(changes[begin : begin + count - len(found)])
            offset = end
        return tuple(found)

    def review(self) -> Plan:
        """The plan as approvals and checks read it: the header, its digest (the manifest's),
        and each change without its value or diff (:func:`dsgit.plan.segments.review_change`).
        Never applied: apply streams the segments themselves."""
        return replace(self.header, changes=tuple(review_change(c) for c in self.changes()))


def read_plan_bytes(data: bytes, path: Path) -> Plan | SegmentedPlan:
    """A plan file's bytes as a plan or a segmented plan (digests checked, see module doc)."""
    source = str(path)
    if b'"segments":[' in data:
        try:
            raw = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raw = None
        if isinstance(raw, dict) and is_manifest(raw):
            return SegmentedPlan(manifest_from_json(data, raw, source=source), path)
    return plan_from_json(data, source=source)


def read_any_plan(path: Path) -> Plan | SegmentedPlan:
    """The plan file at ``path``: one document or a manifest."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the plan: {exc.strerror}", Location(str(path))) from None
    return read_plan_bytes(data, path)
