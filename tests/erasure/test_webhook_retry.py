"""``dsgit webhook serve`` retries by itself: a failed plan with exponential backoff up to a
bounded number of attempts, a plan that left out session-locked entries every
``retry_every`` until Roblox's 30-day deadline. The clock is a fake one moved by the tests;
the worker is woken after each move, so nothing here waits for minutes."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsgit.erasure.notification import ErasureNotification, redacted
from dsgit.erasure.seen import DONE, FAILED, QUEUED, WAITING, SeenNotifications
from dsgit.erasure.server import PlanOutcome, WebhookServer, WebhookSettings
from dsgit.erasure.signature import sign

SECRET = "canary-retry-secret-91b2"
START = 1_764_800_000.0
USER = 73_910_555
UNIVERSE = 5_000_001
EVERY = 900.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class Script:
    """The worker's callee: answers each attempt from a list (an exception is raised)."""

    def __init__(self, *answers: PlanOutcome | Exception | None) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[tuple[str, ...], int]] = []

    def __call__(
        self, notification: ErasureNotification, envs: tuple[str, ...], attempt: int
    ) -> PlanOutcome | None:
        self.calls.append((envs, attempt))
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        return answer


class World:
    def __init__(self, root: Path, script: Script, **settings: float) -> None:
        self.root = root
        self.clock = Clock()
        self.logs: list[str] = []
        self.given_up: list[tuple[tuple[str, ...], str]] = []
        self.settings = WebhookSettings(
            SECRET,
            {UNIVERSE: ("production", "staging")},
            clock=self.clock,
            **{"retry_every": EVERY, **settings},  # type: ignore[arg-type]
        )
        self.script = script
        self.server = self._server()

    def _server(self) -> WebhookServer:
        return WebhookServer(
            self.settings,
            SeenNotifications(self.root / "seen.sqlite"),
            self.script,
            log=self.logs.append,
            gave_up=lambda n, envs, status: self.given_up.append((envs, status)),
        )

    def post(self, notification_id: str = "n-1") -> int:
        body = json.dumps(
            {
                "NotificationId": notification_id,
                "EventType": "RightToErasureRequest",
                "EventTime": "2026-12-04T00:00:00Z",
                "EventPayload": {"UserId": USER, "GameIds": [UNIVERSE]},
            }
        ).encode()
        status, _ = self.server.receive({"roblox-signature": sign(SECRET, int(START), body)}, body)
        self.server.drain()
        return status

    def advance(self, seconds: float) -> None:
        self.clock.now += seconds
        self.server.wake()
        self.server.drain()

    def row(self, notification_id: str = "n-1") -> tuple[str, int, float | None]:
        got = self.server.seen.get(notification_id)
        assert got is not None
        return got.state, got.attempts, got.retry_at


@pytest.fixture
def make(tmp_path: Path) -> Iterator[type[World]]:
    made: list[World] = []

    class Started(World):
        def __init__(self, script: Script, **settings: float) -> None:
            super().__init__(tmp_path, script, **settings)
            self.server.start()
            made.append(self)

    yield Started
    for world in made:
        world.server.stop()


def test_a_failed_plan_is_retried_with_a_doubling_backoff_until_it_succeeds(
    make: type[World],
) -> None:
    boom = RuntimeError(f"read PlayerStore/global/{USER} failed at http://127.0.0.1:9/x")
    world = make(Script(boom, boom, None))
    assert world.post() == 200
    assert world.row() == (QUEUED, 1, START + 60)
    world.advance(59)  # not due yet: nothing runs
    assert len(world.script.calls) == 1
    world.advance(1)
    assert world.row() == (QUEUED, 2, START + 60 + 120)  # 1 min, then 2
    world.advance(120)
    assert world.row()[0] == DONE
    assert [attempt for _, attempt in world.script.calls] == [1, 2, 3]
    assert world.given_up == []
    # the reason is logged, without the user id, the address or the URL
    failed = [line for line in world.logs if "attempt 1 failed" in line]
    assert failed and "RuntimeError" in failed[0]
    assert all(str(USER) not in line and "PlayerStore" not in line for line in world.logs)
    assert all("127.0.0.1" not in line for line in failed)


def test_the_backoff_is_capped_at_the_retry_interval_and_attempts_are_bounded(
    make: type[World],
) -> None:
    world = make(Script(*[RuntimeError("down")] * 10), max_attempts=4, retry_every=300.0)
    assert [world.settings.backoff(k) for k in (1, 2, 3, 4, 5)] == [60, 120, 240, 300, 300]
    world.post()
    for attempt, delay in ((1, 60.0), (2, 120.0), (3, 240.0)):
        state, attempts, retry_at = world.row()
        assert (state, attempts) == (QUEUED, attempt)
        assert retry_at == pytest.approx(world.clock.now + delay)
        world.advance(delay)
    assert world.row() == (FAILED, 4, None)
    [(envs, status)] = world.given_up
    assert envs == ("production", "staging")
    assert status.startswith("failed (gave up after 4 attempts: production: RuntimeError: down")
    world.advance(10 * EVERY)  # failed: never tried again
    assert len(world.script.calls) == 4


def test_only_the_environments_that_failed_are_tried_again(make: type[World]) -> None:
    world = make(Script(PlanOutcome({"staging": "RemoteError: 503"}), None))
    world.post()
    world.advance(60)
    assert [envs for envs, _ in world.script.calls] == [("production", "staging"), ("staging",)]
    assert world.row()[0] == DONE


def test_a_plan_that_left_out_locked_entries_waits_for_the_session(make: type[World]) -> None:
    left = PlanOutcome(locked=("production",))
    world = make(Script(left, left, None))
    world.post()
    assert world.row() == (WAITING, 0, START + EVERY)
    world.advance(EVERY - 1)
    assert len(world.script.calls) == 1
    world.advance(1)
    assert world.row() == (WAITING, 0, START + 2 * EVERY)
    world.advance(EVERY)
    assert world.row()[0] == DONE
    # only the environment with entries left out is planned again
    assert [envs for envs, _ in world.script.calls] == [
        ("production", "staging"),
        ("production",),
        ("production",),
    ]
    assert world.given_up == []


def test_locked_entries_still_held_after_30_days_are_given_up(make: type[World]) -> None:
    world = make(Script(*[PlanOutcome(locked=("staging",))] * 100), retry_every=10 * 86400.0)
    world.post()
    world.advance(10 * 86400)
    world.advance(10 * 86400)
    assert world.row() == (WAITING, 0, START + 30 * 86400)  # the last try is at the deadline
    world.advance(10 * 86400)
    assert world.row()[0] == FAILED
    [(envs, status)] = world.given_up
    assert envs == ("staging",) and "30-day deadline passed" in status
    assert len(world.script.calls) == 4


def test_a_scheduled_retry_survives_a_restart_and_runs_when_due(tmp_path: Path) -> None:
    first = World(tmp_path, Script(RuntimeError("down")))
    first.server.start()
    first.post()
    first.server.stop()
    second = World(tmp_path, Script(None))
    second.clock.now = START + 30  # restarted before the retry is due
    second.server.start()
    try:
        second.server.drain()
        assert second.script.calls == []
        second.advance(30)
        assert second.script.calls == [(("production", "staging"), 2)]
        assert second.row()[0] == DONE
    finally:
        second.server.stop()


def test_stop_wakes_the_worker_at_once_while_a_retry_is_minutes_away(tmp_path: Path) -> None:
    script = Script(RuntimeError("down"))
    seen = SeenNotifications(tmp_path / "seen.sqlite")
    server = WebhookServer(WebhookSettings(SECRET, {UNIVERSE: ("production",)}), seen, script)
    server.start()
    body = json.dumps(
        {
            "NotificationId": "n-9",
            "EventType": "RightToErasureRequest",
            "EventPayload": {"UserId": USER, "GameIds": [UNIVERSE]},
        }
    ).encode()
    header = sign(SECRET, int(time.time()), body)  # the real clock: the worker really sleeps
    assert server.receive({"roblox-signature": header}, body)[0] == 200
    server.drain()
    row = seen.get("n-9")
    assert row is not None and row.state == QUEUED and row.retry_at is not None
    assert row.retry_at > time.time() + 30  # a minute away
    began = time.monotonic()
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    stopper.join(timeout=10)
    assert not stopper.is_alive()
    assert time.monotonic() - began < 5
    assert len(script.calls) == 1


def test_a_database_from_before_the_retry_columns_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "seen.sqlite"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE seen (id TEXT PRIMARY KEY, accepted REAL NOT NULL,"
        " state TEXT NOT NULL DEFAULT 'queued', request TEXT)"
    )
    request = {
        "NotificationId": "old-1",
        "EventType": "RightToErasureRequest",
        "EventPayload": {"UserId": USER, "GameIds": [UNIVERSE]},
    }
    old.execute("INSERT INTO seen VALUES ('old-1', ?, 'queued', ?)", (START, json.dumps(request)))
    old.execute("INSERT INTO seen VALUES ('old-0', ?, 'done', NULL)", (START - 5,))
    old.commit()
    old.close()
    world = World(tmp_path, Script(None))
    world.server.start()
    try:
        world.server.drain()
        assert world.script.calls == [(("production", "staging"), 1)]
        assert world.row("old-1")[0] == DONE
        assert world.row("old-0") == (DONE, 0, None)
        assert "old-0" in world.server.seen
    finally:
        world.server.stop()


def test_redacted_names_no_user_address_or_url() -> None:
    text = f"conflict on Guilds/global/clan-{USER} (GET https://apis.roblox.com/x?y=1) {USER}0"
    assert redacted(text, USER) == "conflict on <entry> (GET <url> " + f"{USER}0"
    assert redacted(f"key Player_{USER} is held\nTraceback", USER) == "key Player_<user> is held"
