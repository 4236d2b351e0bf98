"""Configs repositories: a published version, a draft changeset, revisions and restore.

The draft is kept as a changeset against the published entries (``key -> new value``, ``None``
for a deletion), as the API describes: PATCH merges into it (a key set back to its published
value drops out of it), PUT ``draft:overwrite`` recomputes it from the intended final state.
The draft hash covers the changeset and the published version it applies to, so it changes on
every draft edit and on every publish.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from dsgit.emulator.api_error import invalid, not_found
from dsgit.emulator.database import Database

__all__ = ["REPOSITORIES", "ConfigRevision", "ConfigsState", "Published"]

REPOSITORIES = frozenset(
    {
        "InExperienceConfig",
        "RecommendationServicesConfig",
        "DataStoresConfig",
        "ExtendedServicesConfig",
        "LeaderboardsConfig",
        "ExperienceUserConfig",
        "JourneysConfig",
        "AntiCheatConfig",
    }
)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _same(left: Any, right: Any) -> bool:
    return _canonical(left) == _canonical(right)


@dataclass(frozen=True)
class Published:
    """The published entries: ``key -> {"value", "modified"}`` and the config version."""

    version: int
    entries: dict[str, dict[str, Any]]

    def values(self) -> dict[str, Any]:
        return {key: item["value"] for key, item in self.entries.items()}


@dataclass(frozen=True)
class ConfigRevision:
    revision_id: str
    version: int
    time: int
    message: str | None
    strategy: str | None
    changes: dict[str, dict[str, Any]]
    snapshot: dict[str, Any]


class ConfigsState:
    """Operations on configs repositories, each atomic under the database lock."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def check_repository(name: str) -> str:
        if name not in REPOSITORIES:
            raise invalid(f"unknown repository {name!r}; known: {', '.join(sorted(REPOSITORIES))}")
        return name

    def _load(
        self, conn: sqlite3.Connection, universe: int, repository: str
    ) -> tuple[Published, dict[str, Any]]:
        row = conn.execute(
            "SELECT version, published, draft FROM configs WHERE universe=? AND repository=?",
            (universe, repository),
        ).fetchone()
        if row is None:
            return Published(0, {}), {}
        return Published(row[0], json.loads(row[1])), json.loads(row[2] or "{}")

    def _save(
        self,
        conn: sqlite3.Connection,
        universe: int,
        repository: str,
        published: Published,
        draft: dict[str, Any],
    ) -> None:
        conn.execute(
            "INSERT INTO configs (universe, repository, version, published, draft) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (universe, repository) DO UPDATE SET "
            "version=excluded.version, published=excluded.published, draft=excluded.draft",
            (
                universe,
                repository,
                published.version,
                _canonical(published.entries),
                _canonical(draft),
            ),
        )

    @staticmethod
    def draft_hash(published: Published, draft: dict[str, Any]) -> str:
        text = _canonical([published.version, draft])
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def published(self, universe: int, repository: str) -> Published:
        with self._db.read() as conn:
            return self._load(conn, universe, repository)[0]

    def draft(self, universe: int, repository: str) -> tuple[str, dict[str, Any]]:
        with self._db.read() as conn:
            published, draft = self._load(conn, universe, repository)
        return self.draft_hash(published, draft), draft

    def _check_hash(self, published: Published, draft: dict[str, Any], given: Any) -> None:
        if given is None or given == "":
            return
        if given != self.draft_hash(published, draft):
            raise invalid("draftHash does not match the current draft (it changed since)")

    def edit_draft(
        self,
        universe: int,
        repository: str,
        entries: dict[str, Any],
        given_hash: Any,
        *,
        overwrite: bool,
    ) -> str:
        """PATCH (merge) or PUT ``draft:overwrite`` (the intended final state)."""
        with self._db.write() as conn:
            published, draft = self._load(conn, universe, repository)
            self._check_hash(published, draft, given_hash)
            live = published.values()
            if overwrite:
                draft = {
                    key: value
                    for key, value in entries.items()
                    if value is not None and (key not in live or not _same(live[key], value))
                }
                draft.update({key: None for key in live if entries.get(key) is None})
            else:
                for key, value in entries.items():
                    unchanged = key in live and _same(live[key], value)
                    if unchanged or (value is None and key not in live):
                        draft.pop(key, None)
                    else:
                        draft[key] = value
            self._save(conn, universe, repository, published, draft)
            return self.draft_hash(published, draft)

    def reset_draft(self, universe: int, repository: str, given_hash: Any) -> str:
        with self._db.write() as conn:
            published, draft = self._load(conn, universe, repository)
            self._check_hash(published, draft, given_hash)
            self._save(conn, universe, repository, published, {})
            return self.draft_hash(published, {})

    def publish(
        self,
        universe: int,
        repository: str,
        given_hash: Any,
        message: str | None,
        strategy: str | None,
        now: int,
    ) -> int:
        with self._db.write() as conn:
            published, draft = self._load(conn, universe, repository)
            if not given_hash:
                raise invalid("draftHash is required to publish")
            self._check_hash(published, draft, given_hash)
            if not draft:
                raise invalid("the draft has no changes to publish")
            entries = dict(published.entries)
            changes: dict[str, dict[str, Any]] = {}
            for key, value in sorted(draft.items()):
                before = entries[key]["value"] if key in entries else None
                changes[key] = {"before": before, "after": value}
                if value is None:
                    entries.pop(key, None)
                else:
                    entries[key] = {"value": value, "modified": now}
            version = published.version + 1
            after = Published(version, entries)
            self._save(conn, universe, repository, after, {})
            revision_id = hashlib.sha256(f"{universe}/{repository}/{version}".encode()).hexdigest()[
                :24
            ]
            conn.execute(
                "INSERT INTO config_revisions (universe, repository, version, revision_id, time, "
                "message, strategy, changes, snapshot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    universe,
                    repository,
                    version,
                    revision_id,
                    now,
                    message,
                    strategy,
                    _canonical(changes),
                    _canonical(after.values()),
                ),
            )
            return version

    def revisions(self, universe: int, repository: str) -> list[ConfigRevision]:
        """Every published revision, oldest first."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT revision_id, version, time, message, strategy, changes, snapshot "
                "FROM config_revisions WHERE universe=? AND repository=? ORDER BY version",
                (universe, repository),
            ).fetchall()
        return [
            ConfigRevision(
                row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), json.loads(row[6])
            )
            for row in rows
        ]

    def restore(self, universe: int, repository: str, revision: str) -> str:
        """Stage, as the draft, what brings the published entries back to ``revision``."""
        target = next(
            (
                item
                for item in self.revisions(universe, repository)
                if revision in (item.revision_id, str(item.version))
            ),
            None,
        )
        if target is None:
            raise not_found(f"revision {revision!r} not found in {repository}")
        return self.edit_draft(universe, repository, target.snapshot, None, overwrite=True)
