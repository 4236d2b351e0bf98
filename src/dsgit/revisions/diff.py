"""What changed between consecutive revisions of one entry, by JSON pointer; pure.

``diff_revisions`` gives, per revision, the diff lines from the revision before it (the value,
then ``@attributes/...`` and ``@users``, as plans show them); ``field_history`` follows one
pointer and keeps only the revisions where its value changed. Values under the store's
``sensitive`` and ``encrypted`` pointers come out as ``(sensitive)``: a reader learns *that*
such a field changed, never its value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from dsgit.model.entry import EntryData, JSONValue
from dsgit.model.pointers import parse_pointer
from dsgit.plan.jsondiff import diff_data
from dsgit.plan.masking import PointerPatterns
from dsgit.plan.model import DiffLine
from dsgit.plan.values import same_value

__all__ = [
    "FieldChange",
    "Revision",
    "RevisionDiff",
    "diff_revisions",
    "field_history",
    "parse_field",
]

FieldOp = Literal["initial", "add", "remove", "replace"]


@dataclass(frozen=True)
class Revision:
    """One revision with what it held; ``data`` None for a deletion (a tombstone)."""

    revision_id: str
    created: str
    state: str
    data: EntryData | None


@dataclass(frozen=True)
class RevisionDiff:
    """A revision and its differences from ``previous_id`` (None: nothing earlier is kept)."""

    revision_id: str
    created: str
    state: str
    previous_id: str | None
    lines: tuple[DiffLine, ...]


@dataclass(frozen=True)
class FieldChange:
    """One revision where the field changed (``initial``: its value at the first revision)."""

    revision_id: str
    created: str
    op: FieldOp
    old: JSONValue = None
    new: JSONValue = None


@dataclass(frozen=True)
class Field:
    """A ``--field`` pointer: into the value (``/Data/Coins``), ``@attributes/...`` or
    ``@users``."""

    part: Literal["value", "attributes", "users"]
    segments: tuple[str, ...]

    def read(self, data: EntryData | None) -> tuple[bool, JSONValue]:
        """Whether the field exists in ``data``, and its value."""
        if data is None:
            return False, None
        if self.part == "users":
            return True, list(data.users)
        node: JSONValue = dict(data.attributes) if self.part == "attributes" else data.value
        for segment in self.segments:
            if isinstance(node, dict) and segment in node:
                node = node[segment]
            elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
                if len(segment) > 1 and segment.startswith("0"):
                    return False, None
                node = node[int(segment)]
            else:
                return False, None
        return True, node


def parse_field(pointer: str) -> Field:
    """``/Data/Coins``, ``""`` (the whole value), ``@attributes/Tag`` or ``@users``; raises
    ``ValueError`` naming what is wrong."""
    if pointer == "@users":
        return Field("users", ())
    if pointer == "@attributes" or pointer.startswith("@attributes/"):
        return Field("attributes", parse_pointer(pointer[len("@attributes") :]))
    if pointer.startswith("@"):
        raise ValueError(f"{pointer!r}: metadata pointers are @attributes/<pointer> and @users")
    return Field("value", parse_pointer(pointer))


def diff_revisions(
    revisions: Sequence[Revision], patterns: PointerPatterns, *, first_is_baseline: bool = False
) -> list[RevisionDiff]:
    """Per revision (oldest first), its diff from the one before.

    With ``first_is_baseline`` the first revision is only the starting point (read to diff the
    next one, e.g. the revision before ``--since``) and gets no row of its own.
    """
    rows: list[RevisionDiff] = []
    for index, revision in enumerate(revisions):
        previous = revisions[index - 1] if index else None
        if index == 0 and first_is_baseline:
            continue
        if previous is None:
            lines: list[DiffLine] = []
        else:
            lines, _types = diff_data(previous.data, revision.data, patterns)
        rows.append(
            RevisionDiff(
                revision.revision_id,
                revision.created,
                revision.state,
                previous.revision_id if previous is not None else None,
                tuple(lines),
            )
        )
    return rows


def _shown(field: Field, patterns: PointerPatterns, value: JSONValue) -> JSONValue:
    # Only the value is masked; attributes and users are metadata, shown as plans show them.
    return patterns.mask(value, field.segments) if field.part == "value" else value


def field_history(
    revisions: Sequence[Revision],
    field: Field,
    patterns: PointerPatterns,
    *,
    first_is_baseline: bool = False,
) -> list[FieldChange]:
    """The revisions where ``field`` changed, from what to what (masked as ``diff_revisions``).

    The first revision gives the field's ``initial`` value (when it has one), unless it is only
    the baseline, in which case the field's value there is what the first change starts from.
    """
    changes: list[FieldChange] = []
    before: tuple[bool, JSONValue] | None = None
    for revision in revisions:
        present, value = field.read(revision.data)
        if before is None:
            before = (present, value)
            if present and not first_is_baseline:
                changes.append(
                    FieldChange(
                        revision.revision_id,
                        revision.created,
                        "initial",
                        new=_shown(field, patterns, value),
                    )
                )
            continue
        was_present, old = before
        before = (present, value)
        if was_present and present:
            if same_value(old, value):
                continue
            op: FieldOp = "replace"
        elif present:
            op = "add"
        elif was_present:
            op = "remove"
        else:
            continue
        changes.append(
            FieldChange(
                revision.revision_id,
                revision.created,
                op,
                old=_shown(field, patterns, old) if op != "add" else None,
                new=_shown(field, patterns, value) if op != "remove" else None,
            )
        )
    return changes
