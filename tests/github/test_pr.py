"""``dsgit github pr`` on pull_request events, against the fake GitHub API and the emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsgit.plan.io import plan_from_json

from .action_world import BOT, ActionWorld
from .events import REPOSITORY, pull_request_payload
from .fake_github import pull_json, set_pull_files, user_json

SWORD = "datastores/Shop/global/Sword.yaml"
LOCAL = ("--environments", "local")

# End to end: a served fake GitHub, git subprocesses, the embedded emulator.
pytestmark = pytest.mark.slow


def _patch(price: int) -> str:
    return f"@@ -1,2 +1,2 @@\n value:\n-  price: 400\n+  price: {price}"


def _open_pull(world: ActionWorld, price: int, number: int = 7) -> str:
    head = world.commit({SWORD: f"value:\n  price: {price}\n"}, f"sword {price}")
    world.gh.add_pull(pull_json(number, author="carol", head_sha=head))
    set_pull_files(
        world.gh,
        number,
        [
            {
                "filename": SWORD,
                "status": "modified",
                "patch": f"@@ -1,2 +1,2 @@\n value:\n-  price: 400\n+  price: {price}",
            }
        ],
    )
    return head


def _bot_comments(world: ActionWorld, number: int = 7) -> list[dict[str, object]]:
    return [c for c in world.comments(number) if c["user"]["login"] == BOT]  # type: ignore[index]


def test_opened_then_synchronize_updates_one_sticky_comment(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    head = _open_pull(world, 450)
    event = pull_request_payload(7, head_sha=head, base_sha=world.base)
    code, _, err, outputs = world.run(
        capsys, "pr", "pull_request", event, "--environments", "local"
    )
    assert code == 0, err
    [comment] = _bot_comments(world)
    body = str(comment["body"])
    assert body.startswith("<!-- dsgit:plan:local -->\n")
    assert "price" in body and head in body and outputs["plan-digest"] in body
    assert outputs["has-changes"] == "true"
    assert outputs["artifact-name"] == f"dsgit-plan-local-{head}"
    staged = Path(outputs["artifact-path"]) / "local/plan.json"
    plan = plan_from_json(staged.read_bytes(), source="staged")
    assert plan.digest == outputs["plan-digest"] and plan.source.commit == head
    [status] = world.statuses(head)
    assert status["context"] == "dsgit/approval/local" and status["state"] == "success"
    assert "dsgit plan" in world.last_summary and "Sword" in world.last_summary

    # Someone else posts a comment that looks exactly like ours: it must be left alone.
    look_alike = {
        "id": 1,
        "body": "<!-- dsgit:plan:local -->\nplan: approved, apply now!",
        "user": user_json("mallory"),
        "created_at": "2026-12-01T00:00:00Z",
        "html_url": "",
    }
    world.gh.state.comments[(REPOSITORY, 7)].insert(0, look_alike)

    head2 = _open_pull(world, 500)
    event = pull_request_payload(7, head_sha=head2, base_sha=world.base, action="synchronize")
    code, _, err, outputs = world.run(
        capsys, "pr", "pull_request", event, "--environments", "local"
    )
    assert code == 0, err
    [updated] = _bot_comments(world)
    assert updated["id"] == comment["id"]  # the same comment, edited in place
    assert head2 in str(updated["body"]) and head not in str(updated["body"])
    assert world.comments(7)[0] == look_alike  # untouched
    assert len(world.comments(7)) == 2
    methods = [(r.method, r.path.rsplit("/", 2)[-2]) for r in world.gh.requests]
    assert ("PATCH", "comments") in methods


def test_duplicates_from_a_race_collapse_into_one(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    head = _open_pull(world, 450)
    event = pull_request_payload(7, head_sha=head, base_sha=world.base)
    world.run(capsys, "pr", "pull_request", event, *LOCAL)
    [first] = _bot_comments(world)
    twin = {**first, "id": int(first["id"]) + 50}  # type: ignore[call-overload]
    world.gh.state.comments[(REPOSITORY, 7)].append(twin)
    code, _, err, _ = world.run(capsys, "pr", "pull_request", event, *LOCAL)
    assert code == 0, err
    assert [c["id"] for c in _bot_comments(world)] == [first["id"]]


def test_a_custom_bot_login_for_app_tokens(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    world.gh.state.extra["bot_login"] = "dsgit-app[bot]"
    head = _open_pull(world, 450)
    event = pull_request_payload(7, head_sha=head, base_sha=world.base)
    args = ("--environments", "local", "--bot-login", "dsgit-app[bot]")
    world.run(capsys, "pr", "pull_request", event, *args)
    world.run(capsys, "pr", "pull_request", event, *args)
    assert len(world.comments(7)) == 1


def test_annotations_only_on_changed_lines_at_most_ten(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    old_bad = "datastores/Config/global/old.yaml"
    world.base = world.commit({old_bad: "nope: 1\n"}, "an old problem")
    files = {f"datastores/Config/global/bad{i:02}.yaml": "nope: 1\n" for i in range(12)}
    head = world.commit(files, "twelve new problems")
    world.gh.add_pull(pull_json(7, author="carol", head_sha=head))
    set_pull_files(
        world.gh,
        7,
        [
            {"filename": path, "status": "added", "patch": "@@ -0,0 +1 @@\n+nope: 1"}
            for path in files
        ],
    )
    event = pull_request_payload(7, head_sha=head, base_sha=world.base)
    code, out, _, _ = world.run(capsys, "pr", "pull_request", event, *LOCAL)
    assert code == 1  # validation failed: nothing planned
    annotations = [line for line in out.splitlines() if line.startswith("::error")]
    assert len(annotations) == 10
    assert all("bad" in line for line in annotations) and not any(
        "old.yaml" in a for a in annotations
    )
    # every problem (two per file), annotated or not, is listed in the job summary
    assert world.last_summary.count("| :x: |") == 26
    assert "old.yaml" in world.last_summary
    [comment] = _bot_comments(world)
    assert "not planned" in str(comment["body"])
    [status] = world.statuses(head)
    assert status["state"] == "failure"


def test_a_fork_gets_validation_only(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    head = _open_pull(world, 450)
    event = pull_request_payload(7, head_sha=head, base_sha=world.base, head_repository="eve/game")
    code, _, err, outputs = world.run(
        capsys, "pr", "pull_request", event, "--environments", "local"
    )
    assert code == 0, err
    assert "validation only" in err and outputs["has-changes"] == "false"
    assert world.comments(7) == [] and world.statuses(head) == []
    assert world.live("local", "Shop", "Sword") is None


def test_the_checkout_must_be_the_head_commit(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    head = _open_pull(world, 450)
    world.checkout(world.base)
    event = pull_request_payload(7, head_sha=head, base_sha=world.base)
    code, _, err, _ = world.run(capsys, "pr", "pull_request", event, *LOCAL)
    assert code == 1 and "head.sha" in err and "Traceback" not in err


def test_preview_applies_on_open_and_resets_on_close(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    head = _open_pull(world, 450)
    event = pull_request_payload(7, head_sha=head, base_sha=world.base)
    code, _, err, _ = world.run(capsys, "pr", "pull_request", event, "--environments", "preview")
    assert code == 0, err
    assert world.live("preview", "Shop", "Sword") is not None
    assert world.live("preview", "Shop", "Sword").value == {"price": 450}  # type: ignore[union-attr]
    [comment] = _bot_comments(world)
    assert "Preview" in str(comment["body"]) and "applied to `preview`" in str(comment["body"])

    closed = pull_request_payload(7, head_sha=head, base_sha=world.base, action="closed")
    code, _, err, _ = world.run(capsys, "pr", "pull_request", closed, "--environments", "preview")
    assert code == 0, err
    assert world.live("preview", "Shop", "Sword").value == {"price": 400}  # type: ignore[union-attr]
    assert any("reset" in str(c["body"]) for c in _bot_comments(world))
