"""What a GitHub Actions run tells a step: the event, the repository, the token, the files.

Read from GitHub's standard variables (``GITHUB_EVENT_NAME``, ``GITHUB_EVENT_PATH``,
``GITHUB_REPOSITORY``, ``GITHUB_API_URL``, ``GITHUB_SHA``, ``GITHUB_RUN_ID``,
``GITHUB_STEP_SUMMARY``, ``GITHUB_OUTPUT``...), so ``dsgit github …`` runs the same outside the
Action: set them by hand and it does what the Action would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsgit.errors import ConfigError, Location

__all__ = ["DEFAULT_BOT_LOGIN", "ActionContext", "PullEvent"]

DEFAULT_BOT_LOGIN = "github-actions[bot]"  # who GITHUB_TOKEN comments as


@dataclass(frozen=True)
class PullEvent:
    """The pull request an event is about, as its payload describes it."""

    number: int
    head_sha: str
    base_sha: str
    base_ref: str
    head_repository: str
    author: str
    action: str
    merged: bool

    def from_fork(self, repository: str) -> bool:
        return self.head_repository != repository


@dataclass(frozen=True)
class ActionContext:
    """One step's view of its run."""

    event_name: str
    event: Mapping[str, Any]
    repository: str
    repository_id: int | None
    api_url: str
    server_url: str
    sha: str
    ref: str
    run_id: int | None
    workflow_ref: str
    actor: str
    step_summary: Path | None
    output: Path | None
    temp: Path
    bot_login: str

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str], *, bot_login: str | None = None
    ) -> ActionContext:
        """Raises ``ConfigError`` naming the variable when one dsgit needs is missing."""

        def need(name: str) -> str:
            value = environ.get(name, "").strip()
            if not value:
                raise ConfigError(
                    f"{name} is not set: `dsgit github` runs inside GitHub Actions, or with "
                    "GitHub's variables set by hand (see docs/github-action.md)"
                )
            return value

        event_path = need("GITHUB_EVENT_PATH")
        try:
            event = json.loads(Path(event_path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot read the event payload: {exc}", Location(event_path)
            ) from None
        if not isinstance(event, dict):
            raise ConfigError("the event payload is not a JSON object", Location(event_path))

        def optional_path(name: str) -> Path | None:
            value = environ.get(name, "").strip()
            return Path(value) if value else None

        def optional_int(name: str) -> int | None:
            value = environ.get(name, "").strip()
            return int(value) if value.isdigit() else None

        return cls(
            event_name=need("GITHUB_EVENT_NAME"),
            event=event,
            repository=need("GITHUB_REPOSITORY"),
            repository_id=optional_int("GITHUB_REPOSITORY_ID"),
            api_url=environ.get("GITHUB_API_URL", "").strip() or "https://api.github.com",
            server_url=environ.get("GITHUB_SERVER_URL", "").strip() or "https://github.com",
            sha=environ.get("GITHUB_SHA", "").strip(),
            ref=environ.get("GITHUB_REF", "").strip(),
            run_id=optional_int("GITHUB_RUN_ID"),
            workflow_ref=environ.get("GITHUB_WORKFLOW_REF", "").strip(),
            actor=environ.get("GITHUB_ACTOR", "").strip() or "unknown",
            step_summary=optional_path("GITHUB_STEP_SUMMARY"),
            output=optional_path("GITHUB_OUTPUT"),
            temp=optional_path("RUNNER_TEMP") or Path(".dsgit") / "github",
            bot_login=bot_login or environ.get("DSGIT_BOT_LOGIN", "").strip() or DEFAULT_BOT_LOGIN,
        )

    @property
    def workflow_path(self) -> str | None:
        """The running workflow's file (``.github/workflows/x.yml``), from GITHUB_WORKFLOW_REF."""
        ref = self.workflow_ref.split("@", 1)[0]
        owner_repo = self.repository + "/"
        if not ref.startswith(owner_repo):
            return None
        return ref[len(owner_repo) :] or None

    @property
    def run_url(self) -> str | None:
        if self.run_id is None:
            return None
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"

    def pull(self) -> PullEvent | None:
        """The pull request of a pull_request(_target) or pull_request_review event."""
        raw = self.event.get("pull_request")
        if not isinstance(raw, Mapping):
            return None
        head = raw.get("head") or {}
        base = raw.get("base") or {}
        head_repo = head.get("repo") or {}
        user = raw.get("user") or {}
        return PullEvent(
            number=int(raw["number"]),
            head_sha=str(head.get("sha", "")),
            base_sha=str(base.get("sha", "")),
            base_ref=str(base.get("ref", "")),
            head_repository=str(head_repo.get("full_name", "")),
            author=str(user.get("login", "")),
            action=str(self.event.get("action", "")),
            merged=bool(raw.get("merged", False)),
        )

    def comment_issue(self) -> tuple[int, bool] | None:
        """``(number, is a pull request)`` for an issue_comment event."""
        issue = self.event.get("issue")
        if not isinstance(issue, Mapping) or "number" not in issue:
            return None
        return int(issue["number"]), "pull_request" in issue
