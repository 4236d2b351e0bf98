"""``dsgit.yaml``: project settings and environments (DESIGN.md §2)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dsgit.errors import ConfigError, Location
from dsgit.model.layout import PROJECT_FILE

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_URL",
    "Budget",
    "Environment",
    "ProjectConfig",
    "find_root",
    "load_project_config",
    "parse_project_config",
]

CONFIG_FILE = PROJECT_FILE
DEFAULT_URL = "https://apis.roblox.com"


@dataclass(frozen=True)
class Budget:
    """The share of the experience's rate budget dsgit may take (opencloud/README.md)."""

    ccu: int = 0
    share: float = 0.5


@dataclass(frozen=True)
class Environment:
    """One target: a universe reached through the embedded emulator or a URL."""

    name: str
    universe_id: int
    emulator: Path | None = None
    url: str | None = None
    api_key_env: str | None = None
    budget: Budget = field(default_factory=Budget)
    protected: bool = False
    # The folder the emulator file must stay in, without symlinks (the repository root);
    # None when `emulator_anywhere: true` lets it be anywhere.
    emulator_root: Path | None = None
    preview: bool = False  # the GitHub Action may apply pull requests' plans here (§10)

    @property
    def is_embedded(self) -> bool:
        return self.emulator is not None

    def api_key(self) -> str | None:
        """The key from the environment variable named by ``api_key_env`` (never from files).

        Surrounding whitespace (a trailing CR or newline from a key file) is stripped; any other
        character an HTTP header cannot carry is refused with a message that never shows the key.
        """
        if self.api_key_env is None:
            return None
        key = (os.environ.get(self.api_key_env) or "").strip()
        if not key:
            return None
        for position, char in enumerate(key, start=1):
            if not 0x21 <= ord(char) <= 0x7E:
                raise ConfigError(
                    f"${self.api_key_env} holds {_name_char(char)} at character {position} of "
                    f"{len(key)}; an API key is printable ASCII without spaces (the key is not "
                    "shown): set the variable again from the Creator Dashboard",
                    Location(CONFIG_FILE, field=f"environments.{self.name}.api_key_env"),
                )
        return key


def _name_char(char: str) -> str:
    names = {"\t": "a tab", " ": "a space", "\r": "a carriage return", "\n": "a line break"}
    if char in names:
        return names[char]
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"a control character (U+{ord(char):04X})"
    return f"a non-ASCII character (U+{ord(char):04X})"


@dataclass(frozen=True)
class ProjectConfig:
    root: Path
    default_environment: str
    environments: Mapping[str, Environment]
    raw: Mapping[str, Any] = field(default_factory=dict)

    def environment(self, name: str | None = None) -> Environment:
        chosen = name or self.default_environment
        try:
            return self.environments[chosen]
        except KeyError:
            known = ", ".join(sorted(self.environments)) or "none"
            raise ConfigError(
                f"unknown environment {chosen!r} (defined: {known})",
                Location(str(self.root / CONFIG_FILE), field="environments"),
            ) from None


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding ``dsgit.yaml``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise ConfigError(f"no {CONFIG_FILE} found in {start} or any parent folder (run `dsgit init`)")


def load_project_config(root: Path) -> ProjectConfig:
    path = root / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{CONFIG_FILE} not found (run `dsgit init`)", Location(str(path))
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid UTF-8: {exc.reason}", Location(str(path))) from None
    return parse_project_config(text, root, str(path))


def _line_of(node: yaml.Node | None) -> tuple[int | None, int | None]:
    if node is None:
        return None, None
    return node.start_mark.line + 1, node.start_mark.column + 1


def _find_node(root: yaml.Node | None, *keys: str) -> yaml.Node | None:
    node = root
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            return node
        for key_node, value_node in node.value:
            if key_node.value == key:
                node = value_node
                break
        else:
            return node
    return node


def parse_project_config(text: str, root: Path, filename: str) -> ProjectConfig:
    """Parse ``dsgit.yaml`` text; every problem names file, line and field.

    The text is read with dsgit's safe loader (duplicate keys, aliases, YAML 1.2 scalars) and
    checked against ``schemas/dsgit.schema.json`` first, so the first error carries its code
    and position (``dsgit validate`` lists them all).
    """
    from dsgit.repo.project_file import check_project
    from dsgit.repo.yamlload import parse_yaml

    document, problems = parse_yaml(text, filename)
    if document is not None:
        problems = problems + check_project(document.value, document.node, filename)
    problems = [p for p in problems if p.is_error]  # warnings are for `dsgit validate`
    if problems:
        first = min(problems, key=lambda p: (p.line or 0, p.column or 0))
        raise ConfigError(
            f"{first.code} {first.message}", Location(filename, first.line, first.column)
        )
    assert document is not None
    tree = document.node
    data = document.value

    def fail(message: str, *keys: str) -> ConfigError:
        line, column = _line_of(_find_node(tree, *keys))
        return ConfigError(message, Location(filename, line, column, ".".join(keys) or None))

    if not isinstance(data, dict):
        raise fail("expected a mapping with version, default_environment and environments")
    if data.get("version") != 1:
        raise fail("`version` must be 1", "version")
    envs_raw = data.get("environments")
    if not isinstance(envs_raw, dict) or not envs_raw:
        raise fail("`environments` must map environment names to settings", "environments")

    environments: dict[str, Environment] = {}
    for name, body in envs_raw.items():
        environments[str(name)] = _parse_environment(str(name), body, root, fail)

    default = data.get("default_environment", next(iter(environments)))
    if not isinstance(default, str) or default not in environments:
        raise fail(
            f"`default_environment` {default!r} is not one of the environments",
            "default_environment",
        )
    return ProjectConfig(root, default, environments, data)


def _parse_environment(name: str, body: Any, root: Path, fail: Any) -> Environment:
    where = ("environments", name)
    if not isinstance(body, dict):
        raise fail("an environment must be a mapping", *where)
    known = {
        "universe_id",
        "emulator",
        "emulator_anywhere",
        "url",
        "api_key_env",
        "budget",
        "protected",
        "preview",
        "description",
    }
    for field_name in body:
        if field_name not in known:
            raise fail(f"unknown field {field_name!r}", *where, str(field_name))
    universe = body.get("universe_id")
    if isinstance(universe, bool) or not isinstance(universe, int) or universe <= 0:
        raise fail("`universe_id` must be a positive integer", *where, "universe_id")
    emulator = body.get("emulator")
    url = body.get("url")
    if emulator is not None and url is not None:
        raise fail("set either `emulator` or `url`, not both", *where)
    if emulator is not None and not isinstance(emulator, str):
        raise fail("`emulator` must be a path to the SQLite file", *where, "emulator")
    if url is not None and (
        not isinstance(url, str) or not url.startswith(("http://", "https://"))
    ):
        raise fail("`url` must be an http(s) URL", *where, "url")
    api_key_env = body.get("api_key_env")
    if api_key_env is not None and not isinstance(api_key_env, str):
        raise fail("`api_key_env` must name an environment variable", *where, "api_key_env")
    budget_raw = body.get("budget") or {}
    if not isinstance(budget_raw, dict):
        raise fail("`budget` must be a mapping with ccu and share", *where, "budget")
    ccu = budget_raw.get("ccu", 0)
    share = budget_raw.get("share", 0.5)
    if isinstance(ccu, bool) or not isinstance(ccu, int) or ccu < 0:
        raise fail("`budget.ccu` must be a non-negative integer", *where, "budget", "ccu")
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        raise fail("`budget.share` must be a number in (0, 1]", *where, "budget", "share")
    protected = body.get("protected", False)
    if not isinstance(protected, bool):
        raise fail("`protected` must be true or false", *where, "protected")
    preview = body.get("preview", False)
    if not isinstance(preview, bool):
        raise fail("`preview` must be true or false", *where, "preview")
    if preview and protected:
        raise fail("a `preview` environment cannot be `protected`", *where, "preview")
    if emulator is None and url is None:
        url = DEFAULT_URL
    return Environment(
        name=name,
        universe_id=universe,
        emulator=(root / emulator) if emulator is not None else None,
        url=url,
        api_key_env=api_key_env,
        budget=Budget(ccu, float(share)),
        protected=protected,
        emulator_root=None if body.get("emulator_anywhere") is True else root,
        preview=preview,
    )
