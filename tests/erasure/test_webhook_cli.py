"""``dsgit webhook serve`` as a user runs it: a subprocess on 127.0.0.1 (``--port 0``, the URL
parsed from what it prints), stopped by the fixture whatever happens; the secret a canary
that must show up in no output and no file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from dsgit.cli.context import AppContext
from dsgit.erasure.signature import sign
from dsgit.errors import EXIT_ERROR
from dsgit.model.entry import EntryData
from dsgit.remote.connect import open_client
from support import write_files

pytestmark = pytest.mark.slow

CANARY = "canary-cli-secret-e61c0b"
SECRET_ENV = "HOOK_CANARY_SECRET"
USER = 55_120_907
CONFIG = """\
version: 1
default_environment: production
environments:
  production: {universe_id: 7, emulator: .dsgit/production.db}
"""
POLICY = """\
version: 1
user_data_templates:
  - key_template: {data_store_type: STANDARD, data_store_name: PlayerStore, key_pattern: "{UserId}"}
"""
_SERVE = (sys.executable, "-m", "dsgit")
_ARGS = ("webhook", "serve", "--port", "0")
_LISTENING = re.compile(r"Listening on (http://127\.0\.0\.1:\d+/)")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = write_files(tmp_path / "repo", {"dsgit.yaml": CONFIG, "policies/erasure.yaml": POLICY})
    with open_client(AppContext(cwd=root).environment("production")) as api:
        api.create_entry("PlayerStore", str(USER), EntryData({"Coins": 1}, {}, (USER,)))
    return root


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1", **extra}


@dataclass
class Served:
    url: str
    process: subprocess.Popen[str]
    reader: threading.Thread | None = None
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)


@pytest.fixture
def serve() -> Iterator[type]:
    started: list[Served] = []

    def start(root: Path, *options: str) -> Served:
        process = subprocess.Popen(
            [*_SERVE, "-C", str(root), *_ARGS, "--secret-env", SECRET_ENV, *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_env(**{SECRET_ENV: CANARY}),
        )
        served = Served("", process)
        started.append(served)
        found = threading.Event()

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                served.lines.append(line)
                match = _LISTENING.search(line)
                if match and not found.is_set():
                    served.url = match.group(1)
                    found.set()

        served.reader = threading.Thread(target=read, daemon=True)
        served.reader.start()
        assert found.wait(timeout=60), served.output()
        return served

    yield start  # type: ignore[misc]
    for served in started:
        if served.process.poll() is None:
            served.process.terminate()
            try:
                served.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                served.process.kill()
                served.process.wait()
        if served.reader is not None:
            served.reader.join(timeout=15)
        assert served.process.stdout is not None
        served.process.stdout.close()


def _post(url: str, notification_id: str) -> httpx.Response:
    body = json.dumps(
        {
            "NotificationId": notification_id,
            "EventType": "RightToErasureRequest",
            "EventTime": "2026-12-04T00:00:00Z",
            "EventPayload": {"UserId": USER, "GameIds": [7]},
        }
    ).encode()
    header = sign(CANARY, int(time.time()), body)
    return httpx.post(url + "roblox", content=body, headers={"roblox-signature": header})


def _wait_for(path: Path, served: Served) -> None:
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline:
        assert served.process.poll() is None, served.output()
        time.sleep(0.05)
    assert path.exists(), served.output()


def _stop(served: Served) -> int:
    served.process.terminate()
    return served.process.wait(timeout=15)


def _no_canary_in(*folders: Path) -> None:
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                assert CANARY.encode() not in path.read_bytes(), path


def test_serve_writes_the_plan_to_the_default_folder(repo: Path, serve: type) -> None:
    served = serve(repo)
    response = _post(served.url, "n-cli-1")
    assert response.status_code == 200 and response.json()["status"] == "queued"
    plan = repo / ".dsgit/erasure/n-cli-1.json"
    _wait_for(repo / ".dsgit/erasure/queue.jsonl", served)
    assert _post(served.url, "n-cli-1").json()["status"] == "duplicate"
    assert _stop(served) == 0
    assert json.loads(plan.read_text())["context"]["notification_id"] == "n-cli-1"
    [line] = [json.loads(x) for x in (repo / ".dsgit/erasure/queue.jsonl").read_text().splitlines()]
    assert line["status"] == "awaiting-approval"
    output = served.output()
    assert "Stopped." in output and "Traceback" not in output
    assert CANARY not in output and str(USER) not in output
    _no_canary_in(repo)


def test_serve_writes_plans_to_out_dir(repo: Path, serve: type, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere"
    served = serve(repo, "--out", str(out), "--retry-every", "2m")
    assert _post(served.url, "n-cli-2").status_code == 200
    _wait_for(out / "queue.jsonl", served)
    assert _stop(served) == 0
    assert (out / "n-cli-2.json").exists()
    assert not (repo / ".dsgit/erasure").exists()
    assert CANARY not in served.output()
    _no_canary_in(repo, out)


def _run(repo: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """``webhook serve`` expected to stop by itself (the canary in the default variable)."""
    return subprocess.run(
        [*_SERVE, "-C", str(repo), *_ARGS, *options],
        check=False,
        capture_output=True,
        text=True,
        env=_env(DSGIT_WEBHOOK_SECRET=CANARY),
        timeout=60,
    )


def test_a_missing_secret_is_one_clear_error_naming_the_variable(repo: Path) -> None:
    # the canary sits in the default variable; --secret-env names another one, unset
    done = _run(repo, "--secret-env", "HOOK_UNSET_SECRET")
    assert done.returncode == EXIT_ERROR
    assert "HOOK_UNSET_SECRET" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "Listening" not in done.stderr
    assert CANARY not in done.stderr + done.stdout
    _no_canary_in(repo)


def test_a_bad_retry_interval_is_a_usage_error(repo: Path) -> None:
    done = _run(repo, "--retry-every", "soon")
    assert done.returncode == EXIT_ERROR
    assert "'soon' is not a duration" in done.stderr and "Traceback" not in done.stderr
