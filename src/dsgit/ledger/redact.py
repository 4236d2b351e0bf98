"""Redacting ledger records after the fact, for a right-to-erasure request (docs/ledger.md).

A ledger is append-only and hash-chained, yet a record written before an erasure may hold the
erased user's data: a change record's address (``Player_123``), its readable diff, an apply
record's conflict addresses. Redaction replaces those fields, in place, by a marker
``{"redacted": "erasure", "digest": …}`` and names the erasure record that did it
(``redacted_by``), keeping the chain and every signature valid:

- a **version 3** record's hash commits to each redactable field (:data:`REDACTABLE`) only as
  ``sha256(salt ":" canonical value)``, with a random salt per field (per element for lists)
  kept in the record's ``salts``. A redaction keeps that digest in the marker and drops the
  salt: the hash still verifies, and the digest cannot be checked against a guessed user id.
- a **version 1 or 2** record's hash covers its values; redacted, it keeps its stored ``hash``
  (the chain and signatures rest on it) and the erasure record lists the sha256 of its
  redacted form (:func:`redacted_form_digest`), which ``audit verify`` checks instead.

Fields are named ``address``, ``users``, ``diff`` (whole fields) or ``conflicts/2``,
``suppressions/0`` (one element of a list field).

The erasure record, listing every record it redacts, is appended first; the files are then
rewritten, each atomically (a temporary file renamed over it) under the chain's lock, and a
rewrite that a killed process left undone is finished by the next
:func:`carry_out` (idempotent: a field already redacted is left as it is).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsgit.errors import ConfigError, LedgerError
from dsgit.ledger.canonical import canonical_json, sha256_digest
from dsgit.ledger.layout import ARCHIVE_FILE, CHAINS_DIR, LEGACY_FILE, SUFFIX
from dsgit.ledger.records import REDACTABLE, RedactionRef, is_marker
from dsgit.yamlio.atomic import write_atomic
from dsgit.yamlio.safe_paths import safe_path

__all__ = [
    "Redaction",
    "carry_out",
    "hash_form",
    "make_salts",
    "redact_json",
    "redacted_form_digest",
    "reference",
    "unredacted",
]

_EXCLUDED = ("hash", "sig", "redacted_by")
_MISSING = "sha256:missing-salt"  # never a real digest: a value without its salt fails


@dataclass(frozen=True)
class Redaction:
    """What to redact in one record: where it is and which fields (see the module docstring)."""

    file: str  # repository-relative
    chain: str | None
    seq: int
    hash: str
    fields: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "chain": self.chain,
            "seq": self.seq,
            "hash": self.hash,
            "fields": list(self.fields),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Redaction:
        return cls(
            str(data["file"]),
            None if data.get("chain") is None else str(data["chain"]),
            int(data["seq"]),
            str(data["hash"]),
            tuple(str(f) for f in data["fields"]),
        )


def make_salts(kind: str, fields: Mapping[str, Any]) -> dict[str, Any] | None:
    """Fresh salts for a new version 3 record of ``kind`` with body ``fields`` (None when the
    type has nothing redactable)."""
    spec = REDACTABLE.get(kind)
    if not spec:
        return None
    salts: dict[str, Any] = {}
    for name, is_list in spec:
        if name not in fields:
            continue
        if is_list:
            salts[name] = [secrets.token_hex(16) for _ in fields[name] or ()]
        else:
            salts[name] = secrets.token_hex(16)
    return salts


def _commit(value: Any, salt: Any) -> str:
    if is_marker(value):
        return str(value.get("digest") or _MISSING)
    if not isinstance(salt, str):
        return _MISSING
    return sha256_digest(f"{salt}:{canonical_json(value)}")


def hash_form(data: Mapping[str, Any]) -> dict[str, Any]:
    """What a version 3 record's hash covers: the record without hash, sig, redacted_by and
    salts, each redactable field replaced by its salted digest."""
    form = {k: v for k, v in data.items() if k not in _EXCLUDED and k != "salts"}
    salts = data.get("salts")
    salts = salts if isinstance(salts, dict) else {}
    for name, is_list in REDACTABLE.get(str(data.get("type")), ()):
        if name not in form:
            continue
        value = form[name]
        if is_list:
            items = value if isinstance(value, list) else []
            keys = salts.get(name)
            keys = keys if isinstance(keys, list) and len(keys) == len(items) else []
            form[name] = [_commit(item, keys[i] if keys else None) for i, item in enumerate(items)]
        else:
            form[name] = _commit(value, salts.get(name))
    return form


def redacted_form_digest(data: Mapping[str, Any]) -> str:
    """The digest of a version 1/2 record as redacted (what its erasure record lists)."""
    return sha256_digest(canonical_json({k: v for k, v in data.items() if k not in _EXCLUDED}))


def redact_json(data: Mapping[str, Any], fields: Iterable[str], by: str) -> dict[str, Any]:
    """``data`` (one stored record) with ``fields`` replaced by markers, ``redacted_by`` set.

    For a version 3 record the marker keeps the field's committed digest and the salt goes;
    an older record's marker has no digest (its erasure record holds the whole form's)."""
    out: dict[str, Any] = json.loads(json.dumps(data))  # a deep copy of plain JSON
    version = out.get("v")
    stored = out.get("salts")
    salts: dict[str, Any] = stored if isinstance(stored, dict) else {}
    for name in fields:
        field, _, index = name.partition("/")
        if field not in out:
            continue
        if index:
            items = out[field]
            position = int(index)
            if not isinstance(items, list) or position >= len(items):
                continue
            value = items[position]
            keys = salts.get(field) if isinstance(salts.get(field), list) else None
            salt = keys[position] if keys and position < len(keys) else None
        else:
            value, salt = out[field], salts.get(field)
        if is_marker(value):
            continue
        marker: dict[str, Any] = {"redacted": "erasure"}
        if version == 3:
            marker["digest"] = _commit(value, salt)
        if index:
            out[field][int(index)] = marker
            if keys:
                keys[int(index)] = None
        else:
            out[field] = marker
            salts.pop(field, None)
    out["redacted_by"] = by
    return out


def unredacted(data: Mapping[str, Any], fields: Iterable[str]) -> tuple[str, ...]:
    """The ``fields`` of ``data`` that do not hold a marker yet."""
    left = []
    for name in fields:
        field, _, index = name.partition("/")
        value = data.get(field)
        if index:
            if not isinstance(value, list) or int(index) >= len(value):
                continue
            value = value[int(index)]
        if field in data and not is_marker(value):
            left.append(name)
    return tuple(left)


def reference(
    root: Path, item: Redaction, intact: Callable[[dict[str, Any]], bool]
) -> RedactionRef | None:
    """The erasure record's entry for ``item`` (None unless ``intact`` accepts the stored record:
    :func:`dsgit.ledger.redactions.listable`): for a version 1/2 record, with the digest of
    its redacted form (``redacted_by`` is left out of that digest, so it can be computed
    before the erasure record's own hash is known)."""
    try:
        data = _stored(root, item)
    except LedgerError:
        return None  # not in this checkout: not listed (`erase --verify` finds it later)
    if not intact(data):
        return None  # edited: never laundered by a redaction (`audit verify` reports it)
    digest = None
    if data.get("v") != 3:
        digest = redacted_form_digest(redact_json(data, item.fields, ""))
    return RedactionRef(item.chain, item.seq, item.hash, item.fields, digest)


def _ledger_file(root: Path, name: str) -> Path:
    """``root / name`` when it is a ledger file of the repository (the plan names it: never a
    file elsewhere, nor one reached through a symlink)."""
    path = Path(name)
    inside = path.parts[:2] == tuple(Path(CHAINS_DIR).parts) and path.suffix == SUFFIX
    if (
        path.is_absolute()
        or ".." in path.parts
        or not (inside or name in (ARCHIVE_FILE, LEGACY_FILE))
    ):
        raise LedgerError(f"{name}: not a ledger file (audit/ledger/…{SUFFIX})")
    try:
        return safe_path(root, path)
    except ConfigError as exc:
        raise LedgerError(str(exc)) from None


def _stored(root: Path, item: Redaction) -> dict[str, Any]:
    try:
        for data in _lines(_ledger_file(root, item.file)):
            if data.get("seq") == item.seq and data.get("hash") == item.hash:
                return data
    except (OSError, ValueError):
        pass  # missing or unreadable: not there, as below
    raise LedgerError(
        f"{item.file}: ledger record seq {item.seq} ({item.hash[:19]}…) is not there any more; "
        "make the erasure plan again (`dsgit erase --user ID`)"
    )


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                data = json.loads(line)
                if isinstance(data, dict):
                    yield data


def carry_out(root: Path, items: Sequence[Redaction], by: str) -> int:
    """Rewrite the records of ``items`` redacted by the erasure record ``by``; the number of
    records changed (0 when all were done already)."""
    changed = 0
    by_file: dict[str, list[Redaction]] = {}
    for item in items:
        by_file.setdefault(item.file, []).append(item)
    for name, group in sorted(by_file.items()):
        path = root / name
        if not path.is_file():
            continue
        with _chain_lock(path.parent):
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            wanted = {(item.seq, item.hash): item for item in group}
            out: list[str] = []
            touched = False
            for line in lines:
                data = json.loads(line) if line.strip() else None
                found: Redaction | None = None
                if isinstance(data, dict):
                    found = wanted.get((int(data.get("seq", -1)), str(data.get("hash"))))
                if found is None or not isinstance(data, dict):
                    out.append(line)
                    continue
                item = found
                if not unredacted(data, item.fields):
                    out.append(line)
                    continue
                out.append(canonical_json(redact_json(data, item.fields, by)) + "\n")
                touched = True
                changed += 1
            if touched:
                _replace(path, "".join(out))
    return changed


def _replace(path: Path, text: str) -> None:
    """Replace the file in one rename (its permission bits kept), durable once returned."""
    write_atomic(path, text)
    descriptor = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def _chain_lock(folder: Path) -> Iterator[None]:
    """The lock appends take on a chain's folder (:class:`dsgit.ledger.file.Ledger`); the
    archived single-file ledger's folder (``audit/``) has no appends, any lock will do."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
