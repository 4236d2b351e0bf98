"""``GitHubClient``: the few GitHub REST API calls dsgit needs, over httpx.

The base URL comes from the ``base_url`` argument or ``GITHUB_API_URL`` (default
``https://api.github.com``), the token from ``token`` or ``GITHUB_TOKEN``. The token is sent as an
``Authorization`` header and never appears in a message, a ``repr`` or an error: every failure
is one :class:`~dsgit.errors.GitHubError` naming the method, host, path and status.

Lists follow ``Link: <…>; rel="next"`` headers (GitHub's pagination) up to ``max_pages``. The
transport can be injected (tests use a real server on 127.0.0.1, see ``tests/github``).

To add an endpoint: a method that calls :meth:`GitHubClient.get_json`, :meth:`paginate` or
:meth:`request_json` and converts the JSON with a ``from_json`` of a frozen dataclass.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from dsgit.errors import GitHubError

__all__ = [
    "API_VERSION",
    "DEFAULT_API_URL",
    "Artifact",
    "GitHubClient",
    "GitHubUser",
    "Issue",
    "IssueComment",
    "Permission",
    "PullCommit",
    "PullFile",
    "PullRequest",
    "Review",
    "WorkflowRun",
    "parse_time",
]

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
_PER_PAGE = 100


def parse_time(text: Any) -> datetime | None:
    """GitHub's ISO 8601 times (``2026-12-03T10:00:00Z``) as aware datetimes; None stays None."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError(f"expected a time string, got {type(text).__name__}")
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _str(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise ValueError(f"field {name!r} is not a string")
    return value


def _int(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"field {name!r} is not an integer")
    return value


def _obj(data: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"field {name!r} is not an object")
    return value


@dataclass(frozen=True)
class GitHubUser:
    """A GitHub account as the API shows it (``type`` is ``User``, ``Bot`` or ``Organization``)."""

    login: str
    id: int
    type: str

    @property
    def is_bot(self) -> bool:
        return self.type == "Bot" or self.login.endswith("[bot]")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GitHubUser:
        return cls(login=_str(data, "login"), id=_int(data, "id"), type=str(data.get("type", "")))


@dataclass(frozen=True)
class PullRequest:
    """A pull request: its author, head commit and state."""

    number: int
    state: str
    title: str
    author: GitHubUser | None
    head_sha: str
    head_ref: str
    base_ref: str
    created_at: datetime | None
    html_url: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PullRequest:
        user = _obj(data, "user")
        head = _obj(data, "head") or {}
        base = _obj(data, "base") or {}
        return cls(
            number=_int(data, "number"),
            state=_str(data, "state"),
            title=str(data.get("title", "")),
            author=GitHubUser.from_json(user) if user is not None else None,
            head_sha=_str(head, "sha"),
            head_ref=str(head.get("ref", "")),
            base_ref=str(base.get("ref", "")),
            created_at=parse_time(data.get("created_at")),
            html_url=str(data.get("html_url", "")),
        )


@dataclass(frozen=True)
class Review:
    """A pull-request review: ``state`` is APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED or
    PENDING; ``commit_id`` the head commit it was made on (None when GitHub lost the commit)."""

    id: int
    user: GitHubUser | None
    state: str
    commit_id: str | None
    submitted_at: datetime | None
    html_url: str
    body: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Review:
        user = _obj(data, "user")
        commit = data.get("commit_id")
        return cls(
            id=_int(data, "id"),
            user=GitHubUser.from_json(user) if user is not None else None,
            state=_str(data, "state"),
            commit_id=commit if isinstance(commit, str) else None,
            submitted_at=parse_time(data.get("submitted_at")),
            html_url=str(data.get("html_url", "")),
            body=str(data.get("body") or ""),
        )


@dataclass(frozen=True)
class PullCommit:
    """One commit of a pull request: the git author/committer and, where GitHub linked them to
    accounts, their logins; ``message`` holds any ``Co-authored-by:`` trailers."""

    sha: str
    message: str
    author_name: str
    author_email: str
    committer_name: str
    committer_email: str
    author_login: str | None
    committer_login: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PullCommit:
        commit = _obj(data, "commit") or {}
        git_author = _obj(commit, "author") or {}
        git_committer = _obj(commit, "committer") or {}
        author = _obj(data, "author")
        committer = _obj(data, "committer")
        return cls(
            sha=_str(data, "sha"),
            message=str(commit.get("message", "")),
            author_name=str(git_author.get("name", "")),
            author_email=str(git_author.get("email", "")),
            committer_name=str(git_committer.get("name", "")),
            committer_email=str(git_committer.get("email", "")),
            author_login=_str(author, "login") if author else None,
            committer_login=_str(committer, "login") if committer else None,
        )


@dataclass(frozen=True)
class Permission:
    """A user's permission on the repository: ``permission`` is admin, write, read or none
    (maintain shows as write, triage as read); ``role_name`` the finer role."""

    login: str
    permission: str
    role_name: str

    @property
    def can_write(self) -> bool:
        return self.permission in {"admin", "write"} or self.role_name in {
            "admin",
            "maintain",
            "write",
        }


@dataclass(frozen=True)
class IssueComment:
    """A comment on an issue or pull request (the conversation tab)."""

    id: int
    user: GitHubUser | None
    body: str
    created_at: datetime | None
    html_url: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IssueComment:
        user = _obj(data, "user")
        return cls(
            id=_int(data, "id"),
            user=GitHubUser.from_json(user) if user is not None else None,
            body=str(data.get("body") or ""),
            created_at=parse_time(data.get("created_at")),
            html_url=str(data.get("html_url", "")),
        )


@dataclass(frozen=True)
class PullFile:
    """One file a pull request changes; ``patch`` is its unified diff (None for binary or
    very large files, whose lines GitHub does not show)."""

    filename: str
    status: str
    patch: str | None
    previous_filename: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PullFile:
        patch = data.get("patch")
        previous = data.get("previous_filename")
        return cls(
            filename=_str(data, "filename"),
            status=str(data.get("status", "")),
            patch=patch if isinstance(patch, str) else None,
            previous_filename=previous if isinstance(previous, str) else None,
        )


@dataclass(frozen=True)
class Issue:
    """An issue: number, state (open / closed), title, body and its author."""

    number: int
    state: str
    title: str
    body: str
    user: GitHubUser | None
    html_url: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Issue:
        user = _obj(data, "user")
        return cls(
            number=_int(data, "number"),
            state=_str(data, "state"),
            title=str(data.get("title", "")),
            body=str(data.get("body") or ""),
            user=GitHubUser.from_json(user) if user is not None else None,
            html_url=str(data.get("html_url", "")),
        )


@dataclass(frozen=True)
class Artifact:
    """A workflow run's artifact, with the run that uploaded it."""

    id: int
    name: str
    expired: bool
    created_at: datetime | None
    run_id: int | None
    repository_id: int | None
    head_repository_id: int | None
    head_sha: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Artifact:
        run = _obj(data, "workflow_run") or {}

        def opt_int(name: str) -> int | None:
            value = run.get(name)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        head = run.get("head_sha")
        return cls(
            id=_int(data, "id"),
            name=_str(data, "name"),
            expired=bool(data.get("expired", False)),
            created_at=parse_time(data.get("created_at")),
            run_id=opt_int("id"),
            repository_id=opt_int("repository_id"),
            head_repository_id=opt_int("head_repository_id"),
            head_sha=head if isinstance(head, str) else None,
        )


@dataclass(frozen=True)
class WorkflowRun:
    """A workflow run: the workflow file it ran (``path``), its event and commit, and the
    repositories it ran in and for."""

    id: int
    path: str
    event: str
    head_sha: str
    repository: str
    head_repository: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WorkflowRun:
        repo = _obj(data, "repository") or {}
        head_repo = _obj(data, "head_repository") or {}
        return cls(
            id=_int(data, "id"),
            path=str(data.get("path", "")),
            event=str(data.get("event", "")),
            head_sha=_str(data, "head_sha"),
            repository=str(repo.get("full_name", "")),
            head_repository=str(head_repo.get("full_name", "")),
        )


class GitHubClient:
    """The GitHub REST API for one repository (``owner/name``).

    Use as a context manager, or call :meth:`close`. ``timeout`` bounds each request (seconds).
    """

    def __init__(
        self,
        repository: str,
        *,
        token: str | None = None,
        base_url: str | None = None,
        timeout: float = 15.0,
        max_pages: int = 50,
        transport: httpx.BaseTransport | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        if repository.count("/") != 1 or not all(repository.split("/")):
            raise GitHubError("GET", "", "", None, f"repository {repository!r} is not owner/name")
        self.repository = repository
        url = (base_url or env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
        self.base_url = url
        parts = urlsplit(url)
        self.host = parts.netloc
        self._prefix = parts.path.rstrip("/")
        self.max_pages = max_pages
        secret = token if token is not None else env.get("GITHUB_TOKEN", "")
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "dsgit",
        }
        if secret.strip():
            headers["Authorization"] = f"Bearer {secret.strip()}"
        self._http = httpx.Client(
            base_url=url,
            headers=headers,
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"GitHubClient({self.repository!r}, base_url={self.base_url!r})"

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- generic requests -------------------------------------------------------------------

    def repo_path(self, *segments: str | int) -> str:
        """``/repos/{owner}/{repo}/…`` with each segment URL-quoted."""
        owner, name = self.repository.split("/")
        rest = "".join(f"/{quote(str(s), safe='')}" for s in segments)
        return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}{rest}"

    def _send(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        shown = self._shown_path(path_or_url)
        try:
            response = self._http.request(method, path_or_url, params=params, json=json)
        except httpx.TimeoutException as exc:
            raise GitHubError(method, self.host, shown, None, "timed out") from exc
        except httpx.HTTPError as exc:
            raise GitHubError(method, self.host, shown, None, type(exc).__name__) from exc
        if response.status_code >= 400:
            raise GitHubError(
                method, self.host, shown, response.status_code, _error_message(response)
            )
        return response

    def _shown_path(self, path_or_url: str) -> str:
        """The path of a request as messages show it: no scheme, host or query string."""
        path = urlsplit(path_or_url).path if "://" in path_or_url else path_or_url
        path = path.split("?", 1)[0]
        if "://" not in path_or_url:
            path = self._prefix + path
        return path

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
    ) -> Any:
        """One request; the decoded JSON body (None for 204 / an empty body)."""
        response = self._send(method, path, params=params, json=json)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise GitHubError(
                method, self.host, self._shown_path(path), response.status_code, "body not JSON"
            ) from exc

    def get_json(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        return self.request_json("GET", path, params=params)

    def paginate(self, path: str, params: Mapping[str, str | int] | None = None) -> Iterator[Any]:
        """Every item of a list endpoint, page after page by ``Link: rel="next"``."""
        query: dict[str, str | int] = {"per_page": _PER_PAGE, **(params or {})}
        url: str | None = path
        pages = 0
        while url is not None:
            response = self._send("GET", url, params=query if pages == 0 else None)
            pages += 1
            try:
                items = response.json()
            except ValueError as exc:
                raise GitHubError(
                    "GET", self.host, self._shown_path(path), response.status_code, "body not JSON"
                ) from exc
            if not isinstance(items, list):
                raise GitHubError(
                    "GET",
                    self.host,
                    self._shown_path(path),
                    response.status_code,
                    "expected a JSON array",
                )
            yield from items
            url = _next_link(response, self.base_url)
            if url is not None and pages >= self.max_pages:
                raise GitHubError(
                    "GET",
                    self.host,
                    self._shown_path(path),
                    response.status_code,
                    f"more than {self.max_pages} pages",
                )

    def _convert(self, path: str, convert: Any, data: Any) -> Any:
        try:
            if not isinstance(data, Mapping):
                raise ValueError("expected a JSON object")
            return convert(data)
        except ValueError as exc:
            raise GitHubError("GET", self.host, self._shown_path(path), 200, str(exc)) from exc

    # -- endpoints approvals need -----------------------------------------------------------

    def get_pull(self, number: int) -> PullRequest:
        path = self.repo_path("pulls", number)
        result: PullRequest = self._convert(path, PullRequest.from_json, self.get_json(path))
        return result

    def list_reviews(self, number: int) -> list[Review]:
        path = self.repo_path("pulls", number, "reviews")
        return [self._convert(path, Review.from_json, item) for item in self.paginate(path)]

    def list_pull_commits(self, number: int) -> list[PullCommit]:
        path = self.repo_path("pulls", number, "commits")
        return [self._convert(path, PullCommit.from_json, item) for item in self.paginate(path)]

    def collaborator_permission(self, login: str) -> Permission:
        path = self.repo_path("collaborators", login, "permission")
        data = self.get_json(path)

        def convert(raw: Mapping[str, Any]) -> Permission:
            return Permission(
                login=login,
                permission=_str(raw, "permission"),
                role_name=str(raw.get("role_name") or ""),
            )

        result: Permission = self._convert(path, convert, data)
        return result

    # -- endpoints the Action needs (dsgit github pr|review|apply|drift) ---------------------

    def send_json(self, method: str, path: str, json: Any = None) -> Any:
        """A write request; the decoded JSON answer."""
        return self.request_json(method, path, json=json)

    def list_issue_comments(self, number: int) -> list[IssueComment]:
        path = self.repo_path("issues", number, "comments")
        return [self._convert(path, IssueComment.from_json, item) for item in self.paginate(path)]

    def create_issue_comment(self, number: int, body: str) -> IssueComment:
        path = self.repo_path("issues", number, "comments")
        data = self.send_json("POST", path, {"body": body})
        result: IssueComment = self._convert(path, IssueComment.from_json, data)
        return result

    def update_issue_comment(self, comment_id: int, body: str) -> IssueComment:
        path = self.repo_path("issues", "comments", comment_id)
        data = self.send_json("PATCH", path, {"body": body})
        result: IssueComment = self._convert(path, IssueComment.from_json, data)
        return result

    def delete_issue_comment(self, comment_id: int) -> None:
        self.send_json("DELETE", self.repo_path("issues", "comments", comment_id))

    def create_status(
        self, sha: str, state: str, context: str, description: str, target_url: str | None = None
    ) -> None:
        """A commit status (``state``: error, failure, pending, success); description ≤ 140."""
        body: dict[str, Any] = {"state": state, "context": context, "description": description}
        if target_url:
            body["target_url"] = target_url
        self.send_json("POST", self.repo_path("statuses", sha), body)

    def list_pull_files(self, number: int) -> list[PullFile]:
        path = self.repo_path("pulls", number, "files")
        return [self._convert(path, PullFile.from_json, item) for item in self.paginate(path)]

    def pulls_for_commit(self, sha: str) -> list[PullRequest]:
        """The pull requests a commit belongs to (for a merge commit: the one it merged)."""
        path = self.repo_path("commits", sha, "pulls")
        return [self._convert(path, PullRequest.from_json, item) for item in self.paginate(path)]

    def list_issues(self, *, state: str = "all", labels: str = "") -> list[Issue]:
        """Issues (not pull requests) of the repository, newest first."""
        path = self.repo_path("issues")
        params: dict[str, str | int] = {"state": state}
        if labels:
            params["labels"] = labels
        found = []
        for item in self.paginate(path, params):
            if isinstance(item, Mapping) and "pull_request" not in item:
                found.append(self._convert(path, Issue.from_json, item))
        return found

    def create_issue(self, title: str, body: str, labels: tuple[str, ...] = ()) -> Issue:
        path = self.repo_path("issues")
        data = self.send_json("POST", path, {"title": title, "body": body, "labels": list(labels)})
        result: Issue = self._convert(path, Issue.from_json, data)
        return result

    def update_issue(self, number: int, **fields: str) -> Issue:
        """Change ``title``, ``body`` or ``state`` (``open`` / ``closed``) of an issue."""
        path = self.repo_path("issues", number)
        result: Issue = self._convert(
            path, Issue.from_json, self.send_json("PATCH", path, dict(fields))
        )
        return result

    def list_artifacts(self, name: str) -> list[Artifact]:
        path = self.repo_path("actions", "artifacts")
        found = []
        for page_item in self.paginate_key(path, "artifacts", {"name": name}):
            found.append(self._convert(path, Artifact.from_json, page_item))
        return found

    def download_artifact(self, artifact_id: int, *, max_bytes: int = 64 * 1024 * 1024) -> bytes:
        """The artifact's zip. GitHub answers with a redirect to a short-lived storage URL,
        which is fetched without the token (it must not leave GitHub's API)."""
        path = self.repo_path("actions", "artifacts", artifact_id, "zip")
        response = self._send("GET", path)
        if response.status_code in (301, 302, 303, 307, 308):
            location = response.headers.get("location", "")
            try:
                with httpx.Client(timeout=self._http.timeout, follow_redirects=False) as plain:
                    blob = plain.get(location)
            except httpx.HTTPError as exc:
                raise GitHubError(
                    "GET", urlsplit(location).netloc, "(artifact blob)", None, type(exc).__name__
                ) from exc
            if blob.status_code >= 400:
                raise GitHubError(
                    "GET", urlsplit(location).netloc, "(artifact blob)", blob.status_code, "failed"
                )
            response = blob
        if len(response.content) > max_bytes:
            raise GitHubError(
                "GET", self.host, self._shown_path(path), 200, f"artifact over {max_bytes} bytes"
            )
        return response.content

    def get_workflow_run(self, run_id: int) -> WorkflowRun:
        path = self.repo_path("actions", "runs", run_id)
        result: WorkflowRun = self._convert(path, WorkflowRun.from_json, self.get_json(path))
        return result

    def paginate_key(
        self, path: str, key: str, params: Mapping[str, str | int] | None = None
    ) -> Iterator[Any]:
        """Items of list endpoints that wrap their array in an object (``{"artifacts": […]}``)."""
        query: dict[str, str | int] = {"per_page": _PER_PAGE, **(params or {})}
        url: str | None = path
        pages = 0
        while url is not None and pages < self.max_pages:
            response = self._send("GET", url, params=query if pages == 0 else None)
            pages += 1
            try:
                body = response.json()
            except ValueError as exc:
                raise GitHubError(
                    "GET", self.host, self._shown_path(path), response.status_code, "body not JSON"
                ) from exc
            items = body.get(key) if isinstance(body, Mapping) else None
            if not isinstance(items, list):
                raise GitHubError(
                    "GET", self.host, self._shown_path(path), response.status_code, f"no {key!r}"
                )
            yield from items
            url = _next_link(response, self.base_url)

    # git data: the audit branch is written without a checkout

    def get_branch_head(self, branch: str) -> str | None:
        """The commit ``branch`` points at, or None when it does not exist."""
        path = self.repo_path("git", "ref", "heads", branch)
        try:
            data = self.get_json(path.replace("%2F", "/"))
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise
        target = data.get("object") if isinstance(data, Mapping) else None
        if not isinstance(target, Mapping) or not isinstance(target.get("sha"), str):
            raise GitHubError("GET", self.host, self._shown_path(path), 200, "no object.sha")
        return str(target["sha"])

    def commit_tree(self, sha: str) -> str:
        path = self.repo_path("git", "commits", sha)
        data = self.get_json(path)
        tree = data.get("tree") if isinstance(data, Mapping) else None
        if not isinstance(tree, Mapping) or not isinstance(tree.get("sha"), str):
            raise GitHubError("GET", self.host, self._shown_path(path), 200, "no tree.sha")
        return str(tree["sha"])

    def read_blob_at(self, commit: str, file_path: str) -> bytes | None:
        """A file's bytes at ``commit`` (contents API), None when it is not there."""
        path = self.repo_path("contents") + "/" + quote(file_path)
        try:
            data = self.request_json("GET", path, params={"ref": commit})
        except GitHubError as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(data, Mapping) or data.get("encoding") != "base64":
            raise GitHubError("GET", self.host, self._shown_path(path), 200, "not a file")
        return base64.b64decode(str(data.get("content", "")))

    def create_blob(self, content: bytes) -> str:
        path = self.repo_path("git", "blobs")
        body = {"content": base64.b64encode(content).decode("ascii"), "encoding": "base64"}
        return self._sha_of(path, self.send_json("POST", path, body))

    def create_tree(self, base_tree: str | None, blobs: Mapping[str, str]) -> str:
        """A tree: ``base_tree`` with each ``path -> blob sha`` of ``blobs`` set."""
        path = self.repo_path("git", "trees")
        body: dict[str, Any] = {
            "tree": [
                {"path": name, "mode": "100644", "type": "blob", "sha": sha}
                for name, sha in sorted(blobs.items())
            ]
        }
        if base_tree is not None:
            body["base_tree"] = base_tree
        return self._sha_of(path, self.send_json("POST", path, body))

    def create_commit(self, message: str, tree: str, parents: tuple[str, ...]) -> str:
        path = self.repo_path("git", "commits")
        body = {"message": message, "tree": tree, "parents": list(parents)}
        return self._sha_of(path, self.send_json("POST", path, body))

    def move_branch(self, branch: str, sha: str, *, create: bool) -> bool:
        """Point ``branch`` at ``sha`` (fast-forward only); False when it moved meanwhile."""
        try:
            if create:
                path = self.repo_path("git", "refs")
                self.send_json("POST", path, {"ref": f"refs/heads/{branch}", "sha": sha})
            else:
                path = self.repo_path("git", "refs", "heads", branch).replace("%2F", "/")
                self.send_json("PATCH", path, {"sha": sha, "force": False})
        except GitHubError as exc:
            if exc.status in (409, 422):  # not a fast-forward, or created meanwhile
                return False
            raise
        return True

    def tree_files(self, commit: str, under: str) -> dict[str, str]:
        """``path -> blob sha`` of every file below the folder ``under`` at ``commit``."""
        path = self.repo_path("git", "trees", self.commit_tree(commit))
        data = self.request_json("GET", path, params={"recursive": "1"})
        entries = data.get("tree") if isinstance(data, Mapping) else None
        if not isinstance(entries, list):
            raise GitHubError("GET", self.host, self._shown_path(path), 200, "no tree")
        if isinstance(data, Mapping) and data.get("truncated"):
            raise GitHubError("GET", self.host, self._shown_path(path), 200, "tree truncated")
        prefix = under.rstrip("/") + "/"
        return {
            str(item["path"]): str(item["sha"])
            for item in entries
            if isinstance(item, Mapping)
            and item.get("type") == "blob"
            and str(item.get("path", "")).startswith(prefix)
        }

    def read_blob(self, sha: str) -> bytes:
        path = self.repo_path("git", "blobs", sha)
        data = self.get_json(path)
        if not isinstance(data, Mapping) or data.get("encoding") != "base64":
            raise GitHubError("GET", self.host, self._shown_path(path), 200, "not a base64 blob")
        return base64.b64decode(str(data.get("content", "")))

    def _sha_of(self, path: str, data: Any) -> str:
        if not isinstance(data, Mapping) or not isinstance(data.get("sha"), str):
            raise GitHubError("POST", self.host, self._shown_path(path), 201, "no sha")
        return str(data["sha"])


def _next_link(response: httpx.Response, base_url: str) -> str | None:
    """The next page's URL, only when it is on the API's own origin (the token goes with it)."""
    link = response.links.get("next")
    if link is None:
        return None
    url = link.get("url")
    if not url:
        return None
    here, there = urlsplit(base_url), urlsplit(url)
    if (there.scheme, there.netloc) != (here.scheme, here.netloc):
        raise GitHubError(
            "GET",
            here.netloc,
            urlsplit(str(response.request.url)).path,
            response.status_code,
            f"next page is on another origin ({there.netloc}); not following it with the token",
        )
    return url


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        return str(body["message"])[:200]
    return response.reason_phrase or "error"
