"""Looking at live Experience Configs (``dsgit ls --configs``, ``get --config``,
``history --configs``): use cases over :class:`~dsgit.remote.configs_api.ConfigsApi`.

Each function takes the API and returns values; the CLI renders them. A key that is not
published is an error naming the repository (config keys are not secret, but errors about a
request never quote one, so the message here is the only place a key is shown).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from dsgit.errors import DsgitError
from dsgit.model.configs import type_of
from dsgit.remote.configs_api import (
    ConfigDraft,
    ConfigEntry,
    ConfigRevision,
    ConfigsApi,
    Experiment,
    PublishedConfig,
    ValueChange,
)
from dsgit.remote.configs_parse import split_branch

__all__ = [
    "ConfigKeyView",
    "ConfigListing",
    "KeyMissing",
    "config_history",
    "config_listing",
    "read_config_key",
]


class KeyMissing(DsgitError):
    """The config key is not published in the repository."""


@dataclass(frozen=True)
class ConfigKeyView:
    """One published key with what else is going on around it."""

    key: str
    entry: ConfigEntry
    locked_by: Experiment | None
    staged: bool  # the draft changes this key

    @property
    def type(self) -> str:
        found = type_of(self.entry.value)
        return found.value if found is not None else "json"


@dataclass(frozen=True)
class ConfigListing:
    """A published repository, its draft and the keys running experiments lock."""

    repository: str
    published: PublishedConfig
    draft: ConfigDraft
    locked: dict[str, Experiment]

    def views(self) -> Iterator[ConfigKeyView]:
        for key, entry in sorted(self.published.contents.entries.items()):
            yield ConfigKeyView(key, entry, self.locked.get(key), key in self.draft.keys)


def config_listing(api: ConfigsApi, repository: str, *, experiments: bool = True) -> ConfigListing:
    """Published values, the draft, and (for ``InExperienceConfig``) the locked keys."""
    published = api.read_published(repository)
    draft = api.read_draft(repository)
    locked = dict(api.locked_keys()) if experiments and repository == "InExperienceConfig" else {}
    return ConfigListing(repository, published, draft, locked)


def read_config_key(
    api: ConfigsApi, repository: str, key: str
) -> tuple[ConfigKeyView, ConfigListing]:
    listing = config_listing(api, repository)
    entry = listing.published.contents.entries.get(key)
    if entry is None:
        raise KeyMissing(f"{repository} has no published key {key!r}")
    return ConfigKeyView(key, entry, listing.locked.get(key), key in listing.draft.keys), listing


def _touches(revision: ConfigRevision, key: str) -> dict[str, ValueChange]:
    return {
        name: change for name, change in revision.changes.items() if split_branch(name)[0] == key
    }


def config_history(
    api: ConfigsApi,
    repository: str,
    *,
    key: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ConfigRevision]:
    """Published revisions, newest first; with ``key``, only those that changed it (their
    ``changes`` cut to that key's value and conditional values)."""
    found: list[ConfigRevision] = []
    for revision in api.list_config_revisions(repository):
        moment = _moment(revision.time)
        if since is not None and moment is not None and moment < since:
            break  # newest first: everything after is older
        if until is not None and moment is not None and moment > until:
            continue
        if key is None:
            found.append(revision)
            continue
        changes = _touches(revision, key)
        if changes:
            found.append(
                ConfigRevision(
                    revision.revision_id,
                    revision.version,
                    revision.time,
                    revision.message,
                    revision.published_by,
                    revision.deployment_result,
                    changes,
                )
            )
    return found


def _moment(text: str | None) -> datetime | None:
    """A revision's RFC 3339 time (None when absent or unreadable: then it is not filtered)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
