"""One comment per pull request and environment, found again and edited in place.

A sticky comment is recognised by two things together: a hidden marker on its first line
(``<!-- dsgit:plan:<env> -->``) AND its author being the bot's own login (``github-actions[bot]``
for ``GITHUB_TOKEN``, which cannot call ``GET /user``; an App's ``<slug>[bot]``). A look-alike
written by anyone else, marker and all, is never edited or deleted. When two runs raced and both
created one, the oldest is kept and updated and the others are deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dsgit.github.client import GitHubClient, IssueComment

__all__ = ["GITHUB_BODY_LIMIT", "StickyResult", "marker", "upsert_sticky"]

GITHUB_BODY_LIMIT = 65_536  # GitHub refuses longer comment and issue bodies
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def marker(kind: str, key: str) -> str:
    """The hidden first line that identifies a sticky comment or issue (``kind``: plan, drift,
    apply, preview)."""
    return f"<!-- dsgit:{kind}:{_SAFE.sub('_', key)} -->"


@dataclass(frozen=True)
class StickyResult:
    """What :func:`upsert_sticky` did: ``created`` or ``updated`` the comment ``comment_id``,
    deleting ``removed`` duplicates."""

    action: str
    comment_id: int
    removed: tuple[int, ...] = ()


def _ours(comment: IssueComment, tag: str, bot_login: str) -> bool:
    return (
        comment.user is not None
        and comment.user.login == bot_login
        and comment.body.split("\n", 1)[0].strip() == tag
    )


def upsert_sticky(
    client: GitHubClient, number: int, tag: str, body: str, *, bot_login: str
) -> StickyResult:
    """Create or update the one comment on ``number`` that starts with ``tag`` and is by
    ``bot_login``. ``body`` must not start with the tag (it is added)."""
    text = f"{tag}\n{body}"
    if len(text) > GITHUB_BODY_LIMIT:
        raise ValueError(f"comment body of {len(text)} characters is over GitHub's limit")
    mine = sorted(
        (c for c in client.list_issue_comments(number) if _ours(c, tag, bot_login)),
        key=lambda c: c.id,
    )
    if not mine:
        created = client.create_issue_comment(number, text)
        # Another run may have created one at the same time: keep the oldest, drop the rest.
        again = sorted(
            (c for c in client.list_issue_comments(number) if _ours(c, tag, bot_login)),
            key=lambda c: c.id,
        )
        keep = again[0].id if again else created.id
        removed = tuple(c.id for c in again if c.id != keep)
        for comment_id in removed:
            client.delete_issue_comment(comment_id)
        if keep != created.id:
            client.update_issue_comment(keep, text)
            return StickyResult("updated", keep, removed)
        return StickyResult("created", created.id, removed)
    oldest, duplicates = mine[0], mine[1:]
    if oldest.body != text:
        client.update_issue_comment(oldest.id, text)
    for comment in duplicates:
        client.delete_issue_comment(comment.id)
    return StickyResult("updated", oldest.id, tuple(c.id for c in duplicates))
