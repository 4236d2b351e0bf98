"""Luau type expressions, and their text as StyLua formats it (tabs, one field per line).

A small closed union, so the translation from JSON Schema builds structure and only
:func:`render` decides parentheses, ``?`` and line breaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from dsgit.codegen.identifiers import is_identifier

__all__ = [
    "ANY",
    "BOOLEAN",
    "NEVER",
    "NUMBER",
    "STRING",
    "ArrayType",
    "Field",
    "IntersectionType",
    "LuauType",
    "NamedType",
    "TableType",
    "UnionType",
    "comment_lines",
    "intersection",
    "lua_string",
    "render",
    "union",
]


@dataclass(frozen=True)
class NamedType:
    """A builtin (``string``), a literal (``"gems"``, ``true``) or a type alias of the module."""

    text: str


@dataclass(frozen=True)
class ArrayType:
    """``{ T }``: a JSON array."""

    item: LuauType


@dataclass(frozen=True)
class Field:
    """One property of a table type; ``comments`` are written on the lines above it."""

    name: str
    type: LuauType
    comments: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableType:
    """``{ name: T, [string]: U }``: a JSON object (``indexer``: its other keys' values)."""

    fields: tuple[Field, ...] = ()
    indexer: LuauType | None = None


@dataclass(frozen=True)
class UnionType:
    """``A | B``, with ``nullable`` written as ``?`` (JSON null, and absent keys, are nil)."""

    members: tuple[LuauType, ...]
    nullable: bool = False


@dataclass(frozen=True)
class IntersectionType:
    """``A & B`` (``allOf``)."""

    members: tuple[LuauType, ...]


LuauType = NamedType | ArrayType | TableType | UnionType | IntersectionType

ANY = NamedType("any")
NEVER = NamedType("never")
NIL = NamedType("nil")
STRING = NamedType("string")
NUMBER = NamedType("number")
BOOLEAN = NamedType("boolean")


def union(members: list[LuauType] | tuple[LuauType, ...], nullable: bool = False) -> LuauType:
    """The union of ``members``, flattened and without duplicates; ``any`` absorbs the rest
    (it includes nil), ``never`` disappears."""
    flat: list[LuauType] = []
    for member in members:
        if isinstance(member, UnionType):
            nullable = nullable or member.nullable
            candidates: tuple[LuauType, ...] = member.members
        else:
            candidates = (member,)
        for candidate in candidates:
            if candidate == ANY:
                return ANY
            if candidate == NIL:
                nullable = True
            elif candidate != NEVER and candidate not in flat:
                flat.append(candidate)
    if not flat:
        return NIL if nullable else NEVER
    if len(flat) == 1 and not nullable:
        return flat[0]
    return UnionType(tuple(flat), nullable)


def intersection(members: list[LuauType]) -> LuauType:
    """``A & B`` without ``any`` members (they add nothing); one member is itself."""
    kept: list[LuauType] = []
    for member in members:
        if member == ANY or member in kept:
            continue
        if member == NEVER:
            return NEVER
        kept.append(member)
    if not kept:
        return ANY
    if len(kept) == 1:
        return kept[0]
    return IntersectionType(tuple(kept))


def lua_string(text: str) -> str:
    """A double-quoted Luau string literal (also a string singleton type)."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif code < 32 or code == 127:
            out.append(f"\\{code:03d}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def comment_lines(text: str) -> tuple[str, ...]:
    """Free text (a schema ``description``) as comment lines: one per line, stripped."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return tuple(lines)


def _key(name: str) -> str:
    return name if is_identifier(name) else f"[{lua_string(name)}]"


def _comments(lines: tuple[str, ...], tabs: str) -> list[str]:
    return [f"{tabs}-- {line}".rstrip() if line else f"{tabs}--" for line in lines]


def render(luau_type: LuauType, depth: int = 0) -> str:
    """The type's text; a table with fields spans lines, indented ``depth`` tabs."""
    match luau_type:
        case NamedType(text):
            return text
        case ArrayType(item):
            inner = render(item, depth)
            return f"{{ {inner} }}"
        case TableType(fields, indexer):
            if not fields and indexer is None:
                return "{}"
            if not fields:
                assert indexer is not None
                return f"{{ [string]: {render(indexer, depth)} }}"
            tabs = "\t" * (depth + 1)
            lines = ["{"]
            for one in fields:
                lines.extend(_comments(one.comments, tabs))
                lines.append(f"{tabs}{_key(one.name)}: {render(one.type, depth + 1)},")
            if indexer is not None:
                lines.append(f"{tabs}[string]: {render(indexer, depth + 1)},")
            lines.append("\t" * depth + "}")
            return "\n".join(lines)
        case UnionType(members, nullable):
            parts = [_operand(member, depth) for member in members]
            if not nullable:
                return " | ".join(parts)
            if len(parts) == 1:
                return f"{parts[0]}?"
            return f"({' | '.join(parts)})?"
        case IntersectionType(members):
            return " & ".join(_operand(member, depth) for member in members)
        case _:
            assert_never(luau_type)


def _operand(luau_type: LuauType, depth: int) -> str:
    text = render(luau_type, depth)
    if isinstance(luau_type, UnionType | IntersectionType):
        return f"({text})"
    return text
