"""Keeping sensitive values out of plans: pointer patterns, masked diffs, placeholder values.

Patterns are JSON pointers with ``*`` matching any member or item (``dsgit.model.pointers``).
A node is covered by a pattern when the pattern matches the node's pointer or one of its
ancestors' pointers; a diff line is masked when its node is covered or contains a covered node.
"""

from __future__ import annotations

from collections.abc import Iterable

from dsgit.model.entry import JSONValue
from dsgit.model.pointers import WILDCARD, parse_pointer
from dsgit.plan.digest import sensitive_placeholder
from dsgit.plan.model import MASK

__all__ = ["PointerPatterns"]

Segments = tuple[str, ...]


class PointerPatterns:
    """A set of pointer patterns; answers which nodes of a value they cover."""

    __slots__ = ("_patterns",)

    def __init__(self, patterns: Iterable[str]) -> None:
        self._patterns: tuple[Segments, ...] = tuple(parse_pointer(p) for p in patterns)

    def __bool__(self) -> bool:
        return bool(self._patterns)

    @staticmethod
    def _prefix_match(pattern: Segments, path: Segments) -> bool:
        return all(p in (WILDCARD, s) for p, s in zip(pattern, path, strict=False))

    def covers(self, path: Segments) -> bool:
        """The node at ``path`` is at or below a pattern match."""
        return any(
            len(pattern) <= len(path) and self._prefix_match(pattern, path)
            for pattern in self._patterns
        )

    def touches(self, path: Segments) -> bool:
        """The node at ``path`` is covered, or holds a covered node somewhere below it."""
        return any(self._prefix_match(pattern, path) for pattern in self._patterns)

    def mask(self, value: JSONValue, path: Segments = ()) -> JSONValue:
        """``value`` (found at ``path``) with every covered node replaced by ``(sensitive)``."""
        if not self._patterns or not self.touches(path):
            return value
        if self.covers(path):
            return MASK
        if isinstance(value, dict):
            return {name: self.mask(item, (*path, name)) for name, item in value.items()}
        if isinstance(value, list):
            return [self.mask(item, (*path, str(i))) for i, item in enumerate(value)]
        return value

    def placehold(self, value: JSONValue, keep: PointerPatterns, path: Segments = ()) -> JSONValue:
        """``value`` with each covered node replaced by its ``{"$sensitive": digest}``
        placeholder, except nodes covered by ``keep`` (encrypted: they stay ciphertext)."""
        if not self._patterns or not self.touches(path) or keep.covers(path):
            return value
        if self.covers(path):
            return sensitive_placeholder(value)
        if isinstance(value, dict):
            return {name: self.placehold(item, keep, (*path, name)) for name, item in value.items()}
        if isinstance(value, list):
            return [self.placehold(item, keep, (*path, str(i))) for i, item in enumerate(value)]
        return value
