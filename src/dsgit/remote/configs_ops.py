"""Configs repositories (``DataStoresConfig``, ``InExperienceConfig``): draft, publish, history."""

from __future__ import annotations

from collections.abc import Iterator

from dsgit.model.entry import JSONValue
from dsgit.remote import parse
from dsgit.remote import paths as P
from dsgit.remote.api import ConfigRepository, ConfigRevision
from dsgit.remote.budget import Operation, RequestClass
from dsgit.remote.retry import Safety
from dsgit.remote.session import Session

__all__ = ["ConfigsRepositories"]

_CONFIGS = RequestClass(Operation.CONFIGS)
_CONFIG_REVISIONS_PAGE = 100


class ConfigsRepositories:
    """The configs operations of :class:`~dsgit.remote.client.OpenCloudClient`."""

    universe_id: int
    _session: Session

    def get_config(self, repository: str) -> ConfigRepository:
        path = P.configs_path(self.universe_id, repository)
        body = self._session.call("GET", path, _CONFIGS)
        return self._session.parse("GET", path, parse.config_repository, body)

    def get_config_draft(self, repository: str) -> ConfigRepository:
        path = P.configs_path(self.universe_id, repository, "/draft")
        body = self._session.call("GET", path, _CONFIGS)
        return self._session.parse("GET", path, parse.config_repository, body, draft=True)

    def overwrite_config_draft(
        self, repository: str, entries: dict[str, JSONValue]
    ) -> ConfigRepository:
        path = P.configs_path(self.universe_id, repository, "/draft:overwrite")
        body = self._session.call("PUT", path, _CONFIGS, body={"entries": entries})
        draft = self._session.parse("PUT", path, parse.draft_hash, body)
        return ConfigRepository(dict(entries), draft)

    def publish_config(self, repository: str, draft_hash: str, message: str) -> None:
        path = P.configs_path(self.universe_id, repository, "/publish")
        payload = {"draftHash": draft_hash, "message": message, "deploymentStrategy": "Immediate"}
        self._session.call("POST", path, _CONFIGS, body=payload, safety=Safety.UNSAFE)

    def list_config_revisions(self, repository: str) -> Iterator[ConfigRevision]:
        path = P.configs_path(self.universe_id, repository, "/revisions")
        seen: set[str] = set()
        skip = 0
        while True:
            params: dict[str, str | int] = {"MaxPageSize": _CONFIG_REVISIONS_PAGE, "Skip": skip}
            body = self._session.call("GET", path, _CONFIGS, params=params)
            items, _ = self._session.parse("GET", path, parse.page, body, "revisions")
            fresh = 0
            for item in items:
                revision = self._session.parse("GET", path, parse.config_revision, item)
                if revision.revision_id in seen:
                    continue
                seen.add(revision.revision_id)
                fresh += 1
                yield revision
            # A server that ignores Skip would repeat the same page: stop when nothing is new.
            if fresh == 0 or len(items) < _CONFIG_REVISIONS_PAGE:
                return
            skip += len(items)

    def restore_config_revision(self, repository: str, revision_id: str) -> str:
        suffix = f"/revisions/{P.quote_segment(revision_id)}/restore"
        path = P.configs_path(self.universe_id, repository, suffix)
        body = self._session.call("POST", path, _CONFIGS, body={})
        return self._session.parse("POST", path, parse.draft_hash, body)
