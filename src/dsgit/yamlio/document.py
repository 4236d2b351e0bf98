"""Read and write YAML documents with ruamel's round-trip mode, in dsgit's canonical style.

Canonical style: block collections (``[]`` and ``{}`` when empty), two-space indents with
``- `` items indented under their key, no line folding, ``null`` spelled out, unicode kept as
is, and strings quoted only when a plain scalar would read back as something else. "Something
else" is judged by both YAML 1.2 (ruamel) and YAML 1.1 (PyYAML's safe loader), so ``yes``,
``on``, ``0123``, ``1e3``, ``1:20``, ``null`` and ``2024-01-01`` stay strings for every reader.
Floats always carry a ``.`` and a signed exponent when they have one (``1.0e+300``), which both
YAML versions read as floats.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarfloat import ScalarFloat

from dsgit.errors import ConfigError, Location
from dsgit.model.entry import JSONValue

__all__ = [
    "Opaque",
    "dump_document",
    "from_plain",
    "load_document",
    "make_yaml",
    "needs_escapes",
    "to_plain",
]

_STR_TAG = "tag:yaml.org,2002:str"
_YAML11 = yaml.resolver.Resolver()
_BREAKS = frozenset("\r\n\x85\u2028\u2029")


def _read_differently_by_yaml11(text: str) -> bool:
    resolved = _YAML11.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return bool(resolved != _STR_TAG)


def needs_escapes(text: str) -> bool:
    """True when only a double-quoted scalar (with escapes) can hold ``text`` faithfully."""
    return any(char in _BREAKS or not char.isprintable() for char in text)


def format_float(value: float) -> str:
    """A float literal that YAML 1.1 and 1.2 both read back as exactly ``value``."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        if exponent[0] not in "+-":
            exponent = "+" + exponent
        return f"{mantissa}e{exponent}"
    if "." not in text:
        text += ".0"
    return text


class _Representer(RoundTripRepresenter):
    def represent_str(self, data: str) -> ScalarNode:
        style: str | None = None
        if needs_escapes(data):
            style = '"'  # escaped: a raw line separator inside quotes is folded into a space
        elif _read_differently_by_yaml11(data):
            style = "'"
        node: ScalarNode = self.represent_scalar(_STR_TAG, data, style=style)
        return node

    def represent_none(self, data: None) -> ScalarNode:
        node: ScalarNode = self.represent_scalar("tag:yaml.org,2002:null", "null")
        return node

    def represent_float(self, data: float) -> ScalarNode:
        node: ScalarNode = self.represent_scalar("tag:yaml.org,2002:float", format_float(data))
        return node

    def represent_loaded_float(self, data: ScalarFloat) -> ScalarNode:
        # ruamel re-renders a loaded float from its remembered width and precision, which can
        # change the number (3.139719499917357e-158 became ...356e-158): keep its spelling
        # only when it still reads back as the same float.
        node: ScalarNode = self.represent_scalar_float(data)
        try:
            same = float(str(node.value).replace("_", "")) == float(data)
        except ValueError:
            same = False
        return node if same else self.represent_float(float(data))


_Representer.add_representer(str, _Representer.represent_str)
_Representer.add_representer(ScalarFloat, _Representer.represent_loaded_float)
_Representer.add_representer(type(None), _Representer.represent_none)
_Representer.add_representer(float, _Representer.represent_float)


def make_yaml() -> YAML:
    """A round-trip ruamel instance in dsgit's canonical style."""
    instance = YAML(typ="rt")
    instance.Representer = _Representer
    instance.indent(mapping=2, sequence=4, offset=2)
    instance.width = 1 << 30  # never fold long strings: one value, one line, clean diffs
    instance.allow_unicode = True
    instance.preserve_quotes = True
    return instance


def _refuse_aliases(document: Any, filename: str) -> None:
    """Aliases share one node between places: editing one place would edit both, and expanding
    them can explode (an alias bomb). Files dsgit edits must spell every value out."""
    seen: set[int] = set()
    pending = [document]
    while pending:
        node = pending.pop()
        if not isinstance(node, Mapping | list):
            continue
        if id(node) in seen:
            raise ConfigError(
                "uses a YAML alias (*name) for a mapping or list; dsgit edits files only when "
                "every value is written out",
                Location(filename),
            )
        seen.add(id(node))
        pending.extend(node.values() if isinstance(node, Mapping) else node)


def load_document(text: str, filename: str) -> Any:
    """Parse one YAML document for round-trip editing; errors name the file and line.

    Aliases of mappings or lists are refused (see :func:`_refuse_aliases`)."""
    try:
        document = make_yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"invalid YAML: {problem}", Location(filename, line, column)) from None
    except YAMLError as exc:
        raise ConfigError(f"invalid YAML: {type(exc).__name__}", Location(filename)) from None
    _refuse_aliases(document, filename)
    return document


def dump_document(document: Any, header: str | None = None) -> str:
    """The text of ``document``; ``header`` (a comment line without ``#``) goes first when the
    document does not already start with it."""
    buffer = io.StringIO()
    make_yaml().dump(document, buffer)
    text = buffer.getvalue()
    if header is not None:
        line = f"# {header}\n"
        if not text.startswith(line):
            text = line + text
    return text


class Opaque:
    """A YAML value with no JSON equivalent (a date, a set…); never equal to a JSON value."""

    def __init__(self, description: str) -> None:
        self.description = description


def to_plain(node: Any, filename: str | None = None) -> JSONValue:
    """The JSON value of a round-trip node. A non-JSON node raises :class:`ConfigError` naming
    ``filename``; with ``filename=None`` it becomes an :class:`Opaque` instead."""
    if node is None or isinstance(node, str | bool):
        return str(node) if isinstance(node, str) else node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, Mapping):
        result: dict[str, JSONValue] = {}
        for key, child in node.items():
            if not isinstance(key, str):
                return _not_json("a mapping key that is not a string", filename)
            result[str(key)] = to_plain(child, filename)
        return result
    if isinstance(node, Sequence):
        return [to_plain(child, filename) for child in node]
    kind = "a date or time" if isinstance(node, date | datetime) else type(node).__name__
    return _not_json(kind, filename)


def _not_json(description: str, filename: str | None) -> JSONValue:
    if filename is None:
        return Opaque(description)  # type: ignore[return-value]
    raise ConfigError(
        f"not a JSON value: {description} (quote it to make it a string)", Location(filename)
    )


def from_plain(value: JSONValue) -> Any:
    """Round-trip nodes for a JSON value (block style; new containers, shared with nothing)."""
    if isinstance(value, dict):
        mapping = CommentedMap()
        for key, child in value.items():
            mapping[key] = from_plain(child)
        return mapping
    if isinstance(value, list):
        sequence = CommentedSeq()
        sequence.extend(from_plain(child) for child in value)
        return sequence
    return value
