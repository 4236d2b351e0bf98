"""The scan's checkpoint file and its result records (docs/lifecycle.md, "The live scan").

A checkpoint is one JSON document, replaced atomically (write, fsync, rename) every N entries or
S seconds: the lanes resolved when the scan started, which are finished, the position of each
lane in progress (the page token to list again from, and the keys of those pages already
visited), the counters, the visitor's own snapshot, and how much of the result file belongs to
it. The result records (JSON Lines) are appended beside it as entries are visited; a resumed
scan first cuts the file back to the length the checkpoint recorded, so the records and the
counters always describe the same entries. A killed scan therefore loses at most the work done
since the last checkpoint, and visits each entry once in its result.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dsgit.errors import ConfigError, Location
from dsgit.model.entry import JSONValue

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointState",
    "LanePosition",
    "RecordLog",
    "load_checkpoint",
    "records_path",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "dsgit-scan-checkpoint/1"


@dataclass
class LanePosition:
    """Where a lane resumes: list again from ``token`` (None: the first page), skipping the
    ``visited`` ``(scope, key)`` pairs of those pages."""

    token: str | None = None
    visited: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class CheckpointState:
    """Everything a resumed scan needs (see the module docstring)."""

    fingerprint: str
    started: str
    lanes: list[dict[str, Any]]
    elapsed: float = 0.0
    done: list[str] = field(default_factory=list)
    positions: dict[str, LanePosition] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    visitor: JSONValue = None
    records: int = 0
    records_bytes: int = 0
    sample: dict[str, Any] | None = None
    finished: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "fingerprint": self.fingerprint,
            "started": self.started,
            "elapsed": round(self.elapsed, 3),
            "finished": self.finished,
            "lanes": self.lanes,
            "done": self.done,
            "positions": {
                lane: {"token": pos.token, "visited": [list(pair) for pair in pos.visited]}
                for lane, pos in self.positions.items()
            },
            "counters": self.counters,
            "visitor": self.visitor,
            "records": {"count": self.records, "bytes": self.records_bytes},
            "sample": self.sample,
        }

    @classmethod
    def from_json(cls, data: Any, path: Path) -> CheckpointState:
        where = Location(str(path))
        if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
            raise ConfigError(
                "not a dsgit scan checkpoint (or one of another version); delete it or pass "
                "--restart",
                where,
            )
        try:
            positions = {
                str(lane): LanePosition(
                    raw["token"], [(str(s), str(k)) for s, k in raw.get("visited", [])]
                )
                for lane, raw in data["positions"].items()
            }
            records = data["records"]
            return cls(
                fingerprint=str(data["fingerprint"]),
                started=str(data["started"]),
                lanes=list(data["lanes"]),
                elapsed=float(data["elapsed"]),
                done=[str(lane) for lane in data["done"]],
                positions=positions,
                counters={str(k): int(v) for k, v in data["counters"].items()},
                visitor=data.get("visitor"),
                records=int(records["count"]),
                records_bytes=int(records["bytes"]),
                sample=data.get("sample"),
                finished=bool(data.get("finished", False)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(
                f"the scan checkpoint is damaged ({type(exc).__name__}: {exc}); delete it or "
                "pass --restart",
                where,
            ) from None


def records_path(checkpoint: Path) -> Path:
    """The result records beside ``checkpoint`` (``scan.json`` -> ``scan.records.jsonl``)."""
    return checkpoint.with_name(checkpoint.stem + ".records.jsonl")


def load_checkpoint(path: Path) -> CheckpointState | None:
    """The checkpoint at ``path``, or None when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the scan checkpoint: {exc.strerror}", Location(str(path))
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"the scan checkpoint is not JSON ({exc.msg}); delete it or pass --restart",
            Location(str(path), exc.lineno, exc.colno),
        ) from None
    return CheckpointState.from_json(data, path)


def save_checkpoint(path: Path, state: CheckpointState) -> None:
    """Replace the checkpoint atomically and durably."""
    data = json.dumps(state.to_json(), ensure_ascii=False, separators=(",", ":")).encode()
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ConfigError(
            f"cannot write the scan checkpoint: {exc.strerror}", Location(str(path))
        ) from None


class RecordLog:
    """The result records, one JSON document a line, appended as entries are visited."""

    def __init__(self, path: Path, *, keep_bytes: int = 0, count: int = 0) -> None:
        self.path = path
        self.count = count
        path.parent.mkdir(parents=True, exist_ok=True)
        handle: IO[bytes] = open(path, "ab")  # noqa: SIM115 (closed by close())
        handle.truncate(keep_bytes)  # cut what was written after the checkpoint
        handle.seek(keep_bytes)
        self._handle = handle
        self.bytes = keep_bytes

    def append(self, record: JSONValue) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        self._handle.write(line)
        self.bytes += len(line)
        self.count += 1

    def sync(self) -> None:
        """Make every appended record durable (before a checkpoint names their length)."""
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()

    def read(self) -> Any:
        """Every record, streamed (an iterator; the file is read line by line)."""
        self._handle.flush()
        with open(self.path, "rb") as source:
            for line in source:
                if line.strip():
                    yield json.loads(line)
