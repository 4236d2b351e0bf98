"""Redact erased data from the local apply journals (``.dsgit/journal/*.jsonl``).

Every ``intent`` line of a journal carries the pre-image of the entry it is about to write
(the same body as the file in ``audit/preimages/<apply id>/``), so that a rerun of the plan can
rewrite a pre-image file a crash lost (:meth:`dsgit.apply.preimages.PreImageStore.restore`).
After a right-to-erasure apply purged a pre-image file, that copy would bring it back on the
next rerun of the older plan, and a revert after it would restore the user's data.

:func:`redact_journals` masks every ``intent`` and ``done`` line an erasure names (its apply
and address among the purged pre-images, its address among the entries the erasure changed, or
any line of the erasure's own apply): the address ``a`` becomes
:func:`~dsgit.apply.journal.erased_key` (a hash a rerun of the plan still finds the line by,
so it never writes an erased entry again), an intent loses its ``preimage``, a completion its
value digests and message, and the line is marked ``"erased": true``. In a journal whose runs
all ended, the integer an increment saw before (``value``) goes too; a journal of a run that
did not end keeps it (resuming an interrupted increment needs it, and it is not a pre-image).
The file is replaced atomically (write, fsync, rename) under the journal's ``flock``; a
journal another running apply holds is left alone and reported as busy.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsgit.apply.journal import ERASED_PREFIX, JOURNAL_DIR, erased_key
from dsgit.yamlio.safe_paths import open_nofollow

__all__ = ["JournalRedaction", "redact_journals"]


@dataclass
class JournalRedaction:
    """What :func:`redact_journals` did: lines redacted, the files changed, the busy ones."""

    lines: int = 0
    files: list[str] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)


def _dump(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode()


def _redacted(
    data: bytes,
    addresses: Collection[str],
    preimages: Collection[tuple[str, str]],
    own_apply: str | None,
) -> tuple[bytes, int]:
    """The journal's bytes with the named lines masked, and how many were."""
    lines: list[tuple[bytes, dict[str, Any] | None]] = []
    apply_id: str | None = None
    digest: str | None = None
    runs = ended = 0
    for line in data.splitlines(keepends=True):
        try:
            record = json.loads(line)
        except ValueError:
            record = None  # not ours to judge: `dsgit apply` reports it
        if not isinstance(record, dict):
            lines.append((line, None))
            continue
        kind = record.get("t")
        if kind == "begin":
            runs += 1
            apply_id = apply_id or record.get("apply_id")
            digest = digest or record.get("plan_digest")
        elif kind == "end":
            ended += 1
        lines.append((line, record))
    finished = runs > 0 and ended >= runs
    count = 0
    out = bytearray()
    for line, item in lines:
        if (
            item is None
            or item.get("t") not in ("intent", "done")
            or not _named(item, apply_id, addresses, preimages, own_apply)
        ):
            out += line
            continue
        changed = _mask(item, digest, finished)
        count += changed
        out += _dump(item) if changed else line
    return (bytes(out) if count else data), count


def _mask(item: dict[str, Any], digest: str | None, finished: bool) -> bool:
    """Mask one named line in place; whether anything changed."""
    changed = item.pop("preimage", None) is not None
    if finished and "value" in item:
        item.pop("value")
        changed = True
    address = item.get("a")
    masked = isinstance(address, str) and address.startswith(ERASED_PREFIX)
    if isinstance(digest, str) and isinstance(address, str) and not masked:
        item["a"] = erased_key(digest, address)
        changed = True
    for side in ("before", "after"):
        state = item.get(side)
        if isinstance(state, dict) and state.pop("value_digest", None) is not None:
            changed = True
    if item.get("message"):
        item["message"] = ""
        changed = True
    if changed:
        item["erased"] = True
    return changed


def _named(
    intent: dict[str, Any],
    apply_id: str | None,
    addresses: Collection[str],
    preimages: Collection[tuple[str, str]],
    own_apply: str | None,
) -> bool:
    body = intent.get("preimage")
    owner = body.get("apply_id") if isinstance(body, dict) else None
    owner = owner or apply_id
    address = intent.get("a")
    if own_apply is not None and owner == own_apply:
        return True
    return address in addresses or (owner, address) in preimages


def _replace(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.erased.tmp")
    try:
        with open(temp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    descriptor = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def redact_journals(
    root: Path,
    *,
    addresses: Collection[str],
    preimages: Collection[tuple[str, str]] = (),
    own_apply: str | None = None,
    held: Path | None = None,
) -> JournalRedaction:
    """Redact the intents the erasure names in every journal (see the module docstring).

    ``preimages`` are ``(apply id, address)`` pairs of purged pre-image files; ``held`` is a
    journal this process holds locked already (the erasure's own run journal)."""
    report = JournalRedaction()
    folder = root / JOURNAL_DIR
    if not folder.is_dir() or folder.is_symlink():
        return report
    for path in sorted(folder.glob("*.jsonl")):
        if path.is_symlink():
            continue
        mine = held is not None and path == held
        try:
            handle = open_nofollow(path)
        except OSError:
            continue
        with handle:
            if not mine:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    report.busy.append(f"{JOURNAL_DIR}/{path.name}")
                    continue
            try:
                handle.seek(0)
                data = handle.read()
                redacted, count = _redacted(data, addresses, preimages, own_apply)
                if count:
                    _replace(path, redacted)
                    report.lines += count
                    report.files.append(f"{JOURNAL_DIR}/{path.name}")
            finally:
                if not mine:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return report
