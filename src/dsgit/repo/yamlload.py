"""Fast, safe YAML reading with positions (DESIGN.md §12: bad input gets a clear error).

libyaml (PyYAML's ``CSafeLoader``) composes the node tree; values are then built from the nodes
here, so that:

- scalars resolve by the YAML 1.2 core schema, as ruamel (which writes files) does: ``yes``,
  ``on``, ``010`` or ``1:20`` stay strings, never silently become booleans or numbers;
- duplicate keys, non-string keys, tags outside JSON and non-finite numbers are problems;
- aliases are followed but their expansion is bounded (an alias bomb is refused);
- the node tree stays available to point any JSON pointer at its line and column.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from typing import ClassVar, Final

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from dsgit.model.entry import JSONValue
from dsgit.repo.problems import Problem

__all__ = [
    "ALIAS_EXPANSION_LIMIT",
    "MAX_DEPTH",
    "YamlDocument",
    "key_node",
    "locate",
    "node_position",
    "parse_yaml",
]

ALIAS_EXPANSION_LIMIT: Final = 10_000  # nodes built again through aliases, per file
MAX_DEPTH: Final = 200  # nesting of mappings and sequences

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + name for name in ("str", "int", "float", "bool", "null"))
_MAP, _SEQ, _MERGE = _TAG + "map", _TAG + "seq", _TAG + "merge"

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """libyaml with the YAML 1.2 core schema's implicit resolvers instead of YAML 1.1's."""

    yaml_implicit_resolvers: ClassVar[dict[str | None, list[tuple[str, re.Pattern[str]]]]] = {}

    # libyaml calls these for every node; dsgit has no path resolvers, so skip their bookkeeping
    def descend_resolver(self, current_node: object, current_index: object) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                for tag, pattern in self.yaml_implicit_resolvers.get(value[:1], ()):
                    if pattern.match(value):
                        return tag
            return _STR
        return _SEQ if kind is SequenceNode else _MAP


# What each JSON scalar tag accepts; an explicit tag (`!!int abc`) must spell its type the same way.
_SPELLINGS: dict[str, re.Pattern[str]] = {}


def _resolver(tag: str, pattern: str, first: str) -> None:
    compiled = re.compile(pattern, re.X)
    _SPELLINGS[tag] = compiled
    _Loader.add_implicit_resolver(tag, compiled, list(first))


_resolver(_NULL, r"^(?:~|null|Null|NULL|)$", "~nN")
_Loader.add_implicit_resolver(_NULL, re.compile(r"^$"), [""])
_resolver(_MERGE, r"^<<$", "<")
_resolver(_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
_resolver(_INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789")
_resolver(
    _FLOAT,
    r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""",
    "-+0123456789.",
)


@dataclass(frozen=True)
class YamlDocument:
    """A parsed file: the JSON value and the root node (None for an empty file).

    ``aliased``: some node was used more than once, so the value may be much larger than the
    text (``chars``) it came from. ``may_hold_tokens``: False when no string of the value can be
    an ``ENC[...]`` token (the text has neither ``ENC[`` nor an escape that could spell it).
    """

    value: JSONValue
    node: Node | None
    chars: int = 0
    aliased: bool = False
    may_hold_tokens: bool = True


class _Halt(Exception):
    """Stop building: the problem is already recorded."""


def node_position(node: Node) -> tuple[int, int]:
    mark = node.start_mark
    return mark.line + 1, mark.column + 1


def key_node(node: Node | None, tokens: list[str] | tuple[str, ...]) -> Node | None:
    """The node of the last key in ``tokens`` (for "unknown field"), else the nearest node."""
    if not tokens:
        return node
    parent = _walk(node, tokens[:-1])
    if isinstance(parent, MappingNode):
        for key, _value in parent.value:
            if isinstance(key, ScalarNode) and key.value == tokens[-1]:
                return key
    return parent


def _walk(node: Node | None, tokens: list[str] | tuple[str, ...]) -> Node | None:
    for token in tokens:
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value == token:
                    node = value
                    break
            else:
                return node
        elif isinstance(node, SequenceNode) and token.isdigit() and int(token) < len(node.value):
            node = node.value[int(token)]
        else:
            return node
    return node


def locate(node: Node | None, tokens: list[str] | tuple[str, ...]) -> tuple[int, int] | None:
    """Line and column of the value at ``tokens`` (or of its nearest existing ancestor)."""
    found = _walk(node, tokens)
    return node_position(found) if found is not None else None


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.seen: set[int] = set()
        self.inside_alias = 0
        self.expanded = 0
        self.aliased = False

    def problem(self, node: Node, code: str, message: str) -> None:
        line, column = node_position(node)
        self.problems.append(Problem(self.file, line, column, code, message))

    def build(self, node: Node, depth: int) -> JSONValue:
        if self.inside_alias:
            self.expanded += 1
            if self.expanded > ALIAS_EXPANSION_LIMIT:
                self.problem(
                    node,
                    "DS103",
                    f"aliases expand to more than {ALIAS_EXPANSION_LIMIT} nodes (alias bomb)",
                )
                raise _Halt
        if isinstance(node, ScalarNode):
            if id(node) in self.seen:
                self.aliased = True
            else:
                self.seen.add(id(node))
            return self.scalar(node)
        if depth > MAX_DEPTH:
            self.problem(node, "DS104", f"nested deeper than {MAX_DEPTH} levels")
            raise _Halt
        again = id(node) in self.seen
        if again:
            self.aliased = True
            self.inside_alias += 1
        else:
            self.seen.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                self.check_tag(node, _SEQ)
                return [self.build(child, depth + 1) for child in node.value]
            assert isinstance(node, MappingNode)
            self.check_tag(node, _MAP)
            return self.mapping(node, depth)
        finally:
            if again:
                self.inside_alias -= 1

    def check_tag(self, node: Node, expected: str) -> None:
        if node.tag != expected:
            self.problem(node, "DS104", f"tag {node.tag} is not supported (JSON values only)")

    def mapping(self, node: MappingNode, depth: int) -> dict[str, JSONValue]:
        out: dict[str, JSONValue] = {}
        first: dict[str, Node] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode) or key.tag != _STR:
                if isinstance(key, ScalarNode) and key.tag == _MERGE:
                    self.problem(key, "DS104", "merge keys (<<) are not supported")
                elif isinstance(key, ScalarNode) and key.tag in (_INT, _FLOAT, _BOOL, _NULL):
                    self.problem(
                        key, "DS104", f'key {key.value!r} is not a string: quote it ("...")'
                    )
                else:
                    self.problem(key, "DS104", "mapping keys must be strings")
                continue
            name = key.value
            if name in first:
                line, _column = node_position(first[name])
                self.problem(key, "DS102", f"duplicate key {name!r} (first at line {line})")
            else:
                first[name] = key
            out[name] = self.build(value, depth + 1)
        return out

    def scalar(self, node: ScalarNode) -> JSONValue:
        text = str(node.value)
        tag = node.tag
        text = str(text)
        if tag == _STR:
            return text
        spelling = _SPELLINGS.get(tag)
        if spelling is not None and not spelling.match(text):
            kind = tag.removeprefix(_TAG)
            self.problem(node, "DS104", f"this text does not read as !!{kind}")
            return None
        if tag == _INT:
            integer = _to_int(text)
            if integer is None:
                self.problem(node, "DS104", "integer is too large for a JSON number")
            return integer
        if tag == _FLOAT:
            if text.lstrip("+-").lower() in (".inf", ".nan"):
                self.problem(node, "DS104", f"{text} is not a JSON number")
                return None
            number = float(text)
            if not math.isfinite(number):
                self.problem(node, "DS104", f"{text} is too large for a JSON number")
                return None
            return number
        if tag == _BOOL:
            return text.lower() == "true"
        if tag == _NULL:
            return None
        if tag == _TAG + "timestamp":
            return str(text)
        self.problem(node, "DS104", f"tag {tag} is not supported (JSON values only)")
        return None


# Beyond the largest double no JSON reader (Roblox's included) can hold the number; checking the
# digit count first also keeps a 5000-digit literal away from int()'s conversion limit.
_MAX_DECIMAL_DIGITS = len(str(int(sys.float_info.max)))


def _to_int(text: str) -> int | None:
    """The integer a YAML 1.1 int scalar spells, or ``None`` when it exceeds every double."""
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    if body.startswith("0o"):
        number = int(body[2:], 8)
    elif body.startswith("0x"):
        number = int(body[2:], 16)
    elif len(body.lstrip("0")) > _MAX_DECIMAL_DIGITS:
        return None
    else:
        number = int(body, 10)
    return sign * number if number <= sys.float_info.max else None


def _reader_position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def parse_yaml(text: str, file: str) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse one file. ``None`` when it cannot be read as YAML; problems in both cases."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        reason = exc.problem or exc.context or "syntax error"
        if exc.context and exc.problem:
            reason = f"{exc.problem} ({exc.context})"
        if mark is not None and text[mark.index : mark.index + 1] == "\t":
            reason = "a tab character: YAML indents with spaces only"
        return None, [Problem(file, line, column, "DS101", f"invalid YAML: {reason}")]
    except yaml.reader.ReaderError as exc:
        line, column = _reader_position(text, exc.position)
        return None, [
            Problem(file, line, column, "DS101", f"invalid YAML: character #x{exc.character:04x}")
        ]
    except yaml.YAMLError as exc:
        return None, [Problem(file, None, None, "DS101", f"invalid YAML: {exc}")]
    if node is None:
        return YamlDocument(None, None), []
    builder = _Builder(file)
    try:
        value = builder.build(node, 0)
    except _Halt:
        return None, builder.problems
    may_hold_tokens = "ENC[" in text or "\\" in text
    return YamlDocument(value, node, len(text), builder.aliased, may_hold_tokens), builder.problems
