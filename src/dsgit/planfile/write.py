"""Writing plans: one document when small, else a manifest and JSON Lines segments.

:class:`SegmentWriter` is the streaming API (a live scan adds changes as it finds them, in any
order, and memory stays bounded): it keeps at most ``segment_size`` changes in memory, spills
sorted runs to a scratch folder beside the plan, and on :meth:`SegmentWriter.finish` merges
them into segments in the canonical order (:func:`dsgit.plan.segments.change_order`), writes
the manifest last (atomically) and removes segment files of an earlier plan at the same path.
A reader therefore sees the old plan or the new one, never half of one.

    with SegmentWriter(Path("plan.json")) as writer:
        for change in changes:          # any order; allowances already applied to each
            writer.add(change)
        manifest = writer.finish(header)  # header: the Plan without changes (summary is computed)
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from dsgit.errors import ConfigError, DsgitError, Location
from dsgit.plan.io import plan_to_json
from dsgit.plan.model import Change, Plan, summarize
from dsgit.plan.segments import (
    DEFAULT_SEGMENT_SIZE,
    Manifest,
    SegmentRef,
    change_line,
    change_order,
    manifest_of,
    manifest_to_json,
)

__all__ = ["DuplicateChange", "SegmentWriter", "segments_folder", "write_plan"]


class DuplicateChange(DsgitError):
    """Two changes of one plan are for the same address (e.g. overlapping shard plans)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(f"{address}: the plan has two changes for this entry")


def segments_folder(path: Path) -> Path:
    """Where the segments of the plan at ``path`` live: ``PLAN.segments/`` beside it."""
    return path.with_name(path.name + ".segments")


def _run_line(change: Change) -> bytes:
    # A run line leads with its sort key; addresses are path-encoded (no tab, no newline), so
    # comparing whole lines as bytes orders them by change_order.
    phase, address = change_order(change)
    return f"{phase}{address}\t".encode() + change_line(change)


def _key_of(run_line: bytes) -> bytes:
    return run_line[: run_line.index(b"\t")]


def _read_run(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        yield from handle


def _atomic_write(path: Path, data: bytes) -> None:
    folder = path.parent
    handle, temp = tempfile.mkstemp(prefix=".plan-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class SegmentWriter:
    """Streams changes into a segmented plan at ``path`` with bounded memory."""

    def __init__(self, path: Path, *, segment_size: int = DEFAULT_SEGMENT_SIZE) -> None:
        if segment_size < 1:
            raise ValueError(f"segment size must be at least 1, not {segment_size}")
        self.path = path
        self.segment_size = segment_size
        self._buffer: list[tuple[tuple[int, str], bytes]] = []
        self._runs: list[Path] = []
        self._scratch: Path | None = None
        self._summary: dict[str, int] = summarize(())
        self.count = 0

    def add(self, change: Change) -> None:
        """Add one change (any order). Memory holds at most ``segment_size`` of them."""
        self._buffer.append((change_order(change), _run_line(change)))
        self._summary[change.action.value] += 1
        self.count += 1
        if len(self._buffer) >= self.segment_size:
            self._spill()

    def _spill(self) -> None:
        if not self._buffer:
            return
        if self._scratch is None:
            self._folder().mkdir(parents=True, exist_ok=True)
            self._scratch = Path(tempfile.mkdtemp(prefix=".runs-", dir=self._folder()))
        self._buffer.sort(key=lambda item: item[0])
        run = self._scratch / f"{len(self._runs):06d}.run"
        with run.open("wb") as out:
            out.writelines(line for _, line in self._buffer)
        self._runs.append(run)
        self._buffer.clear()

    def _folder(self) -> Path:
        return segments_folder(self.path)

    def _merged(self) -> Iterator[bytes]:
        if not self._runs:
            self._buffer.sort(key=lambda item: item[0])
            yield from (line for _, line in self._buffer)
            return
        self._spill()
        yield from heapq.merge(*(_read_run(run) for run in self._runs))

    def finish(self, header: Plan, *, unchanged: int = 0) -> Manifest:
        """Write the segments and then the manifest; return the manifest.

        ``header`` is the plan without its changes (its ``changes`` and ``summary`` are
        ignored: the summary counts the changes added, plus ``unchanged`` no-ops left out).
        Raises :class:`DuplicateChange` when two changes share an address.
        """
        if self.count == 0:
            raise ValueError("a segmented plan needs at least one change")
        folder = self._folder()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            refs, change_set = self._write_segments(folder)
            summary = dict(self._summary)
            summary["no-op"] += unchanged
            manifest = manifest_of(replace(header, summary=summary), refs, change_set)
            _atomic_write(self.path, manifest_to_json(manifest))
        except OSError as exc:
            raise ConfigError(
                f"cannot write the plan: {exc.strerror}", Location(str(exc.filename or self.path))
            ) from None
        finally:
            self.close()
        _remove_unreferenced(folder, {Path(ref.file).name for ref in refs})
        return manifest

    def _write_segments(self, folder: Path) -> tuple[tuple[SegmentRef, ...], str]:
        refs: list[SegmentRef] = []
        whole = hashlib.sha256()
        out: BinaryIO | None = None
        hasher = hashlib.sha256()
        temp: Path | None = None
        count = 0
        first = last = previous = ""

        def close_segment() -> None:
            nonlocal out, temp, count, hasher
            assert out is not None and temp is not None
            out.flush()
            os.fsync(out.fileno())
            out.close()
            digest = hasher.hexdigest()
            name = f"{len(refs) + 1:05d}-{digest[:16]}.jsonl"
            os.replace(temp, folder / name)
            refs.append(SegmentRef(f"{folder.name}/{name}", "sha256:" + digest, count, first, last))
            out, temp, count, hasher = None, None, 0, hashlib.sha256()

        try:
            for run_line in self._merged():
                key = _key_of(run_line)
                line = run_line[len(key) + 1 :]
                address = key[1:].decode()
                if address == previous:
                    raise DuplicateChange(address)
                previous = address
                if out is None:
                    handle, name = tempfile.mkstemp(prefix=".segment-", dir=folder)
                    out, temp, first = os.fdopen(handle, "wb"), Path(name), address
                out.write(line)
                hasher.update(line)
                whole.update(line)
                count += 1
                last = address
                if count >= self.segment_size:
                    close_segment()
            if out is not None:
                close_segment()
        finally:
            if out is not None:
                out.close()
            if temp is not None:
                temp.unlink(missing_ok=True)
        return tuple(refs), "sha256:" + whole.hexdigest()

    def close(self) -> None:
        """Drop the scratch runs (after :meth:`finish`, or to abandon the plan)."""
        self._buffer.clear()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
        self._runs.clear()

    def __enter__(self) -> SegmentWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _remove_unreferenced(folder: Path, keep: set[str]) -> None:
    """Segment files of an earlier plan written to the same path (after the new manifest)."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.suffix == ".jsonl" and path.name not in keep:
            path.unlink(missing_ok=True)
    if not keep:
        with contextlib.suppress(OSError):  # something else lives there: leave it
            folder.rmdir()


def write_plan(
    path: Path, plan: Plan, *, segment_size: int = DEFAULT_SEGMENT_SIZE
) -> Plan | Manifest:
    """Write ``plan`` to ``path``: one document up to ``segment_size`` changes, else segmented.

    Returns what was written (the plan, or the manifest whose digest is now the plan's).
    """
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot write the plan: {exc.strerror}", Location(str(path))) from None
    if len(plan.changes) <= segment_size:
        try:
            _atomic_write(path, plan_to_json(plan))
        except OSError as exc:
            raise ConfigError(
                f"cannot write the plan: {exc.strerror}", Location(str(path))
            ) from None
        _remove_unreferenced(segments_folder(path), set())
        return plan
    unchanged = plan.summary.get("no-op", 0) - sum(1 for change in plan.changes if change.is_noop)
    with SegmentWriter(path, segment_size=segment_size) as writer:
        for change in plan.changes:
            writer.add(change)
        return writer.finish(plan, unchanged=max(unchanged, 0))
