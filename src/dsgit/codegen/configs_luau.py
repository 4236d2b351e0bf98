"""Typed accessors for Experience Configs keys (``configs/InExperienceConfig.yaml``, the
repository game code reads through ``ConfigService``): ``<module>/Configs.luau``.

For each key the module has a function taking a ``ConfigSnapshot`` (from
``ConfigService:GetConfigAsync()`` or ``:GetConfigForPlayerAsync(player)``) and returning the
key's value typed by its declared `type` (a json key with a `schema:` gets that schema's Luau
type), falling back to the declared default when the snapshot has no value for the key. It
also holds ``Keys`` (accessor name -> key) and ``Defaults`` (accessor name -> declared value).

Pure: the declaration in, text out, laid out as StyLua formats it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from dsgit.codegen.from_schema import RESERVED_TYPES, Alias, SchemaTranslator, Target
from dsgit.codegen.identifiers import NameAllocator, is_field_name, pascal_case
from dsgit.codegen.luau_types import (
    ANY,
    BOOLEAN,
    NUMBER,
    STRING,
    WIDTH,
    LuauType,
    NamedType,
    comment_lines,
    lua_string,
    render,
)
from dsgit.model.configs import ConfigKey, ConfigsDeclaration, ConfigType
from dsgit.model.entry import JSONValue

__all__ = ["CONFIGS_MODULE", "GAME_REPOSITORY", "ConfigsModule", "configs_module"]

CONFIGS_MODULE = "Configs"
GAME_REPOSITORY = "InExperienceConfig"  # the only repository ConfigService reads
_RESERVED = frozenset({"Keys", "Defaults", "Repository", "read", "snapshot", "Configs"})
_TAB = 4
_PRIMITIVE: dict[ConfigType, LuauType] = {
    ConfigType.STRING: STRING,
    ConfigType.NUMBER: NUMBER,
    ConfigType.BOOLEAN: BOOLEAN,
    ConfigType.JSON: ANY,
}


@dataclass(frozen=True)
class ConfigsModule:
    """The generated accessors module: its text, file and the accessors by key."""

    file: str
    text: str
    accessors: Mapping[str, str]  # config key -> accessor name
    schemas: tuple[str, ...]


def _literal(value: JSONValue, depth: int, lead: int) -> str:
    """``value`` as a Luau expression, tables broken over lines as StyLua does when the
    one-line form does not fit in the ``WIDTH`` columns after ``lead``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "math.huge" if value > 0 else "-math.huge"
        text = repr(value)
        return text if any(c in text for c in ".e") else f"{text}.0"
    if isinstance(value, str):
        return lua_string(value)
    if value is None:
        return "nil"
    if isinstance(value, list):
        items = [("", item) for item in value]
    else:
        items = [(_field(name) + " = ", item) for name, item in value.items()]
    if not items:
        return "{}"
    flat = "{ " + ", ".join(head + _literal(item, 0, 0) for head, item in items) + " }"
    if "\n" not in flat and lead + len(flat) <= WIDTH:
        return flat
    tabs = "\t" * (depth + 1)
    lines = ["{"]
    for head, item in items:
        inner = _literal(item, depth + 1, (depth + 1) * _TAB + len(head))
        lines.append(f"{tabs}{head}{inner},")
    lines.append("\t" * depth + "}")
    return "\n".join(lines)


def _field(name: str) -> str:
    return name if is_field_name(name) else f"[{lua_string(name)}]"


def _reference(reference: str) -> Target:
    path, _, fragment = reference.partition("#")
    return path, unquote(fragment)


def _types(
    entries: list[tuple[str, ConfigKey]],
    names: Mapping[str, str],
    documents: Mapping[str, JSONValue],
) -> tuple[dict[str, LuauType], list[Alias], tuple[str, ...]]:
    """Each key's Luau type; the named types json keys with a `schema:` need."""
    translator = SchemaTranslator(documents)
    translator.names.reserved = RESERVED_TYPES | set(names.values()) | _RESERVED
    roots: dict[str, Target] = {
        key: _reference(entry.schema)
        for key, entry in entries
        if entry.type is ConfigType.JSON
        and entry.schema is not None
        and _reference(entry.schema)[0] in documents
    }
    reachable = translator.reachable(list(dict.fromkeys(roots.values())))
    for key, root in roots.items():
        if root in reachable and root not in translator.targets:
            translator.targets[root] = translator.names.take(names[key] + "Value")
    translator.name_targets(reachable)
    types: dict[str, LuauType] = {}
    for key, entry in entries:
        found = roots.get(key)
        if found is not None and found in reachable:
            types[key] = NamedType(translator.targets[found])
        else:
            types[key] = _PRIMITIVE[entry.type]
    ordered = sorted(reachable, key=lambda target: translator.targets[target])
    aliases = [translator.alias(target) for target in ordered]
    return types, aliases, tuple(sorted({path for path, _ in reachable}))


def _doc(key: str, entry: ConfigKey) -> list[str]:
    lines = [f"--- Config key {lua_string(key)} ({entry.type.value})."]
    if entry.description:
        lines.extend(f"--- {line}".rstrip() for line in comment_lines(entry.description))
    if entry.conditional:
        lines.append(
            f"--- Has {len(entry.conditional)} conditional value(s): use a player's snapshot "
            "(ConfigService:GetConfigForPlayerAsync)."
        )
    return lines


def configs_module(
    declaration: ConfigsDeclaration, documents: Mapping[str, JSONValue], module: str
) -> ConfigsModule:
    """The accessors module of ``declaration`` (``InExperienceConfig``), under ``module``."""
    entries = sorted(declaration.entries.items())
    allocator = NameAllocator(reserved=_RESERVED | RESERVED_TYPES)
    names = {key: allocator.take(pascal_case(key) or "Key") for key, _ in entries}
    types, aliases, schemas = _types(entries, names, documents)
    lines = [
        "--!strict",
        f"-- Generated by dsgit from {declaration.file} (Experience Configs): do not edit.",
        "-- Regenerate with `dsgit codegen luau --out DIR` after changing a config key.",
        "",
    ]
    for alias in aliases:
        lines.extend(alias.lines())
    lines.append("--- Accessor name -> config key, as ConfigSnapshot:GetValue takes it.")
    lines.append("local Keys = {")
    lines.extend(f"\t{names[key]} = {lua_string(key)}," for key, _ in entries)
    lines.append("}")
    lines.append("")
    lines.append("--- Accessor name -> the key's default value, as declared in the repository.")
    lines.append("local Defaults = {")
    for key, entry in entries:
        head = f"\t{names[key]} = "
        lines.append(f"{head}{_literal(entry.value, 1, _TAB + len(head) - 1)},")
    lines.append("}")
    lines.append("")
    lines.extend(
        [
            "-- A key the snapshot has no value for (not published yet) reads as its default.",
            "local function read(snapshot: ConfigSnapshot, key: string, default: any): any",
            "\tlocal value = snapshot:GetValue(key)",
            "\tif value == nil then",
            "\t\treturn default",
            "\tend",
            "\treturn value",
            "end",
            "",
            f"local {CONFIGS_MODULE} = {{",
            "\tKeys = Keys,",
            "\tDefaults = Defaults,",
            f"\tRepository = {lua_string(declaration.repository)},",
            "}",
            "",
        ]
    )
    for key, entry in entries:
        name = names[key]
        lines.extend(_doc(key, entry))
        returned = render(types[key], 0, 0, 0)
        lines.append(f"function {CONFIGS_MODULE}.{name}(snapshot: ConfigSnapshot): {returned}")
        lines.append(f"\treturn read(snapshot, Keys.{name}, Defaults.{name})")
        lines.append("end")
        lines.append("")
    lines.append(f"return {CONFIGS_MODULE}")
    return ConfigsModule(f"{module}/{CONFIGS_MODULE}.luau", "\n".join(lines) + "\n", names, schemas)
