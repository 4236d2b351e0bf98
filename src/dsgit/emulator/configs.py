"""Configs repositories: published contents, a draft, revisions, restore, experiment locks.

Each repository is one JSON document in the ``config_repos`` table::

    {"version": n, "published": CONTENTS (entries carry "modified" ticks),
     "draft": CONTENTS or null, "edits": n}

(``CONTENTS`` as in :mod:`dsgit.emulator.configs_edit`). The draft is the whole intended
repository; what ``GET …/draft`` shows is its difference from the published contents. The
draft hash covers the published version, the draft and a counter of draft writes, so it moves
on every draft write and every publish, as Roblox's does.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dsgit.emulator import configs_edit as edit
from dsgit.emulator.api_error import ApiError, invalid, not_found
from dsgit.emulator.database import Database
from dsgit.model.configs import REPOSITORY_NAMES

__all__ = ["REPOSITORIES", "ConfigRevision", "ConfigsState", "Repository"]

REPOSITORIES = frozenset(REPOSITORY_NAMES)

# key -> id of the running experiment that locks it (InExperienceConfig only)
LockedKeys = Callable[[sqlite3.Connection, int], dict[str, str]]


@dataclass(frozen=True)
class Repository:
    """One repository as stored: the published version and contents, the draft, its hash."""

    version: int
    published: dict[str, Any]
    draft: dict[str, Any] | None
    draft_hash: str

    @property
    def intended(self) -> dict[str, Any]:
        """What a publish would make live: the draft, or the published contents."""
        return self.draft if self.draft is not None else _bare(self.published)


@dataclass(frozen=True)
class ConfigRevision:
    revision_id: str
    version: int
    time: int
    message: str | None
    strategy: str | None
    published_by: str | None
    changes: dict[str, dict[str, Any]]
    rule_changes: dict[str, Any] | None
    snapshot: dict[str, Any]


def _bare(contents: dict[str, Any]) -> dict[str, Any]:
    """Contents without the bookkeeping (``modified``) of published entries."""
    entries = {
        key: {name: value for name, value in entry.items() if name != "modified"}
        for key, entry in contents["entries"].items()
    }
    return {"entries": entries, "rules": contents["rules"]}


def _rule_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any] | None:
    old, new = before["rules"], after["rules"]
    rules = {
        rule: {"before": old["rules"].get(rule), "after": new["rules"].get(rule)}
        for rule in sorted(set(old["rules"]) | set(new["rules"]))
        if not edit.same(old["rules"].get(rule), new["rules"].get(rule))
    }
    changes: dict[str, Any] = {}
    if rules:
        changes["rules"] = rules
    if old["order"] != new["order"]:
        changes["rulesOrder"] = {"before": old["order"], "after": new["order"]}
    return changes or None


class ConfigsState:
    """Operations on configs repositories, each atomic under the database lock."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._locks: LockedKeys = lambda conn, universe: {}

    def lock_with(self, locks: LockedKeys) -> None:
        """Where running experiments' locked keys come from (set by the emulator)."""
        self._locks = locks

    @staticmethod
    def check_repository(name: str) -> str:
        if name not in REPOSITORIES:
            raise invalid(f"unknown repository {name!r}; known: {', '.join(sorted(REPOSITORIES))}")
        return name

    # --- storage --------------------------------------------------------------------------
    def _load(self, conn: sqlite3.Connection, universe: int, repository: str) -> dict[str, Any]:
        row = conn.execute(
            "SELECT state FROM config_repos WHERE universe=? AND repository=?",
            (universe, repository),
        ).fetchone()
        if row is None:
            return {"version": 0, "published": edit.empty_contents(), "draft": None, "edits": 0}
        state: dict[str, Any] = json.loads(row[0])
        return state

    def _save(
        self, conn: sqlite3.Connection, universe: int, repository: str, state: dict[str, Any]
    ) -> None:
        conn.execute(
            "INSERT INTO config_repos (universe, repository, state) VALUES (?, ?, ?) "
            "ON CONFLICT (universe, repository) DO UPDATE SET state=excluded.state",
            (universe, repository, edit.canonical(state)),
        )

    @staticmethod
    def _hash(state: dict[str, Any]) -> str:
        text = edit.canonical([state["version"], state["draft"], state["edits"]])
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def _repository(self, state: dict[str, Any]) -> Repository:
        return Repository(state["version"], state["published"], state["draft"], self._hash(state))

    def read(self, universe: int, repository: str) -> Repository:
        with self._db.read() as conn:
            return self._repository(self._load(conn, universe, repository))

    def locked_keys(self, universe: int, repository: str) -> dict[str, str]:
        if repository != "InExperienceConfig":
            return {}
        with self._db.read() as conn:
            return self._locks(conn, universe)

    # --- draft writes ---------------------------------------------------------------------
    def _check_hash(self, state: dict[str, Any], given: Any) -> None:
        if given is None or given == "":
            return
        if given != self._hash(state):
            raise ApiError(409, "draftHash does not match the current draft (it changed since)")

    def _check_locks(
        self,
        conn: sqlite3.Connection,
        universe: int,
        repository: str,
        published: dict[str, Any],
        wanted: dict[str, Any],
    ) -> None:
        if repository != "InExperienceConfig":
            return
        error = edit.locked_change(_bare(published), wanted, self._locks(conn, universe))
        if error is not None:
            raise error

    def _stage(
        self,
        universe: int,
        repository: str,
        make: Callable[[dict[str, Any]], dict[str, Any]],
        given_hash: Any,
    ) -> str:
        with self._db.write() as conn:
            state = self._load(conn, universe, repository)
            self._check_hash(state, given_hash)
            wanted = make(state)
            self._check_locks(conn, universe, repository, state["published"], wanted)
            state["draft"] = wanted
            state["edits"] += 1
            self._save(conn, universe, repository, state)
            return self._hash(state)

    def edit_draft(
        self, universe: int, repository: str, body: Mapping[str, Any], *, overwrite: bool
    ) -> str:
        """PATCH (merge) or PUT ``draft:overwrite`` (the intended final state)."""
        given = body.get("draftHash", body.get("previousDraftHash"))

        def make(state: dict[str, Any]) -> dict[str, Any]:
            current = self._repository(state).intended
            return edit.overwrite(current, body) if overwrite else edit.patch(current, body)

        return self._stage(universe, repository, make, given)

    def stage_from_creator_hub(
        self,
        universe: int,
        repository: str,
        body: Mapping[str, Any],
        descriptions: Mapping[str, str] | None = None,
    ) -> str:
        """What an edit in Creator Hub or Studio does: merge ``body`` (the PATCH shape) and
        ``descriptions`` into the draft, whatever its hash (for tests and demos)."""

        def make(state: dict[str, Any]) -> dict[str, Any]:
            wanted = edit.patch(self._repository(state).intended, body)
            for key, text in (descriptions or {}).items():
                if key not in wanted["entries"]:
                    raise invalid("a description for a key the draft does not hold")
                wanted["entries"][key]["description"] = text
            return wanted

        return self._stage(universe, repository, make, None)

    def reset_draft(self, universe: int, repository: str, given_hash: Any) -> str:
        with self._db.write() as conn:
            state = self._load(conn, universe, repository)
            self._check_hash(state, given_hash)
            state["draft"] = None
            state["edits"] += 1
            self._save(conn, universe, repository, state)
            return self._hash(state)

    # --- publish, revisions, restore ------------------------------------------------------
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
            state = self._load(conn, universe, repository)
            if not given_hash:
                raise invalid("draftHash is required to publish")
            self._check_hash(state, given_hash)
            wanted = state["draft"]
            if wanted is None or edit.same(wanted, _bare(state["published"])):
                raise invalid("the draft has no changes to publish")
            self._check_locks(conn, universe, repository, state["published"], wanted)
            return self._publish(conn, universe, repository, state, wanted, message, strategy, now)

    def publish_value(
        self, universe: int, repository: str, key: str, value: Any, message: str, now: int
    ) -> int:
        """Publish one key's new default value directly (an experiment's rolled-out winner)."""
        with self._db.write() as conn:
            state = self._load(conn, universe, repository)
            wanted = _bare(state["published"])
            if key not in wanted["entries"]:
                raise not_found("the experiment's config key no longer exists")
            wanted["entries"][key]["value"] = value
            return self._publish(conn, universe, repository, state, wanted, message, None, now)

    def _publish(
        self,
        conn: sqlite3.Connection,
        universe: int,
        repository: str,
        state: dict[str, Any],
        wanted: dict[str, Any],
        message: str | None,
        strategy: str | None,
        now: int,
    ) -> int:
        before = _bare(state["published"])
        changes = edit.changed_keys(before, wanted)
        touched = {name.partition(edit.BRANCH_MARKER)[0] for name in changes}
        entries: dict[str, Any] = {}
        for key, entry in wanted["entries"].items():
            old = state["published"]["entries"].get(key)
            modified = now if key in touched or old is None else old["modified"]
            entries[key] = {**entry, "modified": modified}
        version: int = state["version"] + 1
        state.update(
            version=version,
            published={"entries": entries, "rules": wanted["rules"]},
            draft=None,
        )
        self._save(conn, universe, repository, state)
        revision_id = hashlib.sha256(f"{universe}/{repository}/{version}".encode()).hexdigest()[:24]
        record = {
            "message": message,
            "strategy": strategy,
            "publishedBy": None,
            "changes": changes,
            "ruleChanges": _rule_changes(before, wanted),
            "snapshot": wanted,
        }
        conn.execute(
            "INSERT INTO config_revs (universe, repository, version, revision_id, time, record) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (universe, repository, version, revision_id, now, edit.canonical(record)),
        )
        return version

    def revisions(self, universe: int, repository: str) -> list[ConfigRevision]:
        """Every published revision, oldest first."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT revision_id, version, time, record FROM config_revs "
                "WHERE universe=? AND repository=? ORDER BY version",
                (universe, repository),
            ).fetchall()
        revisions = []
        for revision_id, version, time, text in rows:
            record = json.loads(text)
            revisions.append(
                ConfigRevision(
                    revision_id,
                    version,
                    time,
                    record["message"],
                    record["strategy"],
                    record["publishedBy"],
                    record["changes"],
                    record["ruleChanges"],
                    record["snapshot"],
                )
            )
        return revisions

    def restore(self, universe: int, repository: str, revision: str) -> str:
        """Clear the draft and stage, as the new draft, the repository as ``revision`` left it."""
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
        snapshot = target.snapshot
        return self._stage(universe, repository, lambda state: snapshot, None)
