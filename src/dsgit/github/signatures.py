"""Signed approval blocks pasted into pull-request comments (``/dsgit approve`` + the block
``dsgit approve`` prints), collected for the approvals gate, which verifies them."""

from __future__ import annotations

from collections.abc import Sequence

from dsgit.github.client import GitHubClient, IssueComment

__all__ = ["APPROVE_COMMAND", "collect_signature_blocks", "is_approve_command"]

APPROVE_COMMAND = "/dsgit approve"


def is_approve_command(body: str) -> bool:
    return body.lstrip().startswith(APPROVE_COMMAND)


def _blocks(comments: Sequence[IssueComment], bot_login: str) -> list[str]:
    found = []
    for comment in comments:
        if comment.user is None or comment.user.login == bot_login or comment.user.is_bot:
            continue
        if is_approve_command(comment.body):
            found.append(comment.body.lstrip()[len(APPROVE_COMMAND) :].strip())
    return [block for block in found if block]


def collect_signature_blocks(client: GitHubClient, number: int, bot_login: str) -> list[str]:
    """The text after ``/dsgit approve`` in every human comment of the pull request, oldest
    first (the gate decides which are valid signatures of which plan)."""
    return _blocks(client.list_issue_comments(number), bot_login)
