"""The GitHub REST client against the fake GitHub API served on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dsgit.errors import DsgitError, GitHubError
from dsgit.github.client import API_VERSION, GitHubClient

from .fake_github import FakeGitHub, commit_json, pull_json, review_json

TOKEN = "test-token-not-secret"
HEAD = "a" * 40
WHEN = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def client(gh: FakeGitHub, **kwargs: object) -> GitHubClient:
    return GitHubClient("octo/game", token=TOKEN, base_url=gh.url, **kwargs)  # type: ignore[arg-type]


def test_reads_a_pull_request_its_reviews_commits_and_permissions(fake_github: FakeGitHub) -> None:
    fake_github.add_pull(pull_json(7, author="carol", head_sha=HEAD, created_at=WHEN))
    fake_github.add_review(7, review_json("alice", "APPROVED", commit_id=HEAD, submitted_at=WHEN))
    fake_github.add_commit(
        7, commit_json(HEAD, author_login="carol", message="x\n\nCo-authored-by: D <d@x>")
    )
    fake_github.set_permission("alice", "write")
    with client(fake_github) as gh:
        pull = gh.get_pull(7)
        reviews = gh.list_reviews(7)
        commits = gh.list_pull_commits(7)
        permission = gh.collaborator_permission("alice")
    assert pull.number == 7 and pull.head_sha == HEAD and pull.author is not None
    assert pull.author.login == "carol" and pull.created_at == WHEN
    assert [(r.user.login if r.user else None, r.state, r.commit_id) for r in reviews] == [
        ("alice", "APPROVED", HEAD)
    ]
    assert commits[0].author_login == "carol" and "Co-authored-by" in commits[0].message
    assert permission.can_write


def test_sends_githubs_headers_and_the_token_only_as_authorization(fake_github: FakeGitHub) -> None:
    fake_github.add_pull(pull_json(1, author="carol", head_sha=HEAD))
    with client(fake_github) as gh:
        gh.get_pull(1)
    headers = fake_github.requests[-1].headers
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == API_VERSION
    assert headers["authorization"] == f"Bearer {TOKEN}"


def test_token_and_base_url_come_from_the_environment(fake_github: FakeGitHub) -> None:
    fake_github.add_pull(pull_json(1, author="carol", head_sha=HEAD))
    env = {"GITHUB_API_URL": fake_github.url, "GITHUB_TOKEN": TOKEN}
    with GitHubClient("octo/game", environ=env) as gh:
        assert gh.get_pull(1).number == 1


def test_paginates_by_link_headers(fake_github: FakeGitHub) -> None:
    fake_github.add_pull(pull_json(1, author="carol", head_sha=HEAD))
    for i in range(250):
        fake_github.add_review(
            1, review_json(f"user{i}", "COMMENTED", commit_id=HEAD, submitted_at=WHEN)
        )
    with client(fake_github) as gh:
        reviews = gh.list_reviews(1)
    assert [r.user.login for r in reviews if r.user] == [f"user{i}" for i in range(250)]
    pages = [r for r in fake_github.requests if r.path.endswith("/reviews")]
    assert len(pages) == 3


def test_error_names_method_host_path_and_status_never_the_token(fake_github: FakeGitHub) -> None:
    fake_github.add_pull(pull_json(1, author="carol", head_sha=HEAD))
    fake_github.fail(500, path="/pulls/1")
    with client(fake_github) as gh, pytest.raises(GitHubError) as caught:
        gh.get_pull(1)
    error = caught.value
    assert isinstance(error, DsgitError)
    assert error.status == 500 and error.method == "GET"
    text = str(error)
    assert "/repos/octo/game/pulls/1" in text and "500" in text and error.host in text
    assert TOKEN not in text and TOKEN not in repr(error.__cause__) and TOKEN not in repr(gh)


def test_bad_credentials_and_not_found_are_github_errors(fake_github: FakeGitHub) -> None:
    wrong = GitHubClient("octo/game", token="wrong", base_url=fake_github.url)
    with wrong as gh, pytest.raises(GitHubError, match="HTTP 401: Bad credentials"):
        gh.get_pull(1)
    with client(fake_github) as gh, pytest.raises(GitHubError, match="HTTP 404"):
        gh.get_pull(99)


def test_timeout_is_a_github_error(fake_github: FakeGitHub) -> None:
    fake_github.hang(path="/pulls/1")
    with client(fake_github, timeout=0.3) as gh, pytest.raises(GitHubError, match="timed out"):
        gh.get_pull(1)


def test_unreachable_host_is_a_github_error() -> None:
    nowhere = GitHubClient("octo/game", token=TOKEN, base_url="http://127.0.0.1:9", timeout=2)
    with nowhere as gh, pytest.raises(GitHubError, match="no answer"):
        gh.get_pull(1)


def test_a_next_page_on_another_origin_is_not_followed(fake_github: FakeGitHub) -> None:
    from .fake_github import Answer

    fake_github.route(
        "GET",
        r"/repos/octo/game/pulls/1/reviews",
        lambda gh, req: Answer(200, [], {"Link": '<https://evil.example/x?page=2>; rel="next"'}),
    )
    with client(fake_github) as gh, pytest.raises(GitHubError, match="another origin"):
        gh.list_reviews(1)


def test_malformed_body_is_a_github_error(fake_github: FakeGitHub) -> None:
    from .fake_github import Answer

    fake_github.route("GET", r"/repos/octo/game/pulls/2", lambda gh, req: Answer(200, {"x": 1}))
    with client(fake_github) as gh, pytest.raises(GitHubError, match="number"):
        gh.get_pull(2)


def test_repository_must_be_owner_slash_name() -> None:
    with pytest.raises(GitHubError, match="owner/name"):
        GitHubClient("nope", token=TOKEN)
