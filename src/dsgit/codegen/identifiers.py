"""Luau identifiers from arbitrary names: sanitised deterministically, never colliding.

Store names (``DATA/12345``), ``$defs`` keys and key patterns can hold any character; Luau
identifiers are ``[A-Za-z_][A-Za-z0-9_]*`` and not a reserved word. Module names are also file
names (Rojo makes each file an Instance), so they must differ by more than letter case
(macOS and Windows checkouts) and must not be ``init`` or an Instance member ``script.X`` would
read instead of the child.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "LUAU_KEYWORDS",
    "LUAU_RESERVED",
    "NameAllocator",
    "is_field_name",
    "is_identifier",
    "pascal_case",
    "sanitize",
]

LUAU_RESERVED = frozenset(
    {
        "and",
        "break",
        "do",
        "else",
        "elseif",
        "end",
        "false",
        "for",
        "function",
        "if",
        "in",
        "local",
        "nil",
        "not",
        "or",
        "repeat",
        "return",
        "then",
        "true",
        "until",
        "while",
    }
)
# Reserved words and Luau's contextual keywords: never chosen as names (confusing, and
# refused by some tools), though a table field may be called ``type``.
LUAU_KEYWORDS = LUAU_RESERVED | {"continue", "export", "type", "typeof"}

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INVALID = re.compile(r"[^A-Za-z0-9_]")


def is_identifier(name: str) -> bool:
    """``name`` can be written bare in Luau (``t.name``, ``{ name: T }``)."""
    return _IDENTIFIER.fullmatch(name) is not None and name not in LUAU_KEYWORDS


def is_field_name(name: str) -> bool:
    """``name`` can be a bare key of a table type (``{ type: string }``)."""
    return _IDENTIFIER.fullmatch(name) is not None and name not in LUAU_RESERVED


def sanitize(name: str) -> str:
    """``name`` made a valid Luau identifier: every other character becomes ``_``, a leading
    digit (or nothing at all) gets a ``_`` before it, a reserved word gets one after it."""
    text = _INVALID.sub("_", name)
    if not text or text[0].isdigit():
        text = "_" + text
    if text in LUAU_KEYWORDS:
        text += "_"
    return text


def pascal_case(name: str) -> str:
    """``user_id`` / ``userId`` / ``user-id`` -> ``UserId``, as a valid identifier."""
    words = [word for word in re.split(r"[^A-Za-z0-9]+", name) if word]
    text = "".join(word[0].upper() + word[1:] for word in words)
    return sanitize(text)


@dataclass
class NameAllocator:
    """Hands out unique identifiers: the first taker of a name keeps it, later ones get
    ``_2``, ``_3``, … Callers ask in a sorted order, so the result is deterministic.

    ``fold_case``: names must also differ by more than letter case (they are file names).
    ``reserved``: names never handed out (compared the same way).
    """

    fold_case: bool = False
    reserved: frozenset[str] = frozenset()
    _taken: set[str] = field(default_factory=set)

    def _key(self, name: str) -> str:
        return name.casefold() if self.fold_case else name

    def _free(self, name: str) -> bool:
        key = self._key(name)
        return key not in self._taken and key not in {self._key(r) for r in self.reserved}

    def take(self, wanted: str) -> str:
        base = sanitize(wanted)
        name, number = base, 1
        while not self._free(name):
            number += 1
            name = f"{base}_{number}"
        self._taken.add(self._key(name))
        return name
