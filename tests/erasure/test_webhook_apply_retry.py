"""``dsgit webhook serve`` retries a failed ``dsgit apply`` of an ``auto_apply`` plan as it
retries a failed plan (the same backoff and attempt cap, the fake clock of
test_webhook_retry.py): the kept plan is applied again while it has not expired, a stale one
is planned again, and a protected environment that refuses the apply for its approvals is
``awaiting-approval``, never retried. The applies are real ``dsgit apply`` runs against the
embedded emulator unless a test injects a runner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dsgit.apply.lock import EnvironmentLock
from dsgit.cli.context import AppContext
from dsgit.erasure.notification import ErasureNotification
from dsgit.erasure.seen import DONE, FAILED, QUEUED, SeenNotifications
from dsgit.erasure.server import PlanOutcome, WebhookServer, WebhookSettings
from dsgit.erasure.worker import ErasureWorker
from dsgit.model.entry import EntryData
from dsgit.remote.connect import open_client
from support import run_git, write_files

USER = 45348299
START = 1_764_800_000.0
POLICY = """\
version: 1
user_data_templates:
  - key_template: {data_store_type: STANDARD, data_store_name: PlayerStore, key_pattern: "{UserId}"}
auto_apply: true
"""


def _config(protected: bool = False) -> str:
    flag = ", protected: true" if protected else ""
    return (
        "version: 1\ndefault_environment: staging\nenvironments:\n"
        f"  staging: {{universe_id: 7, emulator: .dsgit/staging.db{flag}}}\n"
    )


def _repo(tmp_path: Path, *, protected: bool = False) -> AppContext:
    root = write_files(
        tmp_path / "repo",
        {
            "dsgit.yaml": _config(protected),
            "policies/erasure.yaml": POLICY,
            ".gitignore": ".dsgit/\n",
        },
    )
    run_git(root, "init", "-q")
    run_git(root, "add", "-A")
    run_git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "init")
    app = AppContext(cwd=root)
    with open_client(app.environment("staging")) as api:
        api.create_entry("PlayerStore", str(USER), EntryData({"Coins": 1}, {}, (USER,)))
        api.create_entry("PlayerStore", "7", EntryData({"Coins": 2}))
    return app


def _lines(out: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (out / "queue.jsonl").read_text().splitlines()]


def _user_entry(app: AppContext) -> object:
    with open_client(app.environment("staging")) as api:
        return api.get_entry("PlayerStore", str(USER))


class Runner:
    """An injected ``dsgit apply``: answers from a list, then runs the real one."""

    def __init__(self, worker: ErasureWorker, *answers: tuple[int, str]) -> None:
        self.answers = list(answers)
        self.worker = worker
        self.real = worker.run_apply
        self.calls: list[str] = []

    def __call__(self, path: Path, environment: str) -> tuple[int, str]:
        self.calls.append(json.loads(path.read_text())["digest"])
        if self.answers:
            return self.answers.pop(0)
        return self.real(path, environment)


class Served:
    def __init__(self, app: AppContext, tmp_path: Path, **settings: float) -> None:
        self.out = tmp_path / "plans"
        self.out.mkdir()
        self.now = START
        self.worker = ErasureWorker(app.root, app.config, self.out)
        self.server = WebhookServer(
            WebhookSettings("s", {7: ("staging",)}, clock=lambda: self.now, **settings),  # type: ignore[arg-type]
            SeenNotifications(tmp_path / "seen.sqlite"),
            self.worker,
            gave_up=self.worker.gave_up,
        )

    def post(self, nid: str = "n-1") -> None:
        request = json.dumps(
            {
                "NotificationId": nid,
                "EventType": "RightToErasureRequest",
                "EventPayload": {"UserId": USER, "GameIds": [7]},
            }
        )
        assert self.server.seen.claim(nid, self.now, request)
        self.server.wake()
        self.server.drain()

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.server.wake()
        self.server.drain()

    def row(self, nid: str = "n-1") -> tuple[str, int]:
        got = self.server.seen.get(nid)
        assert got is not None
        return got.state, got.attempts


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    made = Served(_repo(tmp_path), tmp_path, max_attempts=3.0)
    made.server.start()
    yield made
    made.server.stop()


def test_an_apply_refused_by_a_held_environment_lock_is_retried_with_the_same_plan(
    served: Served, tmp_path: Path
) -> None:
    app = AppContext(cwd=tmp_path / "repo")
    with open_client(app.environment("staging")) as api:
        other = EnvironmentLock(
            api,
            holder="another-apply",
            apply_id="apply-other",
            plan_digest="sha256:" + "0" * 64,
            actor="other",
            ttl=timedelta(hours=1),
        )
        other.acquire()
        served.post()
        assert served.row() == (QUEUED, 1)
        [first] = _lines(served.out)
        status = str(first["status"])
        assert status.startswith("apply-failed (attempt 1: exit 1: ") and "locked" in status
        assert first["apply_exit"] == 1 and (served.out / "n-1.json").is_file()  # kept
        assert _user_entry(app) is not None
        other.release()
    served.advance(59)  # the backoff of a failed plan: 1 minute
    assert len(_lines(served.out)) == 1
    served.advance(1)
    assert served.row()[0] == DONE
    second = _lines(served.out)[1]
    assert second["status"] == "applied" and second["reapplied"] is True
    assert second["plan_digest"] == first["plan_digest"]  # the same plan, applied again
    assert not (served.out / "n-1.json").exists()
    assert _user_entry(app) is None
    for line in _lines(served.out):
        assert str(USER) not in json.dumps(line)


def test_a_stale_plan_is_planned_again_and_the_new_plan_applied(served: Served) -> None:
    runner = Runner(served.worker, (4, f"the plan is stale: PlayerStore/global/{USER} moved"))
    served.worker.run_apply = runner
    served.post()
    first = _lines(served.out)[0]
    assert first["apply_exit"] == 4 and "<entry>" in str(first["status"])
    served.advance(60)
    assert served.row()[0] == DONE
    second = _lines(served.out)[1]
    assert second["status"] == "applied" and "reapplied" not in second
    assert len(runner.calls) == 2 and runner.calls[0] == first["plan_digest"]
    assert runner.calls[1] == second["plan_digest"] != first["plan_digest"]  # a new plan


def test_a_conflict_is_planned_again(served: Served) -> None:
    runner = Runner(served.worker, (5, "1 conflict(s): a live entry changed since the plan"))
    served.worker.run_apply = runner
    served.post()
    served.advance(60)
    assert served.row()[0] == DONE
    assert runner.calls[0] != runner.calls[1]


def test_a_kept_plan_that_expired_is_planned_again(served: Served) -> None:
    runner = Runner(served.worker, (1, "GET <url> failed: HTTP 503"))
    served.worker.run_apply = runner
    served.worker.clock = lambda: datetime.now(UTC) + timedelta(days=400)
    served.post()
    served.advance(60)
    assert served.row()[0] == DONE
    assert runner.calls[0] != runner.calls[1]
    assert "reapplied" not in _lines(served.out)[1]


def test_an_apply_that_keeps_failing_is_given_up_after_the_attempt_cap(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(
        served.worker,
        "_notify",
        lambda nid, env, status, summary, *a: sent.append((status, summary)),
    )
    runner = Runner(served.worker, *[(6, f"partial apply of Player_{USER}: HTTP 503")] * 5)
    served.worker.run_apply = runner
    served.post()
    served.advance(60)
    served.advance(120)
    assert served.row() == (FAILED, 3)
    statuses = [str(line["status"]) for line in _lines(served.out)]
    assert [s.split(":")[0] for s in statuses[:3]] == [
        "apply-failed (attempt 1",
        "apply-failed (attempt 2",
        "apply-failed (attempt 3",
    ]
    assert statuses[3].startswith("failed (gave up after 3 attempts: staging: exit 6: ")
    assert len(set(runner.calls)) == 1  # exit 6 resumes: the same plan each time
    assert [status for status, _ in sent] == statuses  # one notification per line
    for text in statuses + [summary for _, summary in sent]:
        assert str(USER) not in text
    assert (tmp_path / "plans" / "n-1.json").is_file()  # kept for a hand apply
    served.advance(3600)
    assert len(runner.calls) == 3


def test_a_protected_environment_without_approvals_awaits_them_and_is_not_retried(
    tmp_path: Path,
) -> None:
    app = _repo(tmp_path, protected=True)
    out = tmp_path / "plans"
    out.mkdir()
    worker = ErasureWorker(app.root, app.config, out)
    outcome = worker(ErasureNotification("n-7", USER, (7,), ""), ("staging",))
    assert outcome == PlanOutcome({}, ())  # done: nothing for the server to retry
    [line] = _lines(out)
    assert line["status"] == "awaiting-approval" and "apply_exit" not in line
    assert (out / "n-7.json").is_file()
    assert _user_entry(app) is not None


def test_a_protected_refusal_that_is_not_about_approvals_is_a_failure(tmp_path: Path) -> None:
    app = _repo(tmp_path, protected=True)
    (app.root / "policies/erasure.yaml").write_text(POLICY + "# uncommitted\n")  # dirty plan
    out = tmp_path / "plans"
    out.mkdir()
    worker = ErasureWorker(app.root, app.config, out)
    outcome = worker(ErasureNotification("n-8", USER, (7,), ""), ("staging",))
    assert list(outcome.failed) == ["staging"] and "uncommitted" in outcome.failed["staging"]
    [line] = _lines(out)
    assert str(line["status"]).startswith("apply-failed (attempt 1: exit 3: ")


def test_the_last_queue_line_is_found_reading_backwards_across_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dsgit.erasure.worker as worker_module

    monkeypatch.setattr(worker_module, "_TAIL", 37)  # far shorter than one line
    app = _repo(tmp_path)
    out = tmp_path / "plans"
    out.mkdir()
    worker = ErasureWorker(app.root, app.config, out)
    assert worker._last_line("n-1", "staging") is None  # no queue yet
    with (out / "queue.jsonl").open("w") as queue:
        for k in range(40):
            nid = f"n-{k % 3}"
            line = {"notification_id": nid, "environment": "staging", "status": f"s{k}"}
            queue.write(json.dumps(line) + "\n")
        queue.write("not json\n")
    assert worker._last_line("n-0", "staging") == {
        "notification_id": "n-0",
        "environment": "staging",
        "status": "s39",
    }
    found = worker._last_line("n-2", "staging")
    assert found is not None and found["status"] == "s38"
    assert worker._last_line("n-1", "production") is None
