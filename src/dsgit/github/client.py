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
    "GitHubClient",
    "GitHubUser",
    "Permission",
    "PullCommit",
    "PullRequest",
    "Review",
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
