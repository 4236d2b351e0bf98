"""The redactions of a whole ledger: finishing them, and checking them (``audit verify``).

An erasure record lists the earlier records it redacts (:class:`RedactionRef`); the records
carry ``redacted_by``, that erasure record's hash (:mod:`dsgit.ledger.redact`). Here every
chain is read at once (an erasure may redact records of other environments' chains):

- :func:`complete` finishes the rewrites an erasure listed and a killed process left undone;
- :func:`check` proves the redactions: every redacted record names an erasure record that
  lists it, a version 1/2 record's redacted form has the digest its erasure record holds, and
  no listed record still holds a listed field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsgit.errors import ConfigError
from dsgit.ledger.file import Ledger, Located, record_hash
from dsgit.ledger.layout import environments
from dsgit.ledger.records import (
    REDACTABLE,
    ErasureRecord,
    RedactionRef,
    is_marker,
    record_from_json,
)
from dsgit.ledger.redact import Redaction, carry_out, redacted_form_digest, unredacted

__all__ = ["Finding", "check", "complete", "every_record", "intact_record", "listable"]


def intact_record(data: dict[str, Any]) -> bool:
    """True when a stored record still matches its hash (it may be listed for redaction)."""
    try:
        record = record_from_json(data, file="", line=0)
    except ConfigError:
        return False
    return record_hash(record) == record.hash


def listable(root: Path) -> Callable[[dict[str, Any]], bool]:
    """Whether a stored record may be listed by a new erasure: unredacted, it must match its
    hash; redacted already, its redaction must be one ``audit verify`` accepts (an erasure
    record here that lists it by its ``redacted_by``, and for a version 1/2 record the digest
    of its current form): else an edit marked ``redacted_by`` would be laundered by the next
    erasure, whose record would vouch for the edited form."""
    _, erasures = _index(root)
    refs: dict[tuple[str, int, str], RedactionRef] = {}
    for erasure in erasures:
        assert isinstance(erasure.record.body, ErasureRecord)
        for ref in erasure.record.body.redacted:
            refs[(erasure.record.hash, ref.seq, ref.hash)] = ref

    def may_list(data: dict[str, Any]) -> bool:
        by = data.get("redacted_by")
        if by is None:
            return intact_record(data)
        ref = refs.get((str(by), _int(data.get("seq")), str(data.get("hash"))))
        if ref is None:
            return False
        if data.get("v") == 3:
            return intact_record(data)
        return ref.digest == redacted_form_digest(data)

    return may_list


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _markers(data: Mapping[str, Any]) -> dict[str, Any]:
    """The redaction markers of a stored record, by field name (``conflicts/2``...)."""
    found: dict[str, Any] = {}
    for name, is_list in REDACTABLE.get(str(data.get("type")), ()):
        value = data.get(name)
        if is_list and isinstance(value, list):
            found.update({f"{name}/{i}": v for i, v in enumerate(value) if is_marker(v)})
        elif is_marker(value):
            found[name] = value
    return found


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a redaction: where, what, and the kind (``redaction``,
    ``edited`` or ``unredacted``)."""

    file: str
    line: int
    message: str
    kind: str


def every_record(root: Path, *, skip_malformed: bool = True) -> Iterator[Located]:
    """Every record of the repository with its file and line: the archived ledger, then each
    environment's chain."""
    ledger = Ledger(root)
    yield from ledger.located(None, skip_malformed=skip_malformed)
    for name in environments(root):
        for item in ledger.located(name, skip_malformed=skip_malformed):
            if item.record.chain is not None:
                yield item


def _index(root: Path) -> tuple[dict[tuple[str | None, int, str], Located], list[Located]]:
    records: dict[tuple[str | None, int, str], Located] = {}
    erasures: list[Located] = []
    for item in every_record(root):
        record = item.record
        records[(record.chain, record.seq, record.hash)] = item
        if isinstance(record.body, ErasureRecord) and record.body.redacted:
            erasures.append(item)
    return records, erasures


def _target(
    records: dict[tuple[str | None, int, str], Located], ref: RedactionRef
) -> Located | None:
    return records.get((ref.chain, ref.seq, ref.hash))


def complete(root: Path) -> int:
    """Carry out every listed redaction not done yet; the number of records rewritten."""
    records, erasures = _index(root)
    changed = 0
    for erasure in erasures:
        assert isinstance(erasure.record.body, ErasureRecord)
        todo = []
        for ref in erasure.record.body.redacted:
            target = _target(records, ref)
            if target is None or target.record.raw is None:
                continue  # in a branch not merged here: finished where it is
            if unredacted(target.record.raw, ref.fields):
                todo.append(Redaction(target.file, ref.chain, ref.seq, ref.hash, ref.fields))
        if todo:
            changed += carry_out(root, todo, erasure.record.hash)
    return changed


def check(root: Path) -> list[Finding]:
    """Every problem with the ledger's redactions (none when there are none)."""
    records, erasures = _index(root)
    # every erasure record listing a record, in ledger order: a record named by two users
    # (a roster, a conflict list) is redacted by each of their erasures in turn
    listed: dict[tuple[str | None, int, str], dict[str, RedactionRef]] = {}
    found: list[Finding] = []
    for erasure in erasures:
        assert isinstance(erasure.record.body, ErasureRecord)
        for ref in erasure.record.body.redacted:
            listed.setdefault((ref.chain, ref.seq, ref.hash), {})[erasure.record.hash] = ref
            target = _target(records, ref)
            if target is None or target.record.raw is None:
                continue
            left = unredacted(target.record.raw, ref.fields)
            if left:
                found.append(
                    Finding(
                        target.file,
                        target.line,
                        f"record seq {ref.seq} still holds {', '.join(left)}, which the "
                        f"erasure record seq {erasure.record.seq} redacts (a redaction cut off "
                        "by a crash?): run `dsgit audit redact`",
                        "unredacted",
                    )
                )
    for key, item in records.items():
        record = item.record
        by = record.redacted_by
        markers = _markers(record.raw or {})
        if by is None:
            if markers:
                found.append(
                    Finding(
                        item.file,
                        item.line,
                        f"record seq {record.seq} holds redaction markers but names no erasure "
                        "record: it was edited",
                        "redaction",
                    )
                )
            continue
        listing = listed.get(key, {})
        fields = {name for ref in listing.values() for name in ref.fields}
        allowed = {"redacted", "digest"} if record.version >= 3 else {"redacted"}
        if listing and (
            not set(markers) <= fields or any(set(m) - allowed for m in markers.values())
        ):
            found.append(
                Finding(
                    item.file,
                    item.line,
                    f"record seq {record.seq} has redacted fields its erasure record does not "
                    "list, or markers with other content: it was edited",
                    "redaction",
                )
            )
            continue
        if by not in listing:
            found.append(
                Finding(
                    item.file,
                    item.line,
                    f"record seq {record.seq} is marked redacted by {by[:19]}…, but no erasure "
                    "record here lists it: it was edited",
                    "redaction",
                )
            )
            continue
        ref = listing[by]  # the erasure that rewrote it last holds its current form's digest
        if (
            record.version < 3
            and record.raw is not None
            and ref.digest != redacted_form_digest(record.raw)
        ):
            found.append(
                Finding(
                    item.file,
                    item.line,
                    f"record seq {record.seq} (redacted, version {record.version}) does "
                    "not match the digest its erasure record holds: it was edited",
                    "edited",
                )
            )
    return found
