"""A fast yes/no check for the common JSON Schema keywords, in front of ``jsonschema``.

Validating 100,000 entries with ``jsonschema`` alone costs most of ``dsgit validate``'s time.
Most values are valid, and for those a plain predicate compiled from the schema answers in a
fraction of the time. The predicate is only a precheck: ``True`` means valid (with exactly
``jsonschema``'s semantics for the supported keywords); ``False`` sends the value to
``jsonschema``, which finds and explains the errors. A schema using any keyword not listed here
gets no predicate at all (``compile_predicate`` returns None), so nothing is ever guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jsonschema import FormatChecker
from jsonschema._utils import equal, uniq
from referencing._core import Resolver
from referencing.exceptions import Unresolvable

__all__ = ["Predicate", "compile_predicate"]

Predicate = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$comment",
        "$defs",
        "definitions",
        "title",
        "description",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "errorMessage",
        "patternErrorMessage",
        "markdownDescription",
    }
)


class _Unsupported(Exception):
    """The schema uses a keyword this module does not compile."""


def _is_type(instance: Any, name: str) -> bool:
    if name == "object":
        return isinstance(instance, dict)
    if name == "array":
        return isinstance(instance, list)
    if name == "string":
        return isinstance(instance, str)
    if name == "boolean":
        return isinstance(instance, bool)
    if name == "null":
        return instance is None
    if isinstance(instance, bool):
        return False
    if name == "integer":
        return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())
    if name == "number":
        return isinstance(instance, int | float)
    raise _Unsupported(name)


def _number(instance: Any) -> bool:
    return isinstance(instance, int | float) and not isinstance(instance, bool)


class _Compiler:
    def __init__(self, formats: FormatChecker) -> None:
        self.formats = formats
        self.memo: dict[int, list[Predicate]] = {}

    def compile(self, schema: Any, resolver: Resolver[Any], *, root: bool = False) -> Predicate:
        """``root``: ``schema`` is a whole document (or a $ref target) that ``resolver`` is
        based at; a nested ``$id`` would move the base, which is not supported."""
        if schema is True:
            return lambda _instance: True
        if schema is False:
            return lambda _instance: False
        if not isinstance(schema, dict):
            raise _Unsupported("schema")
        if "$id" in schema and not root:
            raise _Unsupported("nested $id")
        key = id(schema)
        if key in self.memo:  # recursion through $ref: call through the cell filled below
            pending = self.memo[key]
            return lambda instance: pending[0](instance)  # noqa: PLW0108 (filled later)
        cell: list[Predicate] = []
        self.memo[key] = cell
        checks = [self.keyword(name, value, schema, resolver) for name, value in schema.items()]
        active = [check for check in checks if check is not None]
        if not active:
            predicate: Predicate = lambda _instance: True  # noqa: E731
        elif len(active) == 1:
            predicate = active[0]
        else:
            predicate = lambda instance: all(check(instance) for check in active)  # noqa: E731
        cell.append(predicate)
        return predicate

    def keyword(
        self, name: str, value: Any, schema: dict[str, Any], resolver: Resolver[Any]
    ) -> Predicate | None:
        if name in _ANNOTATIONS:
            return None
        if name == "$id":
            if not isinstance(value, str) or value.startswith("#"):
                raise _Unsupported(name)
            return None
        method = getattr(self, "k_" + name.lstrip("$"), None)
        if method is None:
            raise _Unsupported(name)
        result: Predicate | None = method(value, schema, resolver)
        return result

    # --- keywords -------------------------------------------------------------------------------
    def k_type(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        names = value if isinstance(value, list) else [value]
        for type_name in names:
            _is_type(None, type_name)  # raises for an unknown type name
        if len(names) == 1:
            only = names[0]
            return lambda instance: _is_type(instance, only)
        return lambda instance: any(_is_type(instance, n) for n in names)

    def k_enum(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        return lambda instance: any(equal(instance, item) for item in value)

    def k_const(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        return lambda instance: equal(instance, value)

    def k_ref(self, value: Any, _schema: Any, resolver: Resolver[Any]) -> Predicate:
        try:
            resolved = resolver.lookup(value)
        except Unresolvable as exc:
            raise _Unsupported("$ref") from exc
        return self.compile(resolved.contents, resolved.resolver, root=True)

    def k_properties(self, value: Any, _schema: Any, resolver: Resolver[Any]) -> Predicate:
        compiled = [(name, self.compile(sub, resolver)) for name, sub in value.items()]

        def check(instance: Any) -> bool:
            if not isinstance(instance, dict):
                return True
            for name, predicate in compiled:
                if name in instance and not predicate(instance[name]):
                    return False
            return True

        return check

    def k_required(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        names = list(value)
        return lambda instance: not isinstance(instance, dict) or all(n in instance for n in names)

    def k_additionalProperties(
        self, value: Any, schema: dict[str, Any], resolver: Resolver[Any]
    ) -> Predicate:
        known = set(schema.get("properties", {}))
        patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
        extra = self.compile(value, resolver)

        def check(instance: Any) -> bool:
            if not isinstance(instance, dict):
                return True
            for name, item in instance.items():
                if name in known or any(p.search(name) for p in patterns):
                    continue
                if not extra(item):
                    return False
            return True

        return check

    def k_patternProperties(self, value: Any, _schema: Any, resolver: Resolver[Any]) -> Predicate:
        compiled = [(re.compile(p), self.compile(sub, resolver)) for p, sub in value.items()]

        def check(instance: Any) -> bool:
            if not isinstance(instance, dict):
                return True
            for pattern, predicate in compiled:
                for name, item in instance.items():
                    if pattern.search(name) and not predicate(item):
                        return False
            return True

        return check

    def k_propertyNames(self, value: Any, _schema: Any, resolver: Resolver[Any]) -> Predicate:
        predicate = self.compile(value, resolver)
        return lambda instance: (
            not isinstance(instance, dict) or all(predicate(name) for name in instance)
        )

    def k_minProperties(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        return lambda instance: not isinstance(instance, dict) or len(instance) >= value

    def k_maxProperties(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        return lambda instance: not isinstance(instance, dict) or len(instance) <= value

    def k_dependentRequired(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        def check(instance: Any) -> bool:
            if not isinstance(instance, dict):
                return True
            return all(
                all(need in instance for need in needs)
                for name, needs in value.items()
                if name in instance
            )

        return check

    def k_items(self, value: Any, schema: dict[str, Any], resolver: Resolver[Any]) -> Predicate:
        if isinstance(value, list):
            raise _Unsupported("items (array form)")
        skip = len(schema.get("prefixItems", []))
        predicate = self.compile(value, resolver)
        return lambda instance: (
            not isinstance(instance, list) or all(predicate(item) for item in instance[skip:])
        )

    def k_prefixItems(self, value: Any, _schema: Any, resolver: Resolver[Any]) -> Predicate:
        compiled = [self.compile(sub, resolver) for sub in value]
        return lambda instance: (
            not isinstance(instance, list)
            or all(predicate(item) for predicate, item in zip(compiled, instance, strict=False))
        )

    def k_minItems(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        return lambda instance: not isinstance(instance, list) or len(instance) >= value

    def k_maxItems(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        return lambda instance: not isinstance(instance, list) or len(instance) <= value

    def k_uniqueItems(self, value: Any, _schema: Any, _resolver: Any) -> Predicate | None:
        if not value:
            return None
        return lambda instance: not isinstance(instance, list) or bool(uniq(instance))

    def k_minimum(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        return lambda instance: not _number(instance) or instance >= value

    def k_maximum(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        return lambda instance: not _number(instance) or instance <= value

    def k_exclusiveMinimum(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        return lambda instance: not _number(instance) or instance > value

    def k_exclusiveMaximum(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        return lambda instance: not _number(instance) or instance < value

    def k_minLength(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        return lambda instance: not isinstance(instance, str) or len(instance) >= value

    def k_maxLength(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        return lambda instance: not isinstance(instance, str) or len(instance) <= value

    def k_pattern(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        pattern = re.compile(value)
        return lambda instance: not isinstance(instance, str) or bool(pattern.search(instance))

    def k_format(self, value: Any, _schema: Any, _resolver: Any) -> Predicate:
        formats = self.formats
        return lambda instance: formats.conforms(instance, value)

    def k_allOf(self, value: Any, _schema: Any, resolver: Resolver[Any]) -> Predicate:
        compiled = [self.compile(sub, resolver) for sub in value]
        return lambda instance: all(predicate(instance) for predicate in compiled)

    def k_anyOf(self, value: Any, _schema: Any, resolver: Resolver[Any]) -> Predicate:
        compiled = [self.compile(sub, resolver) for sub in value]
        return lambda instance: any(predicate(instance) for predicate in compiled)

    def k_oneOf(self, value: Any, _schema: Any, resolver: Resolver[Any]) -> Predicate:
        compiled = [self.compile(sub, resolver) for sub in value]
        return lambda instance: sum(1 for predicate in compiled if predicate(instance)) == 1

    def k_not(self, value: Any, _schema: Any, resolver: Resolver[Any]) -> Predicate:
        predicate = self.compile(value, resolver)
        return lambda instance: not predicate(instance)

    def k_if(self, value: Any, schema: dict[str, Any], resolver: Resolver[Any]) -> Predicate:
        condition = self.compile(value, resolver)
        then = self.compile(schema.get("then", True), resolver)
        otherwise = self.compile(schema.get("else", True), resolver)
        return lambda instance: then(instance) if condition(instance) else otherwise(instance)

    def k_then(self, _value: Any, _schema: Any, _resolver: Any) -> None:
        return None  # compiled with "if"

    def k_else(self, _value: Any, _schema: Any, _resolver: Any) -> None:
        return None  # compiled with "if"


def compile_predicate(
    schema: Any, resolver: Resolver[Any], formats: FormatChecker
) -> Predicate | None:
    """A predicate equal to "``schema`` accepts the instance", or None when the schema uses a
    keyword this module does not support."""
    try:
        return _Compiler(formats).compile(schema, resolver, root=True)
    except (_Unsupported, re.error, TypeError, AttributeError, KeyError):
        return None
