"""Infer a JSON Schema (draft 2020-12) from sampled live values (``dsgit schema infer``).

A :class:`Shape` merges every value seen at one place of the documents: which JSON types
occur, how often each object property is present (properties present in at least
``required_share`` of the objects become ``required``), small string enums, numeric ranges,
array items, and maps keyed by ids (``"12345"``, UUIDs, ``Player_1``), which become
``additionalProperties`` with ``propertyNames`` instead of one property per id.

Luau empty tables come back as ``[]`` or ``{}`` for the same field: where objects are seen
with only empty arrays, the schema allows ``[]`` and nothing else of the array type
(``maxItems: 0``), and the reverse (``maxProperties: 0``).
Values under the store's sensitive pointers arrive masked and yield no constraint.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from dsgit.insight.pii import find_pii
from dsgit.insight.walk import ID_PATTERN, is_id_like
from dsgit.model.entry import JSONValue
from dsgit.plan.model import MASK

__all__ = ["DRAFT", "InferOptions", "Shape", "infer_schema"]

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_ID_KEY = "*"
_ENUM_MAX = 10  # at most this many distinct strings make an enum
_ENUM_REPEAT = 2  # ... and each seen this many times on average
_MAX_PROPERTIES = 256  # an object with more named keys than this is treated as a map


@dataclass(frozen=True)
class InferOptions:
    required_share: float = 1.0  # present in this share of objects: required
    enums: bool = True
    ranges: bool = True


@dataclass
class Shape:
    """What was seen at one pointer across the sample."""

    count: int = 0
    types: Counter[str] = field(default_factory=Counter)
    strings: set[str] | None = field(default_factory=set)  # None once too many to enumerate
    low: float | None = None
    high: float | None = None
    objects: int = 0
    nonempty_objects: int = 0
    nonempty_arrays: int = 0
    properties: dict[str, Shape] = field(default_factory=dict)
    presence: Counter[str] = field(default_factory=Counter)
    ids: Shape | None = None  # values of id-keyed members (maps)
    id_keys: bool = False
    items: Shape | None = None
    sensitive: bool = False

    def add(self, value: JSONValue) -> None:
        self.count += 1
        if value == MASK:
            self.sensitive = True
            return
        kind = _type_of(value)
        self.types[kind] += 1
        if isinstance(value, str):
            self._add_string(value)
        elif kind in ("integer", "number"):
            assert isinstance(value, int | float)
            self.low = value if self.low is None else min(self.low, value)
            self.high = value if self.high is None else max(self.high, value)
        elif isinstance(value, dict):
            self._add_object(value)
        elif isinstance(value, list):
            if value:
                self.nonempty_arrays += 1
            if self.items is None:
                self.items = Shape()
            for item in value:
                self.items.add(item)

    def _add_string(self, value: str) -> None:
        if self.strings is None:
            return
        self.strings.add(value)
        if len(self.strings) > _ENUM_MAX:
            self.strings = None

    def _add_object(self, value: dict[str, JSONValue]) -> None:
        self.objects += 1
        if value:
            self.nonempty_objects += 1
        for key, child in value.items():
            if is_id_like(key) or len(self.properties) >= _MAX_PROPERTIES:
                if is_id_like(key):
                    self.id_keys = True
                if self.ids is None:
                    self.ids = Shape()
                self.ids.add(child)
                continue
            shape = self.properties.get(key)
            if shape is None:
                shape = self.properties[key] = Shape()
            shape.add(child)
            self.presence[key] += 1

    def schema(self, options: InferOptions) -> dict[str, Any]:
        if self.sensitive and not self.types:
            return {"description": "sensitive: not inspected"}
        types = self._types()
        out: dict[str, Any] = {}
        if types:
            out["type"] = types[0] if len(types) == 1 else types
        enum = self._enum(options, types)
        if enum is not None:
            out["enum"] = enum
        if options.ranges and self.low is not None and self.high is not None:
            out["minimum"] = _number(self.low)
            out["maximum"] = _number(self.high)
        if "object" in types:
            out.update(self._object_schema(options))
        if "array" in types and self.items is not None and self.items.count:
            out["items"] = self.items.schema(options)
        # [] and {} are the same empty Luau table: the empty form of the other type only
        if "object" in types and "array" in types:
            if self.nonempty_arrays == 0:
                out["maxItems"] = 0
            elif self.nonempty_objects == 0:
                out["maxProperties"] = 0
        return out

    def _types(self) -> list[str]:
        present = set(self.types)
        if "integer" in present and "number" in present:
            present.discard("integer")
        order = ("object", "array", "string", "integer", "number", "boolean", "null")
        return [name for name in order if name in present]

    def _enum(self, options: InferOptions, types: list[str]) -> list[JSONValue] | None:
        if not options.enums or types not in (["string"], ["string", "null"]):
            return None
        if not self.strings or self.types["string"] < _ENUM_REPEAT * len(self.strings):
            return None
        if any(find_pii(text, has_users=True) for text in self.strings):
            return None  # an e-mail repeated is still an e-mail: never copy it into a file
        values: list[JSONValue] = [*sorted(self.strings)]
        if "null" in types:
            values.append(None)
        return values

    def _object_schema(self, options: InferOptions) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.properties:
            out["properties"] = {
                name: self.properties[name].schema(options) for name in sorted(self.properties)
            }
            threshold = options.required_share * self.objects
            required = sorted(
                name for name, seen in self.presence.items() if seen >= threshold and seen > 0
            )
            if required and self.nonempty_objects == self.objects:
                out["required"] = required
        if self.ids is not None:
            out["additionalProperties"] = self.ids.schema(options)
            if self.id_keys and not self.properties:
                out["propertyNames"] = {"pattern": ID_PATTERN}
        return out


def _type_of(value: JSONValue) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def infer_schema(
    root: Shape, *, title: str, description: str, options: InferOptions | None = None
) -> dict[str, Any]:
    """The whole document: ``$schema``, ``title``, ``description`` and the root shape's schema."""
    body = root.schema(options or InferOptions())
    return {"$schema": DRAFT, "title": title, "description": description, **body}
