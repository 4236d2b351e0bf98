"""JSON Schema (draft 2020-12) to Luau types, for one store module.

What maps to what (docs/codegen.md has the table): objects to table types (required fields
``name: T``, others ``name: T?``), arrays to ``{ T }``, maps (``additionalProperties`` /
``patternProperties``) to ``{ [string]: T }``, ``enum`` / ``const`` to literal unions,
``number`` and ``integer`` to ``number``, ``null`` to ``?``, ``oneOf`` / ``anyOf`` to unions,
``allOf`` to intersections, every ``$ref`` target (and every ``$defs`` entry of the store's
schema file) to a named exported type. What Luau cannot say becomes ``any`` with a note.

Every ``$ref`` resolves against the documents of ``schemas/`` only, as validation does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urldefrag, urljoin

from dsgit.codegen.identifiers import NameAllocator, pascal_case
from dsgit.codegen.luau_types import (
    ANY,
    BOOLEAN,
    NEVER,
    NUMBER,
    STRING,
    ArrayType,
    Field,
    LuauType,
    NamedType,
    TableType,
    comment_lines,
    intersection,
    lua_string,
    render_alias,
    union,
)
from dsgit.model.entry import JSONValue

__all__ = ["Alias", "SchemaTranslator", "Target", "schema_uri"]

Target = tuple[str, str]  # (repository path of a schema document, JSON pointer inside it)

# Luau's builtin type names and the aliases every store module defines itself.
RESERVED_TYPES = frozenset(
    {
        "any",
        "boolean",
        "buffer",
        "never",
        "nil",
        "number",
        "string",
        "thread",
        "unknown",
        "userdata",
        "vector",
    }
)
_NOT_SCHEMAS = frozenset({"enum", "const", "examples", "default"})
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$anchor",
        "$comment",
        "$defs",
        "definitions",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
        "contentMediaType",
        "contentEncoding",
    }
)
_UNTYPED = frozenset({"not", "if", "then", "else", "dependentSchemas", "$dynamicRef"})


def schema_uri(path: str) -> str:
    """The URI a schema document is known by (as validation registers it)."""
    return "file:///" + quote(path)


@dataclass(frozen=True)
class Alias:
    """One exported type alias: ``export type name = type``, with comment lines above."""

    name: str
    type: LuauType
    comments: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """Its ``---`` comment lines, the ``export type`` line, then a blank line."""
        flat = [part for line in self.comments for part in (comment_lines(line) or ("",))]
        text = [f"--- {line}".rstrip() for line in flat]
        return [*text, render_alias(self.name, self.type), ""]


@dataclass
class SchemaTranslator:
    """Translates the schemas of one module; every ``$ref`` target becomes one alias."""

    documents: Mapping[str, JSONValue]
    names: NameAllocator = field(default_factory=lambda: NameAllocator(reserved=RESERVED_TYPES))
    targets: dict[Target, str] = field(default_factory=dict)  # target -> alias name
    notes: list[str] = field(default_factory=list)
    _uris: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for path, document in sorted(self.documents.items()):
            self._uris[schema_uri(path)] = path
            identifier = document.get("$id") if isinstance(document, dict) else None
            if isinstance(identifier, str):
                self._uris.setdefault(urldefrag(identifier).url, path)

    # --- references ----------------------------------------------------------------------------
    def resolve(self, base: str, reference: str) -> Target | None:
        """The document and pointer a ``$ref`` in document ``base`` names, if it resolves."""
        uri, fragment = urldefrag(urljoin(schema_uri(base), reference))
        path = self._uris.get(uri)
        if path is None or (fragment and not fragment.startswith("/")):
            return None  # another server, or an $anchor: validation reports what it can't use
        if _node_at(self.documents[path], fragment) is _MISSING:
            return None
        return path, unquote(fragment)

    def node(self, target: Target) -> JSONValue:
        value = _node_at(self.documents[target[0]], target[1])
        assert value is not _MISSING
        return value  # type: ignore[return-value]

    def reachable(self, roots: list[Target]) -> list[Target]:
        """Every ``$ref`` target reachable from ``roots`` (and ``$defs`` of their files)."""
        seen: set[Target] = set()
        pending = list(roots)
        for path, _pointer in roots:
            document = self.documents[path]
            if isinstance(document, dict):
                for keyword in ("$defs", "definitions"):
                    defs = document.get(keyword)
                    if isinstance(defs, dict):
                        pending.extend((path, f"/{keyword}/{_escape(name)}") for name in defs)
        found: list[Target] = []
        while pending:
            target = pending.pop(0)
            if target in seen:
                continue
            seen.add(target)
            found.append(target)
            for reference in _references(self.node(target)):
                resolved = self.resolve(target[0], reference)
                if resolved is not None and resolved not in seen:
                    pending.append(resolved)
        return found

    def name_targets(self, targets: list[Target]) -> None:
        """Give each target an alias name, in sorted order (stable when others appear)."""
        for target in sorted(targets):
            if target not in self.targets:
                self.targets[target] = self.names.take(_wanted_name(target, self.node(target)))

    # --- translation ---------------------------------------------------------------------------
    def alias(self, target: Target) -> Alias:
        self.notes = []
        node = self.node(target)
        luau_type = self.translate(node, target[0])
        return Alias(self.targets[target], luau_type, (*_describe(node), *self._take_notes()))

    def _take_notes(self) -> tuple[str, ...]:
        notes, self.notes = self.notes, []
        return tuple(dict.fromkeys(notes))

    def note(self, text: str) -> LuauType:
        self.notes.append(text)
        return ANY

    def translate(
        self, node: JSONValue, base: str, encrypted: frozenset[tuple[str, ...]] = frozenset()
    ) -> LuauType:
        """The Luau type of the values ``node`` accepts. ``encrypted``: property paths (below
        this node) stored as ``ENC[...]`` strings, which is what game servers read."""
        if () in encrypted:
            self.notes.append("stored encrypted (ENC[...]): game servers read the ciphertext")
            return STRING
        if node is True:
            return ANY
        if node is False:
            return NEVER
        if not isinstance(node, dict):
            return self.note("any: not a JSON Schema")
        reference = node.get("$ref")
        if isinstance(reference, str):
            target = self.resolve(base, reference)
            if target is None or target not in self.targets:
                return self.note(f"any: $ref {reference} does not resolve under schemas/")
            return NamedType(self.targets[target])
        if "const" in node:
            return self._literals([node["const"]])
        enum = node.get("enum")
        if isinstance(enum, list):
            return self._literals(enum)
        for keyword in sorted(_UNTYPED & node.keys()):
            self.notes.append(f"{keyword}: not checked by the Luau type")
        parts: list[LuauType] = []
        base_type = self._typed(node, base, encrypted)
        if base_type is not None:
            parts.append(base_type)
        for keyword in ("oneOf", "anyOf"):
            members = node.get(keyword)
            if isinstance(members, list):
                parts.append(union([self.translate(m, base, encrypted) for m in members]))
        members = node.get("allOf")
        if isinstance(members, list):
            parts.extend(self.translate(member, base, encrypted) for member in members)
        if not parts:
            unknown = sorted(set(node) - _ANNOTATIONS - _UNTYPED - _KNOWN)
            if unknown:
                return self.note(f"any: {', '.join(unknown)} has no Luau type")
            return ANY
        return intersection(parts)

    def _literals(self, values: list[JSONValue]) -> LuauType:
        members: list[LuauType] = []
        nullable = False
        for value in values:
            if value is None:
                nullable = True
            elif isinstance(value, bool):
                members.append(NamedType("true" if value else "false"))
            elif isinstance(value, str):
                members.append(NamedType(lua_string(value)))
            elif isinstance(value, int | float):
                members.append(NUMBER)  # Luau has no number literal types
            else:
                members.append(self.note("any: an object or array in enum/const"))
        return union(members, nullable)

    def _typed(
        self, node: dict[str, JSONValue], base: str, encrypted: frozenset[tuple[str, ...]]
    ) -> LuauType | None:
        declared = node.get("type")
        if isinstance(declared, str):
            kinds = [declared]
        elif isinstance(declared, list):
            kinds = [kind for kind in declared if isinstance(kind, str)]
        elif _OBJECT_KEYWORDS & node.keys():
            kinds = ["object"]
        elif _ARRAY_KEYWORDS & node.keys():
            kinds = ["array"]
        else:
            return None
        members: list[LuauType] = []
        nullable = False
        for kind in kinds:
            match kind:
                case "string":
                    members.append(STRING)
                case "number" | "integer":
                    members.append(NUMBER)
                case "boolean":
                    members.append(BOOLEAN)
                case "null":
                    nullable = True
                case "array":
                    members.append(self._array(node, base))
                case "object":
                    members.append(self._object(node, base, encrypted))
                case _:
                    members.append(self.note(f"any: unknown type {kind!r}"))
        return union(members, nullable)

    def _array(self, node: dict[str, JSONValue], base: str) -> LuauType:
        items = node.get("items")
        prefix = node.get("prefixItems")
        if isinstance(prefix, list):
            self.notes.append("prefixItems (a tuple): an array of any of its item types")
            members = [self.translate(item, base) for item in prefix]
            if items is not False:
                members.append(self.translate(items if items is not None else True, base))
            return ArrayType(union(members))
        if node.get("maxItems") == 0:
            return TableType()  # always empty: {}
        if items is None:
            return ArrayType(ANY)
        return ArrayType(self.translate(items, base))

    def _object(
        self, node: dict[str, JSONValue], base: str, encrypted: frozenset[tuple[str, ...]]
    ) -> LuauType:
        properties = node.get("properties")
        if node.get("maxProperties") == 0 and not properties:
            return TableType()  # always empty: {}
        required_list = node.get("required")
        required = set(required_list) if isinstance(required_list, list) else set()
        fields: list[Field] = []
        outer_notes = self.notes
        if isinstance(properties, dict):
            for name, schema in properties.items():
                self.notes = []
                below = frozenset(p[1:] for p in encrypted if p and p[0] in (name, "*"))
                field_type = self.translate(schema, base, below)
                if name not in required:
                    field_type = union([field_type], nullable=True)
                comments = (*_describe(schema), *dict.fromkeys(self.notes))
                fields.append(Field(name, field_type, comments))
        self.notes = outer_notes
        indexer_members: list[LuauType] = []
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict):
            indexer_members.extend(self.translate(s, base) for _p, s in sorted(patterns.items()))
        additional = node.get("additionalProperties")
        if isinstance(additional, dict) and additional:
            indexer_members.append(self.translate(additional, base))
        elif not fields and not indexer_members and additional is not False:
            indexer_members.append(ANY)  # an open object without properties: any keys
        indexer = union(indexer_members) if indexer_members else None
        return TableType(tuple(fields), indexer)


_OBJECT_KEYWORDS = frozenset(
    {
        "properties",
        "additionalProperties",
        "patternProperties",
        "required",
        "minProperties",
        "maxProperties",
        "propertyNames",
        "dependentRequired",
        "unevaluatedProperties",
    }
)
_ARRAY_KEYWORDS = frozenset(
    {"items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains", "unevaluatedItems"}
)
# Validation keywords that only narrow a type (nothing Luau can say): not "unknown".
_KNOWN = frozenset(
    {
        "type",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "minContains",
        "maxContains",
        "$ref",
        "oneOf",
        "anyOf",
        "allOf",
    }
)


class _Missing:
    pass


_MISSING = _Missing()


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _node_at(document: JSONValue, fragment: str) -> JSONValue | _Missing:
    node: JSONValue | _Missing = document
    if not fragment:
        return node
    for raw in unquote(fragment)[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _references(node: JSONValue) -> Iterator[str]:
    if isinstance(node, dict):
        for name, child in node.items():
            if name == "$ref" and isinstance(child, str):
                yield child
            elif name not in _NOT_SCHEMAS:
                yield from _references(child)
    elif isinstance(node, list):
        for child in node:
            yield from _references(child)


def _wanted_name(target: Target, node: JSONValue) -> str:
    path, pointer = target
    if pointer:
        wanted = pascal_case(pointer.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~"))
    else:
        title = node.get("title") if isinstance(node, dict) else None
        stem = path.rsplit("/", 1)[-1].split(".", 1)[0]
        wanted = pascal_case(stem) if stem else pascal_case(str(title or "Schema"))
    return wanted if wanted.strip("_") else "Schema"


def _describe(node: JSONValue) -> tuple[str, ...]:
    if not isinstance(node, dict):
        return ()
    lines: list[str] = []
    for keyword in ("title", "description"):
        text = node.get(keyword)
        if isinstance(text, str):
            lines.extend(comment_lines(text))
    format_name = node.get("format")
    if isinstance(format_name, str):
        lines.append(f"format: {format_name}")
    if node.get("deprecated") is True:
        lines.append("Deprecated.")
    return tuple(lines)
