"""``dsgit github drift`` on schedule: one issue per environment, opened, updated, closed."""

from __future__ import annotations

import pytest

from dsgit.model.entry import EntryData

from .action_world import BOT, ActionWorld
from .events import REPOSITORY, schedule_payload

LOCAL = ("--environments", "local")

# End to end: a served fake GitHub, git subprocesses, the embedded emulator.
pytestmark = pytest.mark.slow


def _drift_issues(world: ActionWorld) -> list[dict[str, object]]:
    return [
        issue for (repo, _n), issue in sorted(world.gh.state.issues.items()) if repo == REPOSITORY
    ]


def test_drift_issue_opened_updated_then_closed(
    world: ActionWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    world.set_live("local", "Shop", "Sword", EntryData({"price": 400}))
    world.set_live("local", "Config", "motd", EntryData("hello"))
    code, _, err, outputs = world.run(capsys, "drift", "schedule", schedule_payload(), *LOCAL)
    assert code == 0, err
    assert outputs["has-changes"] == "false" and _drift_issues(world) == []

    # A game server (or Creator Hub) changes a git-owned entry: drift.
    world.set_live("local", "Shop", "Sword", EntryData({"price": 1}))
    code, _, err, outputs = world.run(capsys, "drift", "schedule", schedule_payload(), *LOCAL)
    assert code == 0, err
    assert outputs["has-changes"] == "true" and outputs["drifted"] == "local"
    [issue] = _drift_issues(world)
    assert issue["state"] == "open" and "Shop/global/Sword" in str(issue["body"])
    assert str(issue["body"]).startswith("<!-- dsgit:drift:local -->")
    assert "opened" in err

    # A look-alike issue by someone else is not ours to update or close.
    world.gh.state.issues[(REPOSITORY, 50)] = {
        **issue,
        "number": 50,
        "user": {"login": "mallory", "id": 3, "type": "User"},
    }
    world.set_live("local", "Shop", "Sword", EntryData({"price": 2}))
    code, _, err, _ = world.run(capsys, "drift", "schedule", schedule_payload(), *LOCAL)
    assert code == 0 and "updated" in err
    ours = [i for i in _drift_issues(world) if i["user"]["login"] == BOT]  # type: ignore[index]
    assert len(ours) == 1 and "/price: 400 -> 2" in str(ours[0]["body"])

    world.set_live("local", "Shop", "Sword", EntryData({"price": 400}))
    code, _, err, outputs = world.run(capsys, "drift", "schedule", schedule_payload(), *LOCAL)
    assert code == 0 and outputs["has-changes"] == "false" and "closed" in err
    assert world.gh.state.issues[(REPOSITORY, ours[0]["number"])]["state"] == "closed"  # type: ignore[index]
    assert world.gh.state.issues[(REPOSITORY, 50)]["state"] == "open"  # mallory's, untouched
    assert world.comments(int(ours[0]["number"]))  # type: ignore[call-overload]
