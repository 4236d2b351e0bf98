"""Experience Configs as declared in ``configs/<repository>.yaml`` (DESIGN.md §13).

Frozen values, no I/O: :mod:`dsgit.repo.configs_file` parses a file into a
:class:`ConfigsDeclaration`; plan, apply, import and codegen read it. A conditional rule's
definition is kept exactly as imported (Roblox has not documented every operator), and
``environments:`` stays the raw mapping of environment name to a JSON Merge Patch of the value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from dsgit.model.entry import JSONValue, StoreKind
from dsgit.model.layout import CONFIGS_DIR

__all__ = [
    "CONFIGS",
    "CONFIGS_DIR",
    "DEFAULT_MAX_KEYS",
    "MAX_CONDITIONS",
    "MAX_CONDITIONS_PER_KEY",
    "MAX_KEYS_ALLOWED",
    "MAX_KEY_LENGTH",
    "MAX_VALUE_CHARS",
    "REPOSITORY_NAMES",
    "Condition",
    "ConfigKey",
    "ConfigType",
    "ConfigsDeclaration",
    "Strategy",
    "type_of",
    "value_size",
]

# The resource kind of configs repositories: plan addresses ``configs:<repository>/<key>``.
CONFIGS = StoreKind.define("configs")

# The configs API's public repositories (its ``Repository`` enum).
REPOSITORY_NAMES = (
    "InExperienceConfig",
    "RecommendationServicesConfig",
    "DataStoresConfig",
    "ExtendedServicesConfig",
    "LeaderboardsConfig",
    "ExperienceUserConfig",
    "JourneysConfig",
    "AntiCheatConfig",
)
MAX_KEY_LENGTH = 256
MAX_VALUE_CHARS = 100_000  # string and json values
MAX_CONDITIONS = 100  # per repository ("per game")
MAX_CONDITIONS_PER_KEY = 20
# Roblox's pages disagree: the configs API guide says 100 keys a repository, the configs guide
# "up to 1,000 active configs". dsgit checks the stricter by default; `max_keys` raises it.
DEFAULT_MAX_KEYS = 100
MAX_KEYS_ALLOWED = 1_000


class ConfigType(StrEnum):
    """The value types Creator Hub offers for a config key."""

    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    JSON = "json"


class Strategy(StrEnum):
    """How a publish reaches running servers (the API's ``deploymentStrategy``)."""

    IMMEDIATE = "Immediate"
    GRADUAL_ROLLOUT = "GradualRollout"


def type_of(value: JSONValue) -> ConfigType | None:
    """The config type a JSON value has (None for ``null``, which no config can hold)."""
    if isinstance(value, bool):
        return ConfigType.BOOLEAN
    if isinstance(value, int | float):
        return ConfigType.NUMBER
    if isinstance(value, str):
        return ConfigType.STRING
    if isinstance(value, dict | list):
        return ConfigType.JSON
    return None


def value_size(value: JSONValue) -> int:
    """Characters a value counts against Roblox's limit: a string's length, else its JSON."""
    if isinstance(value, str):
        return len(value)
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


@dataclass(frozen=True)
class Condition:
    """One conditional rule: its id and its definition (``{"tokens": [...]}``), verbatim."""

    id: str
    rule: JSONValue
    line: int | None = None


@dataclass(frozen=True)
class ConfigKey:
    """One config key: type, default value, description, conditional values by condition id,
    per-environment merge patches of the value, and an optional JSON Schema (json values)."""

    key: str
    type: ConfigType
    value: JSONValue
    description: str | None = None
    conditional: Mapping[str, JSONValue] = field(default_factory=dict)
    environments: Mapping[str, JSONValue] = field(default_factory=dict)
    schema: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class ConfigsDeclaration:
    """One configs repository: its conditions in evaluation order and its keys."""

    repository: str
    file: str
    strategy: Strategy = Strategy.IMMEDIATE
    conditions: tuple[Condition, ...] = ()
    entries: Mapping[str, ConfigKey] = field(default_factory=dict)
    max_keys: int = DEFAULT_MAX_KEYS

    @property
    def condition_ids(self) -> tuple[str, ...]:
        return tuple(condition.id for condition in self.conditions)
