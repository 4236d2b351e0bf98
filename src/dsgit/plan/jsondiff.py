"""A small structural differ: JSON pointers (``/Items/3/Price``) with old and new values.

Objects are compared member by member, arrays item by item (then the extra tail), anything else
as a whole. Equality is :func:`dsgit.plan.values.values_equal`, so ``1`` vs ``1.0`` and ``[]`` vs
``{}`` produce no line. Values under sensitive patterns come out as ``(sensitive)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsgit.model.entry import EntryData, JSONValue
from dsgit.model.pointers import format_pointer
from dsgit.plan.masking import PointerPatterns
from dsgit.plan.model import DiffLine
from dsgit.plan.values import json_type, same_value

__all__ = ["TypeChange", "diff_data", "diff_values"]

Segments = tuple[str, ...]


@dataclass(frozen=True)
class TypeChange:
    """A replaced node whose JSON type changed (``string`` -> ``number``...)."""

    pointer: str
    old_type: str
    new_type: str


@dataclass
class _Collector:
    patterns: PointerPatterns
    lines: list[DiffLine]
    types: list[TypeChange]
    prefix: str = ""

    def emit(self, path: Segments, op: str, old: JSONValue, new: JSONValue) -> None:
        pointer = self.prefix + format_pointer(path)
        old_shown = self.patterns.mask(old, path) if op != "add" else None
        new_shown = self.patterns.mask(new, path) if op != "remove" else None
        if op == "replace" and json_type(old) != json_type(new):
            self.types.append(TypeChange(pointer, json_type(old), json_type(new)))
        self.lines.append(DiffLine(pointer, op, old_shown, new_shown))  # type: ignore[arg-type]

    def walk(self, old: JSONValue, new: JSONValue, path: Segments) -> None:
        if same_value(old, new):
            return
        if isinstance(old, dict) and isinstance(new, dict):
            for name in sorted(old.keys() | new.keys()):
                if name not in new:
                    self.emit((*path, name), "remove", old[name], None)
                elif name not in old:
                    self.emit((*path, name), "add", None, new[name])
                else:
                    self.walk(old[name], new[name], (*path, name))
            return
        if isinstance(old, list) and isinstance(new, list):
            common = min(len(old), len(new))
            for index in range(common):
                self.walk(old[index], new[index], (*path, str(index)))
            # Removals from the end first, so applying the lines in order stays valid.
            for index in range(len(old) - 1, common - 1, -1):
                self.emit((*path, str(index)), "remove", old[index], None)
            for index in range(common, len(new)):
                self.emit((*path, str(index)), "add", None, new[index])
            return
        self.emit(path, "replace", old, new)


def diff_values(
    old: JSONValue, new: JSONValue, patterns: PointerPatterns | None = None
) -> tuple[list[DiffLine], list[TypeChange]]:
    """Diff lines (masked by ``patterns``) and type changes from ``old`` to ``new``."""
    collector = _Collector(patterns or PointerPatterns(()), [], [])
    collector.walk(old, new, ())
    return collector.lines, collector.types


def diff_data(
    old: EntryData | None, new: EntryData | None, patterns: PointerPatterns | None = None
) -> tuple[list[DiffLine], list[TypeChange]]:
    """Diff of whole entries: the value, then ``@attributes/...`` and ``@users``.

    A missing side gives one ``add`` (create) or ``remove`` (delete) line for the whole value.
    """
    patterns = patterns or PointerPatterns(())
    collector = _Collector(patterns, [], [])
    if old is None and new is None:
        return [], []
    if old is None:
        assert new is not None
        collector.emit((), "add", None, new.value)
        return collector.lines, []
    if new is None:
        collector.emit((), "remove", old.value, None)
        return collector.lines, []
    collector.walk(old.value, new.value, ())
    meta = _Collector(PointerPatterns(()), collector.lines, [], prefix="@attributes")
    meta.walk(dict(old.attributes), dict(new.attributes), ())
    if sorted(old.users) != sorted(new.users):
        collector.lines.append(DiffLine("@users", "replace", list(old.users), list(new.users)))
    return collector.lines, collector.types
