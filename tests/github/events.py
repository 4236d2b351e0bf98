"""GitHub webhook payloads in the shapes GitHub sends them (trimmed to the fields GitHub always
includes and dsgit reads; see the "Webhook events and payloads" reference)."""

from __future__ import annotations

from typing import Any

REPOSITORY = "octo/game"
REPOSITORY_ID = 4242


def _repository() -> dict[str, Any]:
    return {
        "id": REPOSITORY_ID,
        "node_id": "R_kgDOfake",
        "name": "game",
        "full_name": REPOSITORY,
        "private": True,
        "owner": {"login": "octo", "id": 1, "type": "Organization"},
        "html_url": f"https://github.com/{REPOSITORY}",
        "default_branch": "main",
    }


def _user(login: str, type: str = "User") -> dict[str, Any]:
    return {"login": login, "id": abs(hash(login)) % 10_000_000, "type": type}


def pull_request_payload(
    number: int,
    *,
    head_sha: str,
    base_sha: str,
    action: str = "opened",
    author: str = "carol",
    head_repository: str = REPOSITORY,
    merged: bool = False,
) -> dict[str, Any]:
    """A ``pull_request`` event (opened, synchronize, reopened, closed)."""
    head_repo = (
        _repository()
        if head_repository == REPOSITORY
        else {
            **_repository(),
            "id": 777,
            "full_name": head_repository,
            "fork": True,
        }
    )
    event: dict[str, Any] = {
        "action": action,
        "number": number,
        "pull_request": {
            "url": f"https://api.github.com/repos/{REPOSITORY}/pulls/{number}",
            "id": 9000 + number,
            "number": number,
            "state": "closed" if action == "closed" else "open",
            "title": "Raise the sword price",
            "user": _user(author),
            "head": {
                "label": f"octo:feature-{number}",
                "ref": f"feature-{number}",
                "sha": head_sha,
                "repo": head_repo,
            },
            "base": {"label": "octo:main", "ref": "main", "sha": base_sha, "repo": _repository()},
            "merged": merged,
            "draft": False,
        },
        "repository": _repository(),
        "sender": _user(author),
    }
    if action == "synchronize":
        event["before"] = base_sha
        event["after"] = head_sha
    return event


def review_payload(number: int, *, head_sha: str, reviewer: str, state: str) -> dict[str, Any]:
    """A ``pull_request_review`` event (action ``submitted``)."""
    payload = pull_request_payload(number, head_sha=head_sha, base_sha="b" * 40)
    payload["action"] = "submitted"
    payload["review"] = {
        "id": 555,
        "user": _user(reviewer),
        "body": "",
        "commit_id": head_sha,
        "state": state.lower(),
        "html_url": f"https://github.com/{REPOSITORY}/pull/{number}#pullrequestreview-555",
    }
    payload["sender"] = _user(reviewer)
    del payload["number"]
    return payload


def issue_comment_payload(number: int, *, body: str, commenter: str) -> dict[str, Any]:
    """An ``issue_comment`` event on a pull request (action ``created``)."""
    return {
        "action": "created",
        "issue": {
            "number": number,
            "title": "Raise the sword price",
            "state": "open",
            "user": _user("carol"),
            "pull_request": {"url": f"https://api.github.com/repos/{REPOSITORY}/pulls/{number}"},
        },
        "comment": {"id": 4321, "user": _user(commenter), "body": body},
        "repository": _repository(),
        "sender": _user(commenter),
    }


def push_payload(*, before: str, after: str, ref: str = "refs/heads/main") -> dict[str, Any]:
    """A ``push`` event."""
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "created": False,
        "deleted": False,
        "forced": False,
        "head_commit": {"id": after, "message": "Merge pull request #7"},
        "repository": _repository(),
        "pusher": {"name": "carol", "email": "carol@example.invalid"},
        "sender": _user("carol"),
    }


def schedule_payload() -> dict[str, Any]:
    """A ``schedule`` event."""
    return {
        "schedule": "17 3 * * *",
        "repository": _repository(),
        "workflow": ".github/workflows/dsgit-drift.yml",
    }
