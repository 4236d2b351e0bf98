"""The port for Experience Configs: the configs repositories API and the experiments that lock
its keys (``/creator-configs-public-api/v1/...``), one universe at a time.

:class:`ConfigsApi` is what plan, apply, import and the browsing commands use;
``OpenCloudClient`` implements it over HTTP (``dsgit.remote.configs_ops``) against Roblox or
the emulator, and a test fake needs only these methods.

Conventions:
- a repository's contents are :class:`ConfigContents`: entries by key (default value,
  description, conditional values by rule id) and the conditional rules in evaluation order,
  rule definitions kept verbatim as JSON (dsgit never drops a rule it does not understand);
- draft writes and publishes take the ``draft_hash`` last read; when the draft changed since,
  :class:`DraftChanged` is raised and nothing is written;
- errors name the method, host, path and status, never a config key or value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from dsgit.errors import PreconditionFailed
from dsgit.model.configs import REPOSITORY_NAMES
from dsgit.model.entry import JSONValue

__all__ = [
    "REPOSITORY_NAMES",
    "ConfigContents",
    "ConfigDraft",
    "ConfigEntry",
    "ConfigRevision",
    "ConfigsApi",
    "DeploymentStrategy",
    "DraftChanged",
    "Experiment",
    "PublishedConfig",
    "RuleSet",
    "ValueChange",
]


class DeploymentStrategy(StrEnum):
    """How a publish reaches running servers: at once, or over about 15 minutes."""

    IMMEDIATE = "Immediate"
    GRADUAL_ROLLOUT = "GradualRollout"


class DraftChanged(PreconditionFailed):
    """The draft hash given with a draft write or publish is no longer the current one
    (someone edited the draft, or published, since it was read)."""


@dataclass(frozen=True)
class RuleSet:
    """Conditional rules: definitions by id (verbatim JSON, ``{"tokens": [...]}``) and the
    global evaluation order."""

    rules: Mapping[str, JSONValue] = field(default_factory=dict)
    order: tuple[str, ...] = ()

    def ordered(self) -> tuple[tuple[str, JSONValue], ...]:
        """``(id, definition)`` in evaluation order (rules missing from the order last)."""
        listed = [rule for rule in self.order if rule in self.rules]
        rest = sorted(rule for rule in self.rules if rule not in listed)
        return tuple((rule, self.rules[rule]) for rule in [*listed, *rest])


@dataclass(frozen=True)
class ConfigEntry:
    """One config key: its default value, description and conditional values (by rule id)."""

    value: JSONValue
    description: str | None = None
    variants: Mapping[str, JSONValue] = field(default_factory=dict)
    modified: str | None = None  # lastModifiedTime, when the API gave it


@dataclass(frozen=True)
class ConfigContents:
    """What a repository holds (or should hold): entries by key and the conditional rules."""

    entries: Mapping[str, ConfigEntry] = field(default_factory=dict)
    rules: RuleSet = field(default_factory=RuleSet)


@dataclass(frozen=True)
class PublishedConfig:
    """The published repository and its ``configVersion`` (0 before the first publish)."""

    version: int
    contents: ConfigContents


@dataclass(frozen=True)
class ConfigDraft:
    """The staged draft: its hash, and what it changes against the published contents.

    ``values``: key -> new default value (``None``: the draft removes the key); ``variants``:
    ``(key, rule id)`` -> new conditional value (``None``: removed); ``descriptions``: key ->
    new description; ``rules``: the staged rule set when the draft changes rules, else None.
    """

    draft_hash: str
    values: Mapping[str, JSONValue | None] = field(default_factory=dict)
    variants: Mapping[tuple[str, str], JSONValue | None] = field(default_factory=dict)
    descriptions: Mapping[str, str] = field(default_factory=dict)
    rules: RuleSet | None = None

    @property
    def keys(self) -> frozenset[str]:
        """Every key the draft changes (its value, a conditional value or its description)."""
        return frozenset(self.values) | {key for key, _ in self.variants} | set(self.descriptions)

    @property
    def staged(self) -> bool:
        """True when the draft holds any change (a publish would change something)."""
        return bool(self.keys) or self.rules is not None


@dataclass(frozen=True)
class ValueChange:
    before: JSONValue
    after: JSONValue


@dataclass(frozen=True)
class ConfigRevision:
    """One published revision (newest first in listings), with its per-key changes."""

    revision_id: str
    version: int | None
    time: str | None
    message: str | None = None
    published_by: str | None = None
    deployment_result: str | None = None
    changes: Mapping[str, ValueChange] = field(default_factory=dict)
    rule_changes: Mapping[str, ValueChange] = field(default_factory=dict)
    order_change: ValueChange | None = None


@dataclass(frozen=True)
class Experiment:
    """An in-experience experiment; a running one locks ``config_key``."""

    id: str
    name: str
    state: str
    config_key: str | None
    started: str | None = None

    @property
    def running(self) -> bool:
        return self.state in ("EXPERIMENT_STATE_RUNNING", "Running", "RUNNING")


class ConfigsApi(Protocol):
    """Experience Configs of one universe."""

    universe_id: int

    def read_published(self, repository: str) -> PublishedConfig:
        """The published repository with descriptions and conditional values (``…/full``)."""
        ...

    def read_draft(self, repository: str) -> ConfigDraft: ...

    def overwrite_draft(
        self, repository: str, contents: ConfigContents, *, draft_hash: str | None = None
    ) -> str:
        """Make the draft the whole of ``contents``, conditional rules included (an overwrite
        without them deletes every rule); returns the new draft hash."""
        ...

    def discard_draft(self, repository: str, *, draft_hash: str | None = None) -> str:
        """Reset the draft to the published contents; returns the new draft hash."""
        ...

    def publish(
        self,
        repository: str,
        draft_hash: str,
        message: str,
        strategy: DeploymentStrategy = DeploymentStrategy.IMMEDIATE,
    ) -> int:
        """Publish the draft ``draft_hash`` names; returns the new ``configVersion``."""
        ...

    def list_config_revisions(self, repository: str) -> Iterator[ConfigRevision]:
        """Published revisions, newest first."""
        ...

    def restore_revision(self, repository: str, revision_id: str) -> str:
        """Stage (as the draft) the repository as ``revision_id`` left it; returns the hash.
        Publish it to take effect."""
        ...

    def list_experiments(self, *, running_only: bool = True) -> Iterator[Experiment]: ...

    def locked_keys(self) -> Mapping[str, Experiment]:
        """``InExperienceConfig`` keys locked by a running experiment, with the experiment."""
        ...
