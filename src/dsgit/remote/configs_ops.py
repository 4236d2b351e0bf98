"""The configs operations of :class:`~dsgit.remote.client.OpenCloudClient`: it implements
:class:`~dsgit.remote.configs_api.ConfigsApi` over HTTP.

Each request draws from its own budget class (``budget.Operation``): reads (configs and
experiments) 100 a minute, draft writes 50, publish and restore 10, as the operations'
``x-roblox-rate-limits`` say. Draft writes are idempotent (the same body gives the same draft)
and retried; a publish is verified by reading the revisions before it is repeated, so a lost
answer never publishes twice. Errors name the method, host, path and status; a config key the
request carried is blanked out of whatever message the server sent back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

from dsgit.errors import PreconditionFailed, RemoteError
from dsgit.model.entry import JSONValue
from dsgit.remote import configs_parse as parse
from dsgit.remote import paths as P
from dsgit.remote.budget import Operation, RequestClass
from dsgit.remote.configs_api import (
    ConfigContents,
    ConfigDraft,
    ConfigRevision,
    DeploymentStrategy,
    DraftChanged,
    Experiment,
    PublishedConfig,
)
from dsgit.remote.retry import Safety
from dsgit.remote.session import Session

__all__ = ["ConfigsRepositories", "draft_body"]

_READ = RequestClass(Operation.CONFIGS_READ)
_DRAFT = RequestClass(Operation.CONFIGS_DRAFT)
_PUBLISH = RequestClass(Operation.CONFIGS_PUBLISH)
_REVISIONS_PAGE = 100
_EXPERIMENTS_PAGE = 100
_RUNNING = "EXPERIMENT_STATE_RUNNING"
_HASH_WORDS = re.compile(r"hash|stale|changed|concurren", re.IGNORECASE)

T = TypeVar("T")


def draft_body(contents: ConfigContents, draft_hash: str | None = None) -> dict[str, Any]:
    """The ``draft:overwrite`` body for ``contents``: flat entries (each conditional value as
    ``<key>.RBX.conditional.<rule>``) and, always, ``conditionalRules`` (without it Roblox
    deletes every rule)."""
    order = {rule: index for index, (rule, _) in enumerate(contents.rules.ordered())}
    entries: dict[str, JSONValue] = {}
    for key, entry in contents.entries.items():
        entries[key] = entry.value
        for rule in sorted(entry.variants, key=lambda r: (order.get(r, len(order)), r)):
            entries[parse.branch_name(key, rule)] = entry.variants[rule]
    ordered = contents.rules.ordered()
    body: dict[str, Any] = {
        "entries": entries,
        "conditionalRules": {
            "rules": {rule: definition for rule, definition in ordered},
            "rulesOrder": [rule for rule, _ in ordered],
        },
    }
    if draft_hash is not None:
        body["draftHash"] = draft_hash
    return body


class ConfigsRepositories:
    """The configs and experiments operations of ``OpenCloudClient``."""

    universe_id: int
    base_url: str
    _session: Session

    # --- errors ---------------------------------------------------------------------------
    @contextmanager
    def _named(self, keys: Iterable[str] = (), *, hashed: bool = False) -> Iterator[None]:
        """Errors with the host in their path and no config key in their message; with
        ``hashed``, a refusal over the draft hash becomes :class:`DraftChanged`."""
        try:
            yield
        except RemoteError as exc:
            if type(exc).__init__ is not RemoteError.__init__:
                raise
            message = _blank(exc.remote_message, keys)
            kind: type[RemoteError] = type(exc)
            stale = isinstance(exc, PreconditionFailed) or (
                exc.status == 400 and message is not None and _HASH_WORDS.search(message)
            )
            if hashed and stale:
                kind = DraftChanged
            host = urlsplit(self.base_url).netloc or self.base_url
            raise kind(
                exc.method, f"{host}{exc.path}", exc.status, exc.code, message, exc.request_id
            ) from None

    def _read(self, path: str, function: Callable[[Any], T], **params: str | int) -> T:
        with self._named():
            body = self._session.call("GET", path, _READ, params=params or None)
            return self._session.parse("GET", path, function, body)

    # --- reads ----------------------------------------------------------------------------
    def read_published(self, repository: str) -> PublishedConfig:
        return self._read(P.configs_path(self.universe_id, repository, "/full"), parse.published)

    def read_draft(self, repository: str) -> ConfigDraft:
        return self._read(P.configs_path(self.universe_id, repository, "/draft"), parse.draft)

    def list_config_revisions(self, repository: str) -> Iterator[ConfigRevision]:
        path = P.configs_path(self.universe_id, repository, "/revisions")
        seen: set[str] = set()
        skip = 0
        while True:
            items = self._read(
                path,
                parse.revisions_page,
                MaxPageSize=_REVISIONS_PAGE,
                Skip=skip,
                SortOrder="SORT_ORDER_DESCENDING",
            )
            fresh = 0
            for item in items:
                revision = self._session.parse("GET", path, parse.revision, item)
                if revision.revision_id in seen:
                    continue
                seen.add(revision.revision_id)
                fresh += 1
                yield revision
            # A server that ignores Skip would repeat the same page: stop when nothing is new.
            if fresh == 0 or len(items) < _REVISIONS_PAGE:
                return
            skip += len(items)

    def list_experiments(self, *, running_only: bool = True) -> Iterator[Experiment]:
        path = P.experiments_path(self.universe_id, "/experiments")
        params: dict[str, str | int] = {"maxPageSize": _EXPERIMENTS_PAGE}
        if running_only:
            params["stateFilters"] = _RUNNING
        seen: set[str] = set()
        skip = 0
        while True:
            items, total = self._read(path, parse.experiments_page, **params, skip=skip)
            fresh = 0
            for item in items:
                found = self._session.parse("GET", path, parse.experiment, item)
                if found.id in seen:
                    continue
                seen.add(found.id)
                fresh += 1
                # A server that ignores stateFilters still lists only what was asked for.
                if not running_only or found.running:
                    yield found
            done = total is not None and skip + len(items) >= total
            if fresh == 0 or done or len(items) < _EXPERIMENTS_PAGE:
                return
            skip += len(items)

    def locked_keys(self) -> Mapping[str, Experiment]:
        locked: dict[str, Experiment] = {}
        for found in self.list_experiments(running_only=True):
            whole = found
            if found.config_key is None:  # a summary without the key: read the experiment
                suffix = f"/experiments/{P.quote_segment(found.id)}"
                path = P.experiments_path(self.universe_id, suffix)
                whole = self._read(path, lambda body: parse.experiment(body.get("experiment")))
            if whole.config_key is not None:
                locked[whole.config_key] = whole
        return locked

    # --- writes ---------------------------------------------------------------------------
    def overwrite_draft(
        self, repository: str, contents: ConfigContents, *, draft_hash: str | None = None
    ) -> str:
        path = P.configs_path(self.universe_id, repository, "/draft:overwrite")
        body = draft_body(contents, draft_hash)
        with self._named(contents.entries, hashed=draft_hash is not None):
            if draft_hash is None:  # the same body always leaves the same draft
                answer = self._session.call("PUT", path, _DRAFT, body=body)
                return self._session.parse("PUT", path, parse.draft_hash, answer)

            def verify() -> str | None:
                # A landed first attempt moved the hash a repeat would quote: it landed when
                # the hash moved and everything the draft now changes is what we sent.
                current = self.read_draft(repository)
                moved = current.draft_hash != draft_hash
                return current.draft_hash if moved and _agrees(current, contents) else None

            return self._session.verified_write(
                "PUT", path, _DRAFT, parse.draft_hash, body=body, verify=verify
            )

    def discard_draft(self, repository: str, *, draft_hash: str | None = None) -> str:
        path = P.configs_path(self.universe_id, repository, "/draft")
        payload = {"draftHash": draft_hash} if draft_hash is not None else {}

        def verify() -> str | None:
            current = self.read_draft(repository)  # a discarded draft has no changes
            return current.draft_hash if not current.staged else None

        with self._named(hashed=draft_hash is not None):
            return self._session.verified_write(
                "DELETE", path, _DRAFT, parse.draft_hash, body=payload, verify=verify
            )

    def publish(
        self,
        repository: str,
        draft_hash: str,
        message: str,
        strategy: DeploymentStrategy = DeploymentStrategy.IMMEDIATE,
    ) -> int:
        path = P.configs_path(self.universe_id, repository, "/publish")
        payload = {
            "draftHash": draft_hash,
            "message": message,
            "deploymentStrategy": str(strategy),
        }
        before = self._latest_version(repository)

        def verify() -> int | None:
            # A publish that landed left a newer revision with our message; one that did not
            # left the draft as it was (and a retry quoting its hash publishes it once).
            for revision in self.list_config_revisions(repository):
                if revision.version is None or revision.version <= before:
                    return None
                if revision.message == message:
                    return revision.version
            return None

        with self._named(hashed=True):
            answer = self._session.call(
                "POST", path, _PUBLISH, body=payload, safety=Safety.VERIFIED, verify=verify
            )
        if isinstance(answer, int):  # what verify found
            return answer
        data = answer if isinstance(answer, dict) else {}
        version = data.get("configVersion")
        if isinstance(version, bool) or not isinstance(version, int | str):
            return self._latest_version(repository)
        return int(version)

    def _latest_version(self, repository: str) -> int:
        path = P.configs_path(self.universe_id, repository, "/revisions")
        items = self._read(
            path, parse.revisions_page, MaxPageSize=1, SortOrder="SORT_ORDER_DESCENDING"
        )
        revisions = [self._session.parse("GET", path, parse.revision, item) for item in items]
        versions = [revision.version for revision in revisions]
        return max((v for v in versions if v is not None), default=0)

    def restore_revision(self, repository: str, revision_id: str) -> str:
        suffix = f"/revisions/{P.quote_segment(revision_id)}/restore"
        path = P.configs_path(self.universe_id, repository, suffix)
        with self._named():
            # Restoring stages the same draft however often it is repeated.
            answer = self._session.call("POST", path, _PUBLISH, body={})
            return self._session.parse("POST", path, parse.draft_hash, answer)


def _agrees(draft: ConfigDraft, contents: ConfigContents) -> bool:
    """True when every change ``draft`` holds is one ``contents`` asks for."""
    entries = contents.entries
    for key, value in draft.values.items():
        wanted = entries.get(key)
        if (wanted is None) != (value is None) or (wanted is not None and wanted.value != value):
            return False
    for (key, rule), value in draft.variants.items():
        wanted = entries.get(key)
        have = wanted.variants.get(rule) if wanted is not None else None
        if have != value:
            return False
    return draft.rules is None or (
        dict(draft.rules.rules) == dict(contents.rules.rules)
        and [rule for rule, _ in draft.rules.ordered()] == [r for r, _ in contents.rules.ordered()]
    )


def _blank(message: str | None, keys: Iterable[str]) -> str | None:
    """``message`` with every config key it quotes replaced by ``<key>``."""
    if message is None:
        return None
    for key in sorted(set(keys), key=len, reverse=True):
        if key:
            message = re.sub(rf"(?<![\w.]){re.escape(key)}(?![\w])", "<key>", message)
    return message
