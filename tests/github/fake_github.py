"""A fake GitHub REST API for tests: a real threaded HTTP server on 127.0.0.1 (port 0).

State lives in :class:`GitHubState` (plain dicts of GitHub-shaped JSON, made by the ``*_json``
builders below from the shapes GitHub's REST reference documents). Lists are paginated as
GitHub does (``per_page`` ≤ 100, ``page``, ``Link`` headers with ``next``/``last``).

Use it as a context manager (``with FakeGitHub() as gh: gh.url``) or through the ``fake_github``
fixture in ``tests/github/conftest.py``; it stops by itself. Failures are injected with
:meth:`FakeGitHub.fail` (a status for the next N matching requests) and :meth:`FakeGitHub.hang`
(no answer until the client times out). Every request is recorded in ``requests``.

To add an endpoint: ``gh.route("GET", r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/things", fn)``
where ``fn(gh, request) -> Answer``; state for it goes in ``GitHubState.extra`` or a new field.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

__all__ = [
    "Answer",
    "FakeGitHub",
    "FakeRequest",
    "GitHubState",
    "commit_json",
    "iso",
    "pull_json",
    "review_json",
    "user_json",
]

_IDS = itertools.count(1000)
BLOB_PREFIX = "/_blobs/"  # where artifact downloads redirect to (as GitHub's storage URLs)


def iso(when: datetime) -> str:
    """GitHub's time format: UTC, seconds, ``Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_json(login: str, *, id: int | None = None, type: str = "User") -> dict[str, Any]:
    """A ``simple-user`` object."""
    uid = id if id is not None else abs(hash(login)) % 10_000_000
    return {
        "login": login,
        "id": uid,
        "node_id": f"MDQ6VXNlcj{uid}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "gravatar_id": "",
        "url": f"https://api.github.com/users/{login}",
        "html_url": f"https://github.com/{login}",
        "type": type,
        "site_admin": False,
    }


def pull_json(
    number: int,
    *,
    author: str,
    head_sha: str,
    repository: str = "octo/game",
    created_at: datetime | None = None,
    state: str = "open",
    title: str = "Change data",
    head_ref: str = "feature",
    base_ref: str = "main",
) -> dict[str, Any]:
    """A ``pull-request`` object (the fields dsgit reads and their usual neighbours)."""
    created = iso(created_at or datetime(2026, 12, 1, tzinfo=UTC))
    return {
        "url": f"https://api.github.com/repos/{repository}/pulls/{number}",
        "id": next(_IDS),
        "node_id": f"PR_kw{number}",
        "html_url": f"https://github.com/{repository}/pull/{number}",
        "number": number,
        "state": state,
        "locked": False,
        "title": title,
        "user": user_json(author),
        "body": "",
        "created_at": created,
        "updated_at": created,
        "closed_at": None,
        "merged_at": None,
        "merge_commit_sha": None,
        "draft": False,
        "head": {
            "label": f"octo:{head_ref}",
            "ref": head_ref,
            "sha": head_sha,
            "user": user_json(author),
        },
        "base": {"label": f"octo:{base_ref}", "ref": base_ref, "sha": "b" * 40},
        "author_association": "MEMBER",
        "merged": False,
        "mergeable": True,
        "comments": 0,
        "commits": 1,
    }


def review_json(
    login: str,
    state: str,
    *,
    commit_id: str | None,
    submitted_at: datetime,
    repository: str = "octo/game",
    number: int = 1,
    user_type: str = "User",
    body: str = "",
    review_id: int | None = None,
) -> dict[str, Any]:
    """A ``pull-request-review`` object."""
    rid = review_id if review_id is not None else next(_IDS)
    return {
        "id": rid,
        "node_id": f"PRR_kw{rid}",
        "user": user_json(login, type=user_type),
        "body": body,
        "state": state,
        "html_url": f"https://github.com/{repository}/pull/{number}#pullrequestreview-{rid}",
        "pull_request_url": f"https://api.github.com/repos/{repository}/pulls/{number}",
        "_links": {
            "html": {
                "href": f"https://github.com/{repository}/pull/{number}#pullrequestreview-{rid}"
            },
            "pull_request": {"href": f"https://api.github.com/repos/{repository}/pulls/{number}"},
        },
        "submitted_at": iso(submitted_at),
        "commit_id": commit_id,
        "author_association": "MEMBER",
    }


def commit_json(
    sha: str,
    *,
    author_login: str | None,
    author_name: str = "A Dev",
    author_email: str = "dev@example.com",
    committer_login: str | None = None,
    message: str = "Change data",
    repository: str = "octo/game",
) -> dict[str, Any]:
    """A ``commit`` object as ``GET /pulls/{n}/commits`` lists it."""
    when = iso(datetime(2026, 12, 1, tzinfo=UTC))
    committer = committer_login or author_login
    return {
        "sha": sha,
        "node_id": f"C_kw{sha[:8]}",
        "commit": {
            "author": {"name": author_name, "email": author_email, "date": when},
            "committer": {"name": author_name, "email": author_email, "date": when},
            "message": message,
            "tree": {"sha": "t" * 40, "url": ""},
            "comment_count": 0,
            "verification": {"verified": False, "reason": "unsigned"},
        },
        "url": f"https://api.github.com/repos/{repository}/commits/{sha}",
        "html_url": f"https://github.com/{repository}/commit/{sha}",
        "author": user_json(author_login) if author_login else None,
        "committer": user_json(committer) if committer else None,
        "parents": [],
    }


@dataclass
class GitHubState:
    """Everything the fake serves, by repository (``owner/name``) where GitHub scopes it."""

    pulls: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    reviews: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    commits: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    permissions: dict[tuple[str, str], str] = field(default_factory=dict)
    comments: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    statuses: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    issues: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    artifacts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FakeRequest:
    """One request the fake received (headers as sent, lower-cased names)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """What a route answers: a status, a JSON body and extra headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # a non-JSON body (artifact zips), sent as is


Handler = Callable[["FakeGitHub", FakeRequest], Answer]


@dataclass
class _Fault:
    status: int | None  # None: hang (never answer)
    times: int
    path: str | None
    method: str | None


_REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"


class FakeGitHub:
    """The fake GitHub API server. ``url`` is its base (what ``GITHUB_API_URL`` would hold)."""

    def __init__(self, *, token: str | None = None) -> None:
        self.state = GitHubState()
        self.token = token
        self.requests: list[FakeRequest] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        _install_default_routes(self)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

            def do_PATCH(self) -> None:
                fake._handle(self)

            def do_PUT(self) -> None:
                fake._handle(self)

            def do_DELETE(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "the fake GitHub is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- configuration -----------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Add (or override: later routes win) an endpoint; ``pattern`` matches the whole path."""
        self._routes.insert(0, (method, re.compile(pattern + r"\Z"), handler))

    def fail(
        self,
        status: int = 500,
        *,
        times: int = 1,
        path: str | None = None,
        method: str | None = None,
    ) -> None:
        """Answer ``status`` to the next ``times`` requests whose path contains ``path``."""
        with self._lock:
            self._faults.append(_Fault(status, times, path, method))

    def hang(self, *, times: int = 1, path: str | None = None) -> None:
        """Never answer the next ``times`` matching requests (until the client gives up)."""
        with self._lock:
            self._faults.append(_Fault(None, times, path, None))

    def add_pull(self, pull: dict[str, Any], repository: str = "octo/game") -> None:
        number = int(pull["number"])
        self.state.pulls[(repository, number)] = pull
        self.state.reviews.setdefault((repository, number), [])
        self.state.commits.setdefault((repository, number), [])

    def add_review(
        self, number: int, review: dict[str, Any], repository: str = "octo/game"
    ) -> None:
        self.state.reviews.setdefault((repository, number), []).append(review)

    def add_commit(
        self, number: int, commit: dict[str, Any], repository: str = "octo/game"
    ) -> None:
        self.state.commits.setdefault((repository, number), []).append(commit)

    def set_permission(self, login: str, permission: str, repository: str = "octo/game") -> None:
        self.state.permissions[(repository, login)] = permission

    # -- serving -----------------------------------------------------------------------------

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if (fault.path is None or fault.path in path) and (
                    fault.method is None or fault.method == method
                ):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _handle(self, http: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(http.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        request = FakeRequest(
            http.command, parts.path, query, {k.lower(): v for k, v in http.headers.items()}, body
        )
        with self._lock:
            self.requests.append(request)
        fault = self._take_fault(http.command, parts.path)
        if fault is not None and fault.status is None:
            self._release.wait(timeout=30)
            return
        if fault is not None:
            assert fault.status is not None
            answer = Answer(fault.status, {"message": "Server Error"})
        elif (
            self.token is not None
            and not parts.path.startswith(BLOB_PREFIX)  # signed storage URLs take no token
            and request.headers.get("authorization") != f"Bearer {self.token}"
        ):
            answer = Answer(
                401,
                {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
            )
        else:
            answer = self._dispatch(request)
        payload = b"" if answer.body is None else json.dumps(answer.body).encode()
        if answer.raw is not None:
            payload = answer.raw
        http.send_response(answer.status)
        kind = "application/zip" if answer.raw is not None else "application/json; charset=utf-8"
        http.send_header("Content-Type", kind)
        http.send_header("Content-Length", str(len(payload)))
        http.send_header("X-GitHub-Request-Id", f"FAKE:{len(self.requests)}")
        for name, value in answer.headers.items():
            http.send_header(name, value)
        http.end_headers()
        http.wfile.write(payload)

    def _dispatch(self, request: FakeRequest) -> Answer:
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if method == request.method and match:
                bound = FakeRequest(
                    request.method,
                    request.path,
                    request.query,
                    request.headers,
                    request.body,
                    {k: v for k, v in match.groupdict().items() if v is not None},
                )
                return handler(self, bound)
        return Answer(
            404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
        )

    def page(self, request: FakeRequest, items: list[Any]) -> Answer:
        """One page of ``items`` as GitHub pages lists (``per_page`` default 30, max 100)."""
        per_page = max(1, min(100, int(request.query.get("per_page", "30"))))
        page = max(1, int(request.query.get("page", "1")))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []

        def link(number: int, rel: str) -> str:
            query = {**request.query, "per_page": str(per_page), "page": str(number)}
            return f'<{self.url}{request.path}?{urlencode(query)}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        headers = {"Link": ", ".join(links)} if links else {}
        return Answer(200, chunk, headers)


def _repo(request: FakeRequest) -> str:
    return f"{request.params['owner']}/{request.params['repo']}"


def _not_found() -> Answer:
    return Answer(
        404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
    )


def _get_pull(gh: FakeGitHub, request: FakeRequest) -> Answer:
    pull = gh.state.pulls.get((_repo(request), int(request.params["number"])))
    return Answer(200, pull) if pull is not None else _not_found()


def _list_reviews(gh: FakeGitHub, request: FakeRequest) -> Answer:
    key = (_repo(request), int(request.params["number"]))
    if key not in gh.state.pulls:
        return _not_found()
    return gh.page(request, gh.state.reviews.get(key, []))


def _list_commits(gh: FakeGitHub, request: FakeRequest) -> Answer:
    key = (_repo(request), int(request.params["number"]))
    if key not in gh.state.pulls:
        return _not_found()
    return gh.page(request, gh.state.commits.get(key, []))


def _permission(gh: FakeGitHub, request: FakeRequest) -> Answer:
    login = request.params["login"]
    permission = gh.state.permissions.get((_repo(request), login))
    if permission is None:
        # GitHub answers 404 for a user who is not a collaborator of a private repository
        # (for public ones, "read"); the fake takes the stricter answer.
        return Answer(
            404,
            {
                "message": f"{login} is not a user",
                "documentation_url": "https://docs.github.com/rest",
            },
        )
    role = {"admin": "admin", "write": "write", "read": "read", "none": "none"}.get(
        permission, permission
    )
    shown = {"maintain": "write", "triage": "read"}.get(permission, permission)
    return Answer(200, {"permission": shown, "role_name": role, "user": user_json(login)})


def _list_comments(gh: FakeGitHub, request: FakeRequest) -> Answer:
    key = (_repo(request), int(request.params["number"]))
    return gh.page(request, gh.state.comments.get(key, []))


def _create_comment(gh: FakeGitHub, request: FakeRequest) -> Answer:
    key = (_repo(request), int(request.params["number"]))
    body = request.body or {}
    cid = next(_IDS)
    now = iso(datetime.now(UTC))
    comment = {
        "id": cid,
        "node_id": f"IC_kw{cid}",
        "url": f"https://api.github.com/repos/{key[0]}/issues/comments/{cid}",
        "html_url": f"https://github.com/{key[0]}/pull/{key[1]}#issuecomment-{cid}",
        "body": body.get("body", ""),
        "user": user_json(str(gh.state.extra.get("bot_login", "github-actions[bot]")), type="Bot"),
        "created_at": now,
        "updated_at": now,
        "author_association": "NONE",
    }
    gh.state.comments.setdefault(key, []).append(comment)
    return Answer(201, comment)


def _update_comment(gh: FakeGitHub, request: FakeRequest) -> Answer:
    repo, cid = _repo(request), int(request.params["comment_id"])
    for (owner_repo, _number), comments in gh.state.comments.items():
        for comment in comments:
            if owner_repo == repo and comment["id"] == cid:
                comment["body"] = (request.body or {}).get("body", comment["body"])
                comment["updated_at"] = iso(datetime.now(UTC))
                return Answer(200, comment)
    return _not_found()


def _create_status(gh: FakeGitHub, request: FakeRequest) -> Answer:
    key = (_repo(request), request.params["sha"])
    body = request.body or {}
    sid = next(_IDS)
    status = {
        "id": sid,
        "node_id": f"SC_kw{sid}",
        "state": body.get("state"),
        "description": body.get("description"),
        "target_url": body.get("target_url"),
        "context": body.get("context", "default"),
        "created_at": iso(datetime.now(UTC)),
        "updated_at": iso(datetime.now(UTC)),
    }
    gh.state.statuses.setdefault(key, []).append(status)
    return Answer(201, status)


def _install_default_routes(gh: FakeGitHub) -> None:
    n = r"(?P<number>\d+)"
    gh.route("GET", rf"{_REPO}/pulls/{n}", _get_pull)
    gh.route("GET", rf"{_REPO}/pulls/{n}/reviews", _list_reviews)
    gh.route("GET", rf"{_REPO}/pulls/{n}/commits", _list_commits)
    gh.route("GET", rf"{_REPO}/collaborators/(?P<login>[^/]+)/permission", _permission)
    gh.route("GET", rf"{_REPO}/issues/{n}/comments", _list_comments)
    gh.route("POST", rf"{_REPO}/issues/{n}/comments", _create_comment)
    gh.route("PATCH", rf"{_REPO}/issues/comments/(?P<comment_id>\d+)", _update_comment)
    gh.route("POST", rf"{_REPO}/statuses/(?P<sha>[0-9a-f]+)", _create_status)
    _install_action_routes(gh)


def served() -> Iterator[FakeGitHub]:
    """A started fake, stopped when the generator is closed (for fixtures)."""
    with FakeGitHub() as gh:
        yield gh


# --- what the Action needs (dsgit github pr|review|apply|drift) -----------------------------
# Pull-request files, the pull requests of a commit, issues, comment deletion, artifacts (listed
# and downloaded through a redirect to a token-less storage URL, as GitHub does), workflow
# runs, and git data (refs, commits, trees, blobs, contents) for the audit branch. State lives
# in ``GitHubState.extra`` under the keys used below; helpers at the end set it up.


def _extra(gh: FakeGitHub, key: str, default: Any) -> Any:
    return gh.state.extra.setdefault(key, default)


def _git_sha(kind: str, payload: Any) -> str:
    import hashlib

    return hashlib.sha1(f"{kind}:{json.dumps(payload, sort_keys=True)}".encode()).hexdigest()


def _blob_sha(data: bytes) -> str:
    """The object id git gives a file (so clients can compare it with their own files)."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _list_pull_files(gh: FakeGitHub, request: FakeRequest) -> Answer:
    key = (_repo(request), int(request.params["number"]))
    if key not in gh.state.pulls:
        return _not_found()
    return gh.page(request, _extra(gh, "files", {}).get(key, []))


def _pulls_for_commit(gh: FakeGitHub, request: FakeRequest) -> Answer:
    repo, sha = _repo(request), request.params["sha"]
    found = [
        pull
        for (owner_repo, _n), pull in sorted(gh.state.pulls.items())
        if owner_repo == repo and sha in (pull.get("merge_commit_sha"), pull["head"]["sha"])
    ]
    return gh.page(request, found)


def _delete_comment(gh: FakeGitHub, request: FakeRequest) -> Answer:
    repo, cid = _repo(request), int(request.params["comment_id"])
    for (owner_repo, _number), comments in gh.state.comments.items():
        for comment in list(comments):
            if owner_repo == repo and comment["id"] == cid:
                comments.remove(comment)
                return Answer(204)
    return _not_found()


def _issue_json(gh: FakeGitHub, repo: str, number: int, body: dict[str, Any]) -> dict[str, Any]:
    now = iso(datetime.now(UTC))
    return {
        "id": next(_IDS),
        "number": number,
        "state": "open",
        "title": body.get("title", ""),
        "body": body.get("body", ""),
        "labels": [{"name": name} for name in body.get("labels", [])],
        "user": user_json(str(gh.state.extra.get("bot_login", "github-actions[bot]")), type="Bot"),
        "html_url": f"https://github.com/{repo}/issues/{number}",
        "created_at": now,
        "updated_at": now,
    }


def _list_issues(gh: FakeGitHub, request: FakeRequest) -> Answer:
    repo = _repo(request)
    state = request.query.get("state", "open")
    labels = {x for x in request.query.get("labels", "").split(",") if x}
    found = []
    for (owner_repo, _number), issue in sorted(gh.state.issues.items(), reverse=True):
        names = {label["name"] for label in issue.get("labels", [])}
        if owner_repo != repo or (state != "all" and issue["state"] != state):
            continue
        if labels - names:
            continue
        found.append(issue)
    return gh.page(request, found)


def _create_issue(gh: FakeGitHub, request: FakeRequest) -> Answer:
    repo = _repo(request)
    number = 1 + max([n for (r, n) in gh.state.issues if r == repo] + [100])
    issue = _issue_json(gh, repo, number, request.body or {})
    gh.state.issues[(repo, number)] = issue
    return Answer(201, issue)


def _update_issue(gh: FakeGitHub, request: FakeRequest) -> Answer:
    issue = gh.state.issues.get((_repo(request), int(request.params["number"])))
    if issue is None:
        return _not_found()
    for name in ("title", "body", "state"):
        if name in (request.body or {}):
            issue[name] = request.body[name]
    return Answer(200, issue)


def _list_artifacts(gh: FakeGitHub, request: FakeRequest) -> Answer:
    repo = _repo(request)
    name = request.query.get("name")
    found = [
        meta
        for (owner_repo, meta, _zip) in _extra(gh, "artifacts", [])
        if owner_repo == repo and (name is None or meta["name"] == name)
    ]
    found.sort(key=lambda meta: meta["id"], reverse=True)
    page = gh.page(request, found)
    return Answer(page.status, {"total_count": len(found), "artifacts": page.body}, page.headers)


def _download_artifact(gh: FakeGitHub, request: FakeRequest) -> Answer:
    aid = int(request.params["artifact_id"])
    for owner_repo, meta, _zip in _extra(gh, "artifacts", []):
        if owner_repo == _repo(request) and meta["id"] == aid:
            if meta["expired"]:
                return Answer(410, {"message": "Artifact has expired"})
            return Answer(302, None, {"Location": f"{gh.url}{BLOB_PREFIX}{aid}?sig=fake"})
    return _not_found()


def _blob(gh: FakeGitHub, request: FakeRequest) -> Answer:
    aid = int(request.params["artifact_id"])
    for _repo_name, meta, data in _extra(gh, "artifacts", []):
        if meta["id"] == aid:
            return Answer(200, raw=data)
    return Answer(404, {"message": "BlobNotFound"})


def _get_run(gh: FakeGitHub, request: FakeRequest) -> Answer:
    run = _extra(gh, "runs", {}).get((_repo(request), int(request.params["run_id"])))
    return Answer(200, run) if run is not None else _not_found()


def _git(gh: FakeGitHub) -> dict[str, Any]:
    return _extra(gh, "git", {"blobs": {}, "trees": {}, "commits": {}, "refs": {}})


def _get_ref(gh: FakeGitHub, request: FakeRequest) -> Answer:
    sha = _git(gh)["refs"].get((_repo(request), request.params["branch"]))
    if sha is None:
        return _not_found()
    ref = f"refs/heads/{request.params['branch']}"
    return Answer(200, {"ref": ref, "object": {"sha": sha, "type": "commit"}})


def _create_ref(gh: FakeGitHub, request: FakeRequest) -> Answer:
    body = request.body or {}
    branch = str(body.get("ref", "")).removeprefix("refs/heads/")
    key = (_repo(request), branch)
    if key in _git(gh)["refs"]:
        return Answer(422, {"message": "Reference already exists"})
    _git(gh)["refs"][key] = body["sha"]
    return Answer(201, {"ref": body["ref"], "object": {"sha": body["sha"], "type": "commit"}})


def _ancestors(git: dict[str, Any], sha: str) -> set[str]:
    seen: set[str] = set()
    pending = [sha]
    while pending:
        current = pending.pop()
        if current in seen or current not in git["commits"]:
            continue
        seen.add(current)
        pending.extend(git["commits"][current]["parents"])
    return seen


def _update_ref(gh: FakeGitHub, request: FakeRequest) -> Answer:
    hook = gh.state.extra.pop("before_ref_update", None)
    if hook is not None:
        hook(gh)  # e.g. another writer moves the branch first
    git, key = _git(gh), (_repo(request), request.params["branch"])
    current = git["refs"].get(key)
    if current is None:
        return Answer(422, {"message": "Reference does not exist"})
    new = (request.body or {}).get("sha")
    if not (request.body or {}).get("force") and current not in _ancestors(git, new):
        return Answer(422, {"message": "Update is not a fast forward"})
    git["refs"][key] = new
    return Answer(200, {"ref": f"refs/heads/{key[1]}", "object": {"sha": new, "type": "commit"}})


def _get_commit(gh: FakeGitHub, request: FakeRequest) -> Answer:
    commit = _git(gh)["commits"].get(request.params["sha"])
    if commit is None:
        return _not_found()
    return Answer(
        200,
        {
            "sha": request.params["sha"],
            "tree": {"sha": commit["tree"]},
            "parents": [{"sha": parent} for parent in commit["parents"]],
            "message": commit["message"],
        },
    )


def _create_blob(gh: FakeGitHub, request: FakeRequest) -> Answer:
    import base64

    content = base64.b64decode((request.body or {})["content"])
    sha = _blob_sha(content)
    _git(gh)["blobs"][sha] = content
    return Answer(201, {"sha": sha})


def _create_tree(gh: FakeGitHub, request: FakeRequest) -> Answer:
    git, body = _git(gh), request.body or {}
    files = dict(git["trees"].get(body.get("base_tree"), {}))
    for item in body.get("tree", []):
        files[item["path"]] = item["sha"]
    sha = _git_sha("tree", files)
    git["trees"][sha] = files
    return Answer(201, {"sha": sha})


def _create_commit(gh: FakeGitHub, request: FakeRequest) -> Answer:
    body = request.body or {}
    commit = {"tree": body["tree"], "parents": list(body["parents"]), "message": body["message"]}
    sha = _git_sha("commit", [commit, next(_IDS)])
    _git(gh)["commits"][sha] = commit
    return Answer(201, {"sha": sha})


def _get_contents(gh: FakeGitHub, request: FakeRequest) -> Answer:
    import base64

    git = _git(gh)
    ref = request.query.get("ref", "")
    commit = git["commits"].get(ref)
    if commit is None:
        return _not_found()
    blob = git["trees"].get(commit["tree"], {}).get(request.params["path"])
    if blob is None:
        return _not_found()
    content = base64.b64encode(git["blobs"][blob]).decode()
    return Answer(200, {"type": "file", "encoding": "base64", "content": content})


def _get_tree(gh: FakeGitHub, request: FakeRequest) -> Answer:
    files = _git(gh)["trees"].get(request.params["sha"])
    if files is None:
        return _not_found()
    entries = [
        {"path": path, "mode": "100644", "type": "blob", "sha": blob}
        for path, blob in sorted(files.items())
    ]
    return Answer(200, {"sha": request.params["sha"], "tree": entries, "truncated": False})


def _get_blob(gh: FakeGitHub, request: FakeRequest) -> Answer:
    import base64

    data = _git(gh)["blobs"].get(request.params["sha"])
    if data is None:
        return _not_found()
    return Answer(
        200,
        {
            "sha": request.params["sha"],
            "encoding": "base64",
            "content": base64.b64encode(data).decode(),
        },
    )


def _install_action_routes(gh: FakeGitHub) -> None:
    n = r"(?P<number>\d+)"
    gh.route("GET", rf"{_REPO}/pulls/{n}/files", _list_pull_files)
    gh.route("GET", rf"{_REPO}/commits/(?P<sha>[0-9a-f]+)/pulls", _pulls_for_commit)
    gh.route("DELETE", rf"{_REPO}/issues/comments/(?P<comment_id>\d+)", _delete_comment)
    gh.route("GET", rf"{_REPO}/issues", _list_issues)
    gh.route("POST", rf"{_REPO}/issues", _create_issue)
    gh.route("PATCH", rf"{_REPO}/issues/{n}", _update_issue)
    gh.route("GET", rf"{_REPO}/actions/artifacts", _list_artifacts)
    gh.route("GET", rf"{_REPO}/actions/artifacts/(?P<artifact_id>\d+)/zip", _download_artifact)
    gh.route("GET", rf"{BLOB_PREFIX}(?P<artifact_id>\d+)", _blob)
    gh.route("GET", rf"{_REPO}/actions/runs/(?P<run_id>\d+)", _get_run)
    gh.route("GET", rf"{_REPO}/git/ref/heads/(?P<branch>.+)", _get_ref)
    gh.route("POST", rf"{_REPO}/git/refs", _create_ref)
    gh.route("PATCH", rf"{_REPO}/git/refs/heads/(?P<branch>.+)", _update_ref)
    gh.route("GET", rf"{_REPO}/git/commits/(?P<sha>[0-9a-f]+)", _get_commit)
    gh.route("POST", rf"{_REPO}/git/blobs", _create_blob)
    gh.route("POST", rf"{_REPO}/git/trees", _create_tree)
    gh.route("POST", rf"{_REPO}/git/commits", _create_commit)
    gh.route("GET", rf"{_REPO}/contents/(?P<path>.+)", _get_contents)
    gh.route("GET", rf"{_REPO}/git/trees/(?P<sha>[0-9a-f]+)", _get_tree)
    gh.route("GET", rf"{_REPO}/git/blobs/(?P<sha>[0-9a-f]+)", _get_blob)


def set_pull_files(
    gh: FakeGitHub, number: int, files: list[dict[str, Any]], repository: str = "octo/game"
) -> None:
    """What ``GET /pulls/{n}/files`` lists (``filename``, ``status``, ``patch``)."""
    _extra(gh, "files", {})[(repository, number)] = files


def add_run(
    gh: FakeGitHub,
    run_id: int,
    *,
    head_sha: str,
    path: str = ".github/workflows/dsgit.yml",
    event: str = "pull_request",
    repository: str = "octo/game",
    head_repository: str | None = None,
) -> None:
    """A workflow run (``GET /actions/runs/{id}``)."""
    _extra(gh, "runs", {})[(repository, run_id)] = {
        "id": run_id,
        "name": "dsgit",
        "path": path,
        "event": event,
        "head_sha": head_sha,
        "status": "completed",
        "repository": {"full_name": repository, "id": 4242},
        "head_repository": {"full_name": head_repository or repository},
    }


def upload_artifact(
    gh: FakeGitHub,
    name: str,
    files: dict[str, bytes],
    *,
    run_id: int,
    head_sha: str,
    repository: str = "octo/game",
    repository_id: int = 4242,
    head_repository_id: int | None = None,
    expired: bool = False,
) -> int:
    """What ``actions/upload-artifact`` does: store a zip of ``files`` for the run."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in sorted(files.items()):
            archive.writestr(member, data)
    aid = next(_IDS)
    meta = {
        "id": aid,
        "name": name,
        "size_in_bytes": len(buffer.getvalue()),
        "expired": expired,
        "created_at": iso(datetime.now(UTC)),
        "workflow_run": {
            "id": run_id,
            "repository_id": repository_id,
            "head_repository_id": head_repository_id or repository_id,
            "head_branch": "feature",
            "head_sha": head_sha,
        },
    }
    _extra(gh, "artifacts", []).append((repository, meta, buffer.getvalue()))
    return aid


def branch_files(gh: FakeGitHub, branch: str, repository: str = "octo/game") -> dict[str, bytes]:
    """The files at the tip of ``branch`` (empty when it does not exist)."""
    git = _git(gh)
    sha = git["refs"].get((repository, branch))
    if sha is None:
        return {}
    tree = git["trees"][git["commits"][sha]["tree"]]
    return {path: git["blobs"][blob] for path, blob in tree.items()}


def commit_to_branch(
    gh: FakeGitHub, branch: str, files: dict[str, bytes], repository: str = "octo/game"
) -> str:
    """Another writer's commit on ``branch`` (creating it), as a push would make."""

    git = _git(gh)
    head = git["refs"].get((repository, branch))
    tree_files = dict(git["trees"][git["commits"][head]["tree"]]) if head else {}
    for path, data in files.items():
        blob = _blob_sha(data)
        git["blobs"][blob] = data
        tree_files[path] = blob
    tree = _git_sha("tree", tree_files)
    git["trees"][tree] = tree_files
    commit = {"tree": tree, "parents": [head] if head else [], "message": "other writer"}
    sha = _git_sha("commit", [commit, next(_IDS)])
    git["commits"][sha] = commit
    git["refs"][(repository, branch)] = sha
    return sha
