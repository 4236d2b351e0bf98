"""Reading the revisions of one entry with their values, for ``dsgit history --diff/--field``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from dsgit.model.times import parse_user_time
from dsgit.remote.api import OpenCloudApi, RevisionInfo
from dsgit.remote.browse import entry_history
from dsgit.revisions.diff import Revision

__all__ = ["RevisionWindow", "read_revisions"]


@dataclass(frozen=True)
class RevisionWindow:
    """The revisions in a time window, oldest first; ``baseline`` says the first one is the
    revision just before the window, read only to diff the window's first revision."""

    revisions: tuple[Revision, ...]
    baseline: bool


def _created(item: RevisionInfo) -> datetime:
    return parse_user_time(item.revision_create_time)


def read_revisions(
    api: OpenCloudApi,
    store: str,
    key: str,
    scope: str = "global",
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    on_read: Callable[[], None] | None = None,
) -> RevisionWindow:
    """The revisions created in [since, until] with their data, plus (with ``since``) the one
    before, so the first revision in the window is diffed like the others. One read per
    revision; a deleted revision is a tombstone (``data`` None)."""
    listed = entry_history(api, store, key, scope, since=since, until=until)
    baseline = False
    if since is not None:
        # One more listing, up to `since`: its last revision is what the window started from.
        before = [
            item
            for item in entry_history(api, store, key, scope, until=since)
            if _created(item) < since
        ]
        if before:
            listed = [before[-1], *[item for item in listed if item != before[-1]]]
            baseline = True
    revisions = []
    for item in listed:
        data = None
        if item.state == "ACTIVE":
            entry = api.get_entry(store, key, scope, revision=item.revision_id)
            if entry is not None and entry.state == "ACTIVE":
                data = entry.data
        if on_read is not None:
            on_read()
        revisions.append(Revision(item.revision_id, item.revision_create_time, item.state, data))
    return RevisionWindow(tuple(revisions), baseline)
