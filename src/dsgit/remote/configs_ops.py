"""Configs repositories (``DataStoresConfig``, ``InExperienceConfig``): draft, publish, history."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

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
        """The draft's pending changes (a ``None`` value: the draft removes that key)."""
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

    def update_config_draft(
        self,
        repository: str,
        changes: Mapping[str, JSONValue],
        *,
        draft_hash: str | None = None,
    ) -> str:
        """Change some keys of the draft (``None`` removes a key); returns the new draft hash.

        With ``draft_hash`` the edit happens only if the draft is still that one.
        """
        path = P.configs_path(self.universe_id, repository, "/draft")
        payload: dict[str, object] = {"entries": dict(changes)}
        if draft_hash is not None:
            payload["draftHash"] = draft_hash

        def verify() -> str | None:
            draft = self.get_config_draft(repository)
            # A draft lists its changes; a removal shows as null (or not at all).
            landed = all(draft.entries.get(key) == value for key, value in changes.items())
            moved = draft_hash is None or draft.draft_hash != draft_hash
            return (draft.draft_hash or "") if landed and moved else None

        return self._session.verified_write(
            "PATCH", path, _CONFIGS, parse.draft_hash, body=payload, verify=verify
        )

    def delete_config_draft(self, repository: str, *, draft_hash: str | None = None) -> str:
        """Discard the draft (back to the published values); returns the new draft hash."""
        path = P.configs_path(self.universe_id, repository, "/draft")
        payload = {"draftHash": draft_hash} if draft_hash is not None else {}

        def verify() -> str | None:
            draft = self.get_config_draft(repository)  # a discarded draft has no changes
            return (draft.draft_hash or "") if not draft.entries else None

        return self._session.verified_write(
            "DELETE", path, _CONFIGS, parse.draft_hash, body=payload, verify=verify
        )

    def publish_config(self, repository: str, draft_hash: str, message: str) -> None:
        path = P.configs_path(self.universe_id, repository, "/publish")
        payload = {"draftHash": draft_hash, "message": message, "deploymentStrategy": "Immediate"}

        def verify() -> bool | None:
            # Publishing empties the draft; a draft still holding changes was not published
            # (and if someone else changed it, the retry fails on the stale draft hash).
            return True if not self.get_config_draft(repository).entries else None

        self._session.call(
            "POST", path, _CONFIGS, body=payload, safety=Safety.VERIFIED, verify=verify
        )

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
