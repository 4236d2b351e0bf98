"""``dsgit webhook serve``'s worker: a notification becomes a plan file per environment,
applied only where erasure.yaml's auto_apply says so (the embedded emulator, in process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.cli.context import AppContext
from dsgit.erasure.notification import ErasureNotification
from dsgit.erasure.server import PlanOutcome
from dsgit.erasure.worker import ErasureWorker
from dsgit.model.entry import EntryData
from dsgit.plan.model import PlanKind
from dsgit.planfile import read_any_plan
from dsgit.remote.connect import open_client
from support import write_files

USER = 45348281
CONFIG = """\
version: 1
default_environment: staging
environments:
  staging: {universe_id: 7, emulator: .dsgit/staging.db}
  production: {universe_id: 7, emulator: .dsgit/production.db}
"""
POLICY = """\
version: 1
user_data_templates:
  - key_template: {data_store_type: STANDARD, data_store_name: PlayerStore, key_pattern: "{UserId}"}
auto_apply: [staging]
"""


@pytest.fixture
def app(tmp_path: Path) -> AppContext:
    root = write_files(tmp_path / "repo", {"dsgit.yaml": CONFIG, "policies/erasure.yaml": POLICY})
    made = AppContext(cwd=root)
    for name in ("staging", "production"):
        with open_client(made.environment(name)) as api:
            api.create_entry("PlayerStore", str(USER), EntryData({"Coins": 1}, {}, (USER,)))
            api.create_entry("PlayerStore", "7", EntryData({"Coins": 2}))
    return made


def test_each_environment_gets_a_plan_and_only_auto_apply_ones_are_applied(
    app: AppContext, tmp_path: Path
) -> None:
    out = tmp_path / "plans"
    out.mkdir()
    worker = ErasureWorker(app.root, app.config, out)
    worker(ErasureNotification("n-1", USER, (7,), ""), ("staging", "production"))
    # the plan waiting for approval stays; the applied one, naming the user's entry, is gone
    plan = read_any_plan(out / "n-1.production.json")
    assert plan.kind is PlanKind.ERASURE  # type: ignore[union-attr]
    assert plan.context["notification_id"] == "n-1"  # type: ignore[union-attr]
    assert [str(c.address) for c in plan.changes] == [f"PlayerStore/global/{USER}"]  # type: ignore[union-attr]
    assert not (out / "n-1.staging.json").exists()
    assert sorted(p.name for p in out.iterdir()) == ["n-1.production.json", "queue.jsonl"]
    lines = [json.loads(line) for line in (out / "queue.jsonl").read_text().splitlines()]
    assert {line["environment"]: line["status"] for line in lines} == {
        "staging": "applied",
        "production": "awaiting-approval",
    }
    by_env = {line["environment"]: line for line in lines}
    assert by_env["staging"]["plan_removed"] is True
    assert by_env["staging"]["plan_digest"].startswith("sha256:")
    assert by_env["production"]["plan_digest"] == plan.digest  # type: ignore[union-attr]
    assert "plan_removed" not in by_env["production"]
    assert all(str(USER) not in json.dumps(line) for line in lines)  # the id is never queued
    with open_client(app.environment("staging")) as api:
        assert api.get_entry("PlayerStore", str(USER)) is None
        assert api.get_entry("PlayerStore", "7") is not None
    with open_client(app.environment("production")) as api:
        assert api.get_entry("PlayerStore", str(USER)) is not None


def _notifying(
    app: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> tuple[AppContext, Path]:
    """The repository with an ``erasure`` webhook sink at ``url``, and a plans folder."""
    monkeypatch.setenv("DSGIT_TEST_HOOK", url)
    monkeypatch.setenv("DSGIT_TEST_HOOK_SECRET", "hook-secret")
    config = (app.root / "dsgit.yaml").read_text() + (
        "notifications:\n  - type: webhook\n    url_env: DSGIT_TEST_HOOK\n"
        "    secret_env: DSGIT_TEST_HOOK_SECRET\n    events: [erasure]\n"
    )
    (app.root / "dsgit.yaml").write_text(config)
    out = tmp_path / "plans"
    out.mkdir()
    return AppContext(cwd=app.root), out


def test_a_plan_awaiting_approval_is_notified_without_the_user(
    app: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from notify.receiver import receiver

    with receiver() as hook:
        fresh, out = _notifying(app, tmp_path, monkeypatch, hook.url)
        ErasureWorker(fresh.root, fresh.config, out)(
            ErasureNotification("n-2", USER, (7,), ""), ("production",)
        )
        [received] = hook.requests
    body = received.json()
    assert "erasure" in json.dumps(body)
    assert "awaits approval" in json.dumps(body)
    assert str(USER) not in received.body.decode()


def test_an_undelivered_erasure_event_is_noted_in_the_ledger(
    app: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsgit.ledger import Ledger, NotificationRecord
    from notify.receiver import closed_port_url

    monkeypatch.setenv("DSGIT_TEST_HOOK", closed_port_url())
    monkeypatch.setenv("DSGIT_TEST_HOOK_SECRET", "hook-secret")
    monkeypatch.setenv("DSGIT_NOTIFY_DEADLINE", "1")
    config = (app.root / "dsgit.yaml").read_text() + (
        "notifications:\n  - name: ops\n    type: webhook\n    url_env: DSGIT_TEST_HOOK\n"
        "    secret_env: DSGIT_TEST_HOOK_SECRET\n    events: [erasure]\n"
    )
    (app.root / "dsgit.yaml").write_text(config)
    out = tmp_path / "plans"
    out.mkdir()
    fresh = AppContext(cwd=app.root)
    ErasureWorker(fresh.root, fresh.config, out)(
        ErasureNotification("n-3", USER, (7,), ""), ("production",)
    )
    notes = [r.body for r in Ledger(app.root).records() if isinstance(r.body, NotificationRecord)]
    assert [(note.sink, note.event, note.environment) for note in notes] == [
        ("ops", "erasure", "production")
    ]
    assert all(str(USER) not in note.problem for note in notes)


def test_a_session_locked_profile_left_out_is_reported_not_done(
    app: AppContext, tmp_path: Path
) -> None:
    held = 8123
    profile = {
        "Data": {"Coins": 3},
        "MetaData": {"ActiveSession": [1818, "job-1"], "LastUpdate": 1},
        "UserIds": [held],
    }
    with open_client(app.environment("staging")) as api:
        api.create_entry("PlayerStore", str(held), EntryData(profile, {}, (held,)))
    out = tmp_path / "plans"
    out.mkdir()
    outcome = ErasureWorker(app.root, app.config, out)(
        ErasureNotification("n-2", held, (7,), ""), ("staging",)
    )
    assert outcome == PlanOutcome({}, ("staging",))  # the server retries it
    [line] = [json.loads(line) for line in (out / "queue.jsonl").read_text().splitlines()]
    assert line["status"].startswith("applied; 1 entry left out, held by a game server's session")
    assert "waiting-for-session" in line["status"] and str(held) not in json.dumps(line)
    with open_client(app.environment("staging")) as api:
        assert api.get_entry("PlayerStore", str(held)) is not None  # never written while held


def test_a_failed_plan_is_queued_and_notified_as_failed_without_the_user(
    app: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from notify.receiver import receiver

    with receiver() as hook:
        fresh, out = _notifying(app, tmp_path, monkeypatch, hook.url)
        worker = ErasureWorker(fresh.root, fresh.config, out)
        # production's emulator file is gone and a folder stands in its way: its plan fails
        (app.root / ".dsgit/production.db").unlink()
        (app.root / ".dsgit/production.db").mkdir()
        outcome = worker(ErasureNotification("n-4", USER, (7,), ""), ("staging", "production"), 3)
        assert list(outcome.failed) == ["production"] and outcome.locked == ()
        worker.gave_up(
            ErasureNotification("n-4", USER, (7,), ""),
            ("production",),
            "failed (gave up after 8 attempts: production: boom)",
        )
        bodies = [r.body.decode() for r in hook.requests]
    lines = [json.loads(line) for line in (out / "queue.jsonl").read_text().splitlines()]
    statuses = [(line["environment"], line["status"]) for line in lines]
    assert statuses[0] == ("staging", "applied")
    assert statuses[1][0] == "production"
    assert statuses[1][1].startswith("failed (attempt 3: ")
    assert statuses[2] == ("production", "failed (gave up after 8 attempts: production: boom)")
    assert lines[1]["plan"] is None and lines[1]["plan_digest"] is None
    assert len(bodies) == 3
    assert [json.loads(body)["severity"] for body in bodies] == ["ok", "error", "error"]
    assert "cannot open the emulator database" in lines[1]["status"]  # the reason, redacted
    assert "failed (attempt 3" in bodies[1] and "gave up after 8 attempts" in bodies[2]
    for text in [json.dumps(line) for line in lines] + bodies:
        assert str(USER) not in text
        assert "production.db" not in text  # the reason names no path


def test_the_server_plans_a_locked_profile_again_once_the_player_has_left(
    app: AppContext, tmp_path: Path
) -> None:
    from dsgit.erasure.seen import DONE, WAITING, SeenNotifications
    from dsgit.erasure.server import WebhookServer, WebhookSettings

    held = 8124
    profile = {
        "Data": {"Coins": 3},
        "MetaData": {"ActiveSession": [1818, "job-1"], "LastUpdate": 1},
    }
    with open_client(app.environment("staging")) as api:
        api.create_entry("PlayerStore", str(held), EntryData(profile, {}, (held,)))
    out = tmp_path / "plans"
    out.mkdir()
    now = [1_764_800_000.0]
    worker = ErasureWorker(app.root, app.config, out)
    server = WebhookServer(
        WebhookSettings("s", {7: ("staging",)}, clock=lambda: now[0], retry_every=600.0),
        SeenNotifications(tmp_path / "seen.sqlite"),
        worker,
        gave_up=worker.gave_up,
    )
    request = json.dumps(
        {
            "NotificationId": "n-5",
            "EventType": "RightToErasureRequest",
            "EventPayload": {"UserId": held, "GameIds": [7]},
        }
    )
    assert server.seen.claim("n-5", now[0], request)
    server.start()
    try:
        server.drain()
        row = server.seen.get("n-5")
        assert row is not None and row.state == WAITING and row.retry_at == now[0] + 600
        with open_client(app.environment("staging")) as api:
            assert api.get_entry("PlayerStore", str(held)) is not None  # never written held
            left = {"Data": {"Coins": 3}, "MetaData": {"ActiveSession": None, "LastUpdate": 2}}
            api.update_entry("PlayerStore", str(held), EntryData(left, {}, (held,)))
        now[0] += 600
        server.wake()
        server.drain()
        row = server.seen.get("n-5")
        assert row is not None and row.state == DONE
    finally:
        server.stop()
    with open_client(app.environment("staging")) as api:
        assert api.get_entry("PlayerStore", str(held)) is None
    lines = [json.loads(line) for line in (out / "queue.jsonl").read_text().splitlines()]
    assert [line["status"].split(";")[0] for line in lines] == ["applied", "applied"]
    assert "waiting-for-session" in lines[0]["status"] and ";" not in lines[1]["status"]
    assert not (out / "n-5.json").exists()  # applied: removed
