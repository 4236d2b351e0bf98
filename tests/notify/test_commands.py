"""Notifications from `dsgit apply`, `dsgit drift` and `dsgit notify test`, end to end: a real
receiver on 127.0.0.1, the embedded emulator, and canaries that must never leave."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsgit.emulator import Emulator
from dsgit.ledger import Ledger, NotificationRecord
from dsgit.model.entry import EntryData
from dsgit.notify.signing import SIGNATURE_HEADER, verify
from dsgit.remote.testing import emulated_client
from notify.events import SECRET, SENSITIVE, URL_TOKEN
from notify.receiver import Receiver, closed_port_url, receiver
from support import LOCAL_CONFIG, invoke_cli, write_files

NOTIFICATIONS = """\
  prod:
    universe_id: 1
    emulator: .dsgit/emulator.db
    protected: true
notifications:
  - name: chat
    type: discord
    url_env: TEST_DISCORD_URL
  - name: team
    type: slack
    url_env: TEST_SLACK_URL
    events: [conflict, refused, drift]
  - name: hook
    type: webhook
    url_env: TEST_HOOK_URL
    secret_env: TEST_HOOK_SECRET
"""

SENSITIVE_STORE = "sensitive: [/Email]\n"


@pytest.fixture
def repo(repo_dir: Path) -> Path:
    return write_files(
        repo_dir,
        {
            "dsgit.yaml": LOCAL_CONFIG + NOTIFICATIONS,
            "datastores/Accounts/_store.yaml": SENSITIVE_STORE,
            "datastores/Accounts/global/7734.yaml": f"value:\n  Email: {SENSITIVE}\n  Coins: 5\n",
            "datastores/Shop/global/sword.yaml": "value:\n  price: 400\n",
        },
    )


@pytest.fixture
def rx(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    with receiver() as server:
        point(monkeypatch, server.url)
        yield server


def point(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("TEST_DISCORD_URL", url + "/discord")
    monkeypatch.setenv("TEST_SLACK_URL", url + "/slack")
    monkeypatch.setenv("TEST_HOOK_URL", url + "/hook")
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)


def run(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code, out, err = invoke_cli(["-C", str(root), *args], capsys)
    for text in (out, err):
        assert URL_TOKEN not in text and SECRET not in text and SENSITIVE not in text
    return code, out, err


def bodies(server: Receiver, sink: str) -> list[dict[str, object]]:
    return [req.json() for req in server.requests if req.path.endswith("/" + sink)]


def assert_clean(server: Receiver) -> None:
    """No payload holds the sensitive value, the signing secret or a sink URL."""
    assert server.requests
    for request in server.requests:
        text = request.body.decode("utf-8")
        assert SENSITIVE not in text and SECRET not in text and URL_TOKEN not in text
        assert "canary" not in text.lower()


def set_live(root: Path, store: str, key: str, value: object) -> None:
    with Emulator(db=root / ".dsgit/emulator.db") as emulator, emulated_client(emulator) as client:
        if client.get_entry(store, key) is None:
            client.create_entry(store, key, EntryData(value))
        else:
            client.update_entry(store, key, EntryData(value))


def test_an_apply_notifies_every_sink_that_wants_it(
    repo: Path, rx: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(repo, capsys, "plan", "-o", "plan.json")[0] == 0
    assert rx.requests == []  # plan sends nothing
    code, out, err = run(repo, capsys, "apply", "plan.json")
    assert code == 0, err
    assert "warning: notification" not in err
    [hook] = [req for req in rx.requests if req.path.endswith("/hook")]
    assert verify(SECRET, hook.headers[SIGNATURE_HEADER], hook.body, now=int(time.time()))
    body = hook.json()
    assert (body["type"], body["outcome"], body["environment"]) == ("apply", "applied", "local")
    assert body["counts"]["written"] == 2
    assert sorted(body["addresses"]) == ["Accounts/global/7734", "Shop/global/sword"]
    assert body["plan_digest"] == json.loads((repo / "plan.json").read_text())["digest"]
    assert body["apply_id"] in out
    [discord] = bodies(rx, "discord")
    assert discord["embeds"][0]["title"] == "dsgit apply in local: applied"  # type: ignore[index]
    assert bodies(rx, "slack") == []  # the team sink wants conflicts, refusals and drift only
    assert_clean(rx)


def test_a_conflict_is_notified_and_exits_5(
    repo: Path, rx: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    run(repo, capsys, "plan", "-o", "plan.json")
    set_live(repo, "Shop", "sword", {"price": 1})  # a game server got there first
    code, _, err = run(repo, capsys, "apply", "plan.json")
    assert code == 5, err
    [slack] = bodies(rx, "slack")
    assert "conflict" in slack["text"]  # type: ignore[operator]
    [hook] = bodies(rx, "hook")
    assert hook["type"] == "conflict" and hook["addresses"] == ["Shop/global/sword"]
    assert_clean(rx)


def test_refusals_are_notified_with_their_reasons(
    repo: Path, rx: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    # A protected environment without approvals: refused by policy (exit 3).
    run(repo, capsys, "plan", "-e", "prod", "-o", "prod.json")
    code, _, err = run(repo, capsys, "apply", "prod.json")
    assert code == 3, err
    [refused] = bodies(rx, "hook")
    assert (refused["type"], refused["outcome"]) == ("refused", "refused")
    assert refused["environment"] == "prod" and refused["reasons"]
    # The declaration moved on after the plan: stale (exit 4), also a refusal.
    run(repo, capsys, "plan", "-o", "plan.json")
    (repo / "datastores/Shop/global/sword.yaml").write_text("value:\n  price: 450\n", "utf-8")
    code, _, err = run(repo, capsys, "apply", "plan.json")
    assert code == 4, err
    stale = bodies(rx, "hook")[-1]
    assert (stale["type"], stale["outcome"]) == ("refused", "stale")
    assert len(bodies(rx, "slack")) == 2
    assert_clean(rx)


def test_drift_is_notified(repo: Path, rx: Receiver, capsys: pytest.CaptureFixture[str]) -> None:
    run(repo, capsys, "plan", "-o", "plan.json")
    run(repo, capsys, "apply", "plan.json")
    rx.requests.clear()
    code, _, _ = run(repo, capsys, "drift")
    assert code == 0 and rx.requests == []  # no drift, nothing sent
    set_live(repo, "Accounts", "7734", {"Email": "changed-" + SENSITIVE, "Coins": 6})
    code, out, _ = run(repo, capsys, "drift")
    assert code == 2 and "Accounts/global/7734" in out
    [hook] = bodies(rx, "hook")
    assert (hook["type"], hook["counts"]) == ("drift", {"changed": 1})
    assert hook["addresses"] == ["Accounts/global/7734"]
    assert len(bodies(rx, "slack")) == 1 and len(bodies(rx, "discord")) == 1
    assert_clean(rx)


def test_scan_findings_are_notified_without_values(
    repo: Path, rx: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    set_live(repo, "Accounts", "7734", {"Email": SENSITIVE, "Coins": 5})
    set_live(repo, "Shop", "sword", {"price": 400})
    code, _, _ = run(repo, capsys, "scan", "Shop", "--no-storage-metric", "--quiet")
    assert code == 0 and rx.requests == []  # nothing to look at: nothing sent
    # an e-mail address in a value without `users` metadata is a PII finding
    code, out, _ = run(repo, capsys, "scan", "Accounts", "--no-storage-metric", "--quiet")
    assert code == 0 and "Accounts" in out
    [hook] = bodies(rx, "hook")
    assert (hook["type"], hook["outcome"]) == ("scan", "findings")
    assert hook["counts"] == {"PII findings": 1}
    assert hook["addresses"] == ["Accounts/global/7734"]
    assert bodies(rx, "slack") == []  # the team sink does not want scan events
    assert len(bodies(rx, "discord")) == 1
    assert_clean(rx)


@pytest.mark.parametrize("failure", ["500", "refused", "timeout"])
def test_a_failing_sink_warns_once_and_leaves_the_exit_code(
    repo: Path, failure: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSGIT_NOTIFY_DEADLINE", "1")
    run(repo, capsys, "plan", "-o", "plan.json")
    set_live(repo, "Shop", "sword", {"price": 1})
    if failure == "refused":
        point(monkeypatch, closed_port_url())
        code, _, err = run(repo, capsys, "apply", "plan.json")
    else:
        with receiver([500], hang=3.0 if failure == "timeout" else 0.0) as server:
            point(monkeypatch, server.url)
            code, _, err = run(repo, capsys, "apply", "plan.json")
    assert code == 5  # the conflict decides, not the notifications
    warnings = [line for line in err.splitlines() if line.startswith("warning: notification")]
    assert len(warnings) == 3  # one per sink that wanted the event
    assert all("result is unchanged" in line for line in warnings)
    assert "Traceback" not in err
    # ...and a ledger note per sink (never its URL or secret), in a chain that still verifies
    notes = [
        record.body
        for record in Ledger(repo).records()
        if isinstance(record.body, NotificationRecord)
    ]
    assert sorted(note.sink for note in notes) == ["chat", "hook", "team"]
    assert {(note.event, note.environment) for note in notes} == {("conflict", "local")}
    assert all(note.attempts >= 1 and note.problem for note in notes)
    code, log, _ = run(repo, capsys, "audit", "log")
    assert "notification not delivered env=local sink=hook event=conflict" in log
    assert run(repo, capsys, "audit", "verify")[0] == 0
    for path in (repo / "audit").rglob("*.jsonl"):
        text = path.read_text()
        assert URL_TOKEN not in text and SECRET not in text and "127.0.0.1" not in text


def test_notify_test_reports_each_sink(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with receiver() as server:
        point(monkeypatch, server.url)
        code, out, _ = run(repo, capsys, "notify", "test")
        assert code == 0
        assert out.splitlines() == [
            "chat (discord): delivered",
            "team (slack): delivered",
            "hook (webhook): delivered",
        ]
        assert bodies(server, "hook")[0]["type"] == "test"
        code, out, _ = run(repo, capsys, "notify", "test", "team")
        assert code == 0 and out.splitlines() == ["team (slack): delivered"]
    code, _, err = run(repo, capsys, "notify", "test", "nobody")
    assert code == 1 and "no notification sink named 'nobody' (configured: chat, team, hook)" in err
    point(monkeypatch, closed_port_url())
    monkeypatch.delenv("TEST_HOOK_SECRET")
    monkeypatch.setenv("DSGIT_NOTIFY_DEADLINE", "1")
    code, out, err = run(repo, capsys, "notify", "test")
    assert code == 1
    assert "chat (discord): failed: connection refused" in out
    assert "hook (webhook): failed: $TEST_HOOK_SECRET (its signing secret) is not set" in out
    assert "3 of 3 notification sinks failed" in err


def test_a_repository_without_sinks_sends_nothing_and_says_so(
    repo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(repo_dir, {"dsgit.yaml": LOCAL_CONFIG})
    code, _, err = run(repo_dir, capsys, "notify", "test")
    assert code == 1 and "configures no `notifications:` sinks" in err


def test_a_url_in_dsgit_yaml_stops_every_command_without_repeating_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        (repo / "dsgit.yaml")
        .read_text("utf-8")
        .replace(
            "url_env: TEST_DISCORD_URL", f"url_env: https://discord.com/api/webhooks/1/{URL_TOKEN}"
        )
    )
    (repo / "dsgit.yaml").write_text(text, "utf-8")
    for args in (("validate",), ("plan",), ("notify", "test")):
        code, out, err = run(repo, capsys, *args)
        assert code == 1 and "DS863" in out + err
