"""Luau type expressions, and their text as StyLua formats it (tabs, one field per line).

A small closed union, so the translation from JSON Schema builds structure and only
:func:`render` decides parentheses, ``?`` and line breaks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import assert_never

from dsgit.codegen.identifiers import is_field_name

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
    "render_alias",
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
    """A Luau string literal (also a string singleton type), quoted as StyLua quotes it:
    double quotes, unless the text holds more double than single quotes."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    out = [quote]
    for char in text:
        code = ord(char)
        if char == quote:
            out.append("\\" + quote)
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
        elif 0xD800 <= code <= 0xDFFF:  # a lone surrogate (JSON allows it): not UTF-8
            out.append(f"\\u{{{code:X}}}")
        else:
            out.append(char)
    out.append(quote)
    return "".join(out)


_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x85\u2028\u2029]")


def comment_lines(text: str) -> tuple[str, ...]:
    """Free text (a schema ``description``) as comment lines: one per line, stripped."""
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become "?"
    lines = [line.strip() for line in _LINE_BREAKS.split(text)]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return tuple(lines)


def _key(name: str) -> str:
    return name if is_field_name(name) else f"[{lua_string(name)}]"


def _comments(lines: tuple[str, ...], tabs: str) -> list[str]:
    # a line break inside a comment (from a schema's text) must never end the comment
    flat = [part for line in lines for part in (comment_lines(line) or ("",))]
    return [f"{tabs}-- {line}".rstrip() if line else f"{tabs}--" for line in flat]


WIDTH = 120  # StyLua's default column width, a tab counting 4
_TAB = 4


def render(luau_type: LuauType, depth: int = 0, lead: int = 0, tail: int = 0) -> str:
    """The type's text, as StyLua lays it out: a table with fields spans lines (indented
    ``depth`` tabs), a union too long for its line breaks before each ``|``. ``lead`` and
    ``tail`` are the columns before and after the type on its line."""
    return _render(luau_type, depth, lead, tail, "hang")


def render_alias(name: str, luau_type: LuauType) -> str:
    """``export type name = T``."""
    head = f"export type {name} ="
    text = _render(luau_type, 0, len(head) + 1, 0, "alias")
    return head + text if text.startswith("\n") else f"{head} {text}"


def _fits(text: str, lead: int, tail: int) -> bool:
    return "\n" not in text and lead + len(text) + tail <= WIDTH


def _render(luau_type: LuauType, depth: int, lead: int, tail: int, context: str) -> str:
    match luau_type:
        case NamedType(text):
            return text
        case ArrayType(item):
            inner = _render(item, depth, lead + 2, tail + 2, "hang")
            if _fits(inner, lead + 2, tail + 2):
                return f"{{ {inner} }}"
            tabs = "\t" * (depth + 1)
            body = _render(item, depth + 1, (depth + 1) * _TAB, 0, "block")
            return f"{{\n{tabs}{body}\n" + "\t" * depth + "}"
        case TableType(fields, indexer):
            if not fields and indexer is None:
                return "{}"
            if not fields:
                assert indexer is not None
                inner = _render(indexer, depth, lead + 12, tail + 2, "hang")
                hugs = isinstance(indexer, TableType) and bool(indexer.fields)
                if hugs or _fits(inner, lead + 12, tail + 2):
                    return f"{{ [string]: {inner} }}"  # a table value hugs: { [string]: {
            tabs = "\t" * (depth + 1)
            column = (depth + 1) * _TAB
            lines = ["{"]
            for one in fields:
                key = _key(one.name)
                lines.extend(_comments(one.comments, tabs))
                text = _render(one.type, depth + 1, column + len(key) + 2, 1, "hang")
                lines.append(f"{tabs}{key}: {text},")
            if indexer is not None:
                text = _render(indexer, depth + 1, column + 10, 1, "hang")
                lines.append(f"{tabs}[string]: {text},")
            lines.append("\t" * depth + "}")
            return "\n".join(lines)
        case UnionType(members, nullable):
            parts = [_operand(member, depth, lead) for member in members]
            joined = " | ".join(parts)
            if nullable:
                joined = f"{parts[0]}?" if len(parts) == 1 else f"({joined})?"
            if len(parts) == 1 or any("\n" in part for part in parts):
                return joined
            if _fits(joined, lead, tail):
                return joined
            return _broken(parts, depth, nullable, context)
        case IntersectionType(members):
            return " & ".join(_operand(member, depth, lead) for member in members)
        case _:
            assert_never(luau_type)


def _broken(parts: list[str], depth: int, nullable: bool, context: str) -> str:
    """A union on one line per member, each after ``| ``, as StyLua breaks a long one."""
    inner = "\t" * (depth + 1)
    if nullable:
        rest = "".join(f"\n{inner}| {part}" for part in parts[1:])
        return f"(\n{inner}{parts[0]}{rest}\n" + "\t" * depth + ")?"
    if context == "alias":
        return "".join(f"\n{inner}{'| ' if n else ''}{part}" for n, part in enumerate(parts))
    if context == "block":
        here = "\t" * depth
        return parts[0] + "".join(f"\n{here}| {part}" for part in parts[1:])
    return parts[0] + "".join(f"\n{inner}| {part}" for part in parts[1:])


def _operand(luau_type: LuauType, depth: int, lead: int) -> str:
    text = _render(luau_type, depth, lead, 0, "hang")
    if isinstance(luau_type, UnionType | IntersectionType):
        return f"({text})"
    return text
