"""`dsgit github apply` and `dsgit github drift` notify as the CLI does, with the run's link."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from dsgit.model.entry import EntryData
from dsgit.notify.signing import SIGNATURE_HEADER, verify
from notify.events import SECRET, URL_TOKEN
from notify.receiver import Receiver, receiver

from .action_world import CONFIG, TOKEN, ActionWorld
from .events import REPOSITORY, schedule_payload
from .test_apply import _approve, _plan_pull, _push

# End to end: a served fake GitHub, git subprocesses, the embedded emulator.
pytestmark = pytest.mark.slow

SINKS = """\
notifications:
  - name: hook
    type: webhook
    url_env: TEST_HOOK_URL
    secret_env: TEST_HOOK_SECRET
"""


@pytest.fixture
def rx(world: ActionWorld, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    world.base = world.commit({"dsgit.yaml": CONFIG + SINKS}, "notify a webhook")
    with receiver() as server:
        monkeypatch.setenv("TEST_HOOK_URL", server.url)
        monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
        yield server


def _events(server: Receiver) -> list[dict[str, object]]:
    for request in server.requests:
        assert verify(SECRET, request.headers[SIGNATURE_HEADER], request.body, now=int(time.time()))
        text = request.body.decode()
        assert SECRET not in text and URL_TOKEN not in text and TOKEN not in text
    return [request.json() for request in server.requests]


def test_github_apply_notifies_the_refusal_then_the_apply(
    world: ActionWorld, rx: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    reviewed = _plan_pull(world, capsys)
    code, _, err, _ = _push(world, capsys, reviewed.merge)
    assert code == 3, err
    [refused] = _events(rx)
    assert (refused["type"], refused["environment"], refused["actor"]) == (
        "refused",
        "production",
        "carol",
    )
    assert str(refused["link"]).startswith(f"https://github.com/{REPOSITORY}/actions/runs/")
    _approve(world, reviewed.head)
    code, _, err, outputs = _push(world, capsys, reviewed.merge)
    assert code == 0, err
    applied = _events(rx)[-1]
    assert (applied["type"], applied["outcome"]) == ("apply", "applied")
    assert applied["apply_id"] == outputs["apply-id"]
    assert sorted(applied["addresses"]) == ["Config/global/motd", "Shop/global/Sword"]  # type: ignore[call-overload]


def test_github_drift_notifies_with_the_issue_link(
    world: ActionWorld, rx: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    world.set_live("local", "Shop", "Sword", EntryData({"price": 1}))
    world.set_live("local", "Config", "motd", EntryData("hello"))
    code, _, err, _ = world.run(
        capsys, "drift", "schedule", schedule_payload(), "--environments", "local"
    )
    assert code == 0, err
    [drift] = _events(rx)
    assert drift["type"] == "drift" and drift["addresses"] == ["Shop/global/Sword"]
    assert "/issues/" in str(drift["link"])
