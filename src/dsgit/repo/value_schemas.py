"""The repository's value schemas (``schemas/``): JSON Schema 2020-12 in JSON or YAML, with
``$ref`` across files. Each file is registered under ``file:///<repository path>`` (and its
``$id``), and every store schema is compiled once into one validator.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urldefrag, urljoin

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from dsgit.model.entry import JSONValue
from dsgit.repo.fast_schema import Predicate, compile_predicate
from dsgit.repo.problems import Problem
from dsgit.repo.yamlload import locate, parse_yaml

__all__ = ["SCHEMA_DIR", "ValueSchemas", "format_checker", "schema_uri"]

SCHEMA_DIR = "schemas"
SCHEMA_SUFFIXES = (".json", ".yaml", ".yml")

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _format_checker() -> FormatChecker:
    checker = FormatChecker()
    if "date-time" not in checker.checkers:

        @checker.checks("date-time")
        def _date_time(instance: object) -> bool:
            if not isinstance(instance, str):
                return True
            if not _RFC3339.match(instance):
                return False
            text = instance.replace("z", "Z").replace("Z", "+00:00")
            head, _, rest = text.partition(".")
            if rest:  # Python < 3.11.? rejects more than 6 fractional digits
                digits = re.match(r"\d+", rest)
                assert digits is not None
                text = head + "." + digits.group()[:6].ljust(6, "0") + rest[digits.end() :]
            try:
                datetime.fromisoformat(text)
            except ValueError:
                return False
            return True

    return checker


_FORMATS = _format_checker()


def format_checker() -> FormatChecker:
    """The format checker value schemas are validated with (RFC 3339 ``date-time``)."""
    return _FORMATS


def schema_uri(reference: str) -> str:
    """The URI of a store's ``schema:`` setting (``schemas/a.json#/$defs/X``)."""
    path, _, fragment = reference.partition("#")
    uri = "file:///" + quote(path)
    return f"{uri}#{fragment}" if fragment else uri


@dataclass
class ValueSchemas:
    """Every schema document of ``schemas/`` by repository path, and compiled validators."""

    documents: dict[str, JSONValue] = field(default_factory=dict)
    registry: Registry[Any] = field(default_factory=Registry)
    _validators: dict[str, Validator | None] = field(default_factory=dict)
    _predicates: dict[str, Predicate | None] = field(default_factory=dict)
    # documents check_documents() found invalid, or whose $refs reach one: never compiled
    broken: set[str] = field(default_factory=set)

    @classmethod
    def from_documents(cls, documents: Mapping[str, JSONValue]) -> ValueSchemas:
        """Register already-parsed documents (used again when planning needs validators)."""
        schemas = cls(dict(documents))
        resources: list[tuple[str, Resource[Any]]] = []
        for path, document in documents.items():
            resource = Resource.from_contents(document, default_specification=DRAFT202012)
            resources.append((schema_uri(path), resource))
            identifier = document.get("$id") if isinstance(document, dict) else None
            if isinstance(identifier, str):
                resources.append((urldefrag(identifier).url, resource))
        schemas.registry = Registry().with_resources(resources)
        return schemas

    def validator(self, reference: str) -> Validator | None:
        """The validator of a ``schema:`` reference, or None if it does not resolve."""
        if reference in self._validators:
            return self._validators[reference]
        path = reference.partition("#")[0]
        document = self.documents.get(path)
        compiled: Validator | None = None
        if isinstance(document, dict | bool) and path not in self.broken:
            cls = validators.validator_for(document, default=Draft202012Validator)
            uri = schema_uri(reference)
            try:
                self.registry.resolver().lookup(uri)
            except Unresolvable:
                compiled = None
            else:
                schema: Any = {"$ref": uri}
                if "#" not in reference and isinstance(document, dict):
                    # the document itself, based at its file URI: no $ref hop per validation
                    schema = document if "$id" in document else {**document, "$id": uri}
                compiled = cls(schema, registry=self.registry, format_checker=_FORMATS)
        self._validators[reference] = compiled
        return compiled

    def predicate(self, reference: str) -> Predicate | None:
        """A fast "is valid" check of a ``schema:`` reference, when its keywords allow one."""
        if reference in self._predicates:
            return self._predicates[reference]
        compiled: Predicate | None = None
        if self.validator(reference) is not None:
            resolved = self.registry.resolver().lookup(schema_uri(reference))
            compiled = compile_predicate(resolved.contents, resolved.resolver, _FORMATS)
        self._predicates[reference] = compiled
        return compiled

    def is_broken(self, reference: str) -> bool:
        """The ``schema:`` reference names a document already reported as invalid (DS207)."""
        return reference.partition("#")[0] in self.broken

    def check_documents(self) -> Iterator[tuple[str, list[str], str]]:
        """``(path, json path, message)`` for every invalid schema, unresolvable ``$ref`` or
        invalid ``pattern``; marks those documents, and every one whose ``$ref`` reaches them,
        as :attr:`broken`. Only documents of ``schemas/`` resolve: nothing is ever fetched."""
        reaches: dict[str, set[str]] = {}
        for path, document in sorted(self.documents.items()):
            problems = list(self._check_document(path, document, reaches.setdefault(path, set())))
            if problems:
                self.broken.add(path)
            for where, message in problems:
                yield path, where, message
        self._spread(reaches)
        for path in sorted(set(self.documents) - self.broken):
            failure = _trial(self.documents[path], self.registry, schema_uri(path))
            if failure is not None:
                self.broken.add(path)
                yield path, [], failure
        self._spread(reaches)

    def _spread(self, reaches: dict[str, set[str]]) -> None:
        """Marks broken every document whose ``$ref`` reaches a broken one."""
        changed = True
        while changed:
            changed = False
            for path, targets in reaches.items():
                if path not in self.broken and targets & self.broken:
                    self.broken.add(path)
                    changed = True

    def _check_document(
        self, path: str, document: JSONValue, reaches: set[str]
    ) -> Iterator[tuple[list[str], str]]:
        if not isinstance(document, dict | bool):
            yield [], "a JSON Schema is a mapping (or true/false)"
            return
        cls = validators.validator_for(document, default=Draft202012Validator)
        try:
            cls.check_schema(document)  # type: ignore[arg-type]
        except SchemaError as exc:
            message = exc.message if len(exc.message) < 200 else exc.message[:200] + "…"
            yield [str(part) for part in exc.absolute_path], message
            return
        for where, pattern in _patterns(document, []):
            try:
                re.compile(pattern)
            except re.error as exc:
                yield where, f"invalid regular expression: {exc}"
        base = schema_uri(path)
        resolver = self.registry.resolver(base_uri=base)
        for where, ref in _refs(document, []):
            try:
                resolver.lookup(ref)
            except Unresolvable:
                yield where, f"cannot resolve $ref {ref!r} (only files under schemas/ resolve)"
                continue
            target = self._paths_by_uri().get(urldefrag(urljoin(base, ref)).url)
            if target is not None:
                reaches.add(target)

    def _paths_by_uri(self) -> dict[str, str]:
        uris: dict[str, str] = {}
        for path, document in self.documents.items():
            uris[schema_uri(path)] = path
            identifier = document.get("$id") if isinstance(document, dict) else None
            if isinstance(identifier, str):
                uris[urldefrag(identifier).url] = path
        return uris


def _refs(node: object, path: list[str]) -> Iterator[tuple[list[str], str]]:
    if isinstance(node, dict):
        for name, child in node.items():
            if name == "$ref" and isinstance(child, str):
                yield [*path, name], child
            elif name in ("enum", "const", "examples", "default"):
                continue
            else:
                yield from _refs(child, [*path, str(name)])
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _refs(child, [*path, str(index)])


_SAMPLES: tuple[JSONValue, ...] = (None, True, 0, 0.5, "", [], {})


def _trial(document: JSONValue, registry: Registry[Any], uri: str) -> str | None:
    """Why applying the schema would fail, if it would: mostly a cycle of ``$ref`` that stays
    on one value (it recurses forever). Every such cycle passes through some ``$ref`` of some
    document, and is met from that ``$ref``'s target whatever the value, so trying each target
    on a few samples finds it."""
    assert isinstance(document, dict | bool)
    cls = validators.validator_for(document, default=Draft202012Validator)
    starts: list[Any] = [{**document, "$id": uri} if isinstance(document, dict) else document]
    starts.extend({"$ref": urljoin(uri, ref)} for _where, ref in _refs(document, []))
    try:
        for schema in starts:
            validator = cls(schema, registry=registry)
            for sample in _SAMPLES:
                validator.is_valid(sample)
    except RecursionError:
        return "its $refs loop back to themselves without reading any value"
    except Unresolvable as exc:
        return f"cannot resolve a $ref ({type(exc).__name__})"
    return None


def _patterns(node: object, path: list[str]) -> Iterator[tuple[list[str], str]]:
    """Regular expressions of ``pattern`` and ``patternProperties`` (whose format the
    metaschema does not check), with their JSON paths."""
    if isinstance(node, dict):
        for name, child in node.items():
            if name == "pattern" and isinstance(child, str):
                yield [*path, name], child
            elif name == "patternProperties" and isinstance(child, dict):
                for regex, sub in child.items():
                    yield [*path, name, regex], regex
                    yield from _patterns(sub, [*path, name, regex])
            elif name not in ("enum", "const", "examples", "default"):
                yield from _patterns(child, [*path, str(name)])
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _patterns(child, [*path, str(index)])


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise _DuplicateKey(name)
        out[name] = value
    return out


class _DuplicateKey(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def parse_schema_file(path: str, text: str) -> tuple[JSONValue, list[Problem]]:
    """Parse one schema file (JSON strictly, YAML with dsgit's safe loader)."""
    if path.endswith(".json"):
        try:
            value: JSONValue = json.loads(
                text, object_pairs_hook=_no_duplicates, parse_constant=_reject
            )
        except _DuplicateKey as exc:
            document, _ = parse_yaml(text, path)
            node = document.node if document is not None else None
            position = _find_key(node, exc.name)
            line, column = position or (None, None)
            return None, [Problem(path, line, column, "DS102", f"duplicate key {exc.name!r}")]
        except json.JSONDecodeError as exc:
            return None, [Problem(path, exc.lineno, exc.colno, "DS101", f"invalid JSON: {exc.msg}")]
        except ValueError as exc:
            return None, [Problem(path, None, None, "DS104", str(exc))]
        return value, []
    document, problems = parse_yaml(text, path)
    return (document.value if document is not None else None), problems


def _reject(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _find_key(node: Any, name: str) -> tuple[int, int] | None:
    """Position of the second occurrence of key ``name`` anywhere in the node tree."""
    from yaml.nodes import MappingNode, SequenceNode

    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, MappingNode):
            seen = False
            for key, child in current.value:
                if getattr(key, "value", None) == name:
                    if seen:
                        return key.start_mark.line + 1, key.start_mark.column + 1
                    seen = True
                pending.append(child)
        elif isinstance(current, SequenceNode):
            pending.extend(current.value)
    return None


def locate_in_schema(path: str, text: str, where: list[str]) -> tuple[int | None, int | None]:
    """Line and column of a JSON path inside a schema file (JSON is parsed as YAML for this)."""
    document, _ = parse_yaml(text, path)
    if document is None:
        return None, None
    position = locate(document.node, where)
    return position if position is not None else (None, None)
