"""End-to-end fixtures: a served emulator (`dsgit emulator serve` in a subprocess on
127.0.0.1, any free port, stopped at the end), a git repository whose environment points at
it, and the `dsgit` CLI run as subprocesses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from dsgit.model.entry import JSONValue
from dsgit.remote.budget import RateBudget
from dsgit.remote.client import OpenCloudClient
from support import run_git

UNIVERSE = 4242
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


@dataclass
class Served:
    """A running `dsgit emulator serve`."""

    url: str
    process: subprocess.Popen[str]


SERVED_KEY_ENV = "DSGIT_E2E_SERVED_KEY"  # the served emulator needs a key; any passes


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "NO_COLOR": "1",
        "PYTHONUNBUFFERED": "1",
        "DSGIT_ACTOR": "e2e",
        SERVED_KEY_ENV: "e2e-any-key",
    }


@contextmanager
def serve(*options: str) -> Iterator[Served]:
    """Run `dsgit emulator serve --port 0 OPTIONS...` until the block ends."""
    # --versions all: tests count writes by revisions (Roblox keeps one version an hour)
    command = ["emulator", "serve", "--port", "0", "--versions", "all", *options]
    process = subprocess.Popen(
        [sys.executable, "-m", "dsgit", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(),
    )
    assert process.stdout is not None
    found: list[str] = []

    def read_url() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            match = _LISTENING.search(line)
            if match:
                found.append(match.group(1))
                return

    reader = threading.Thread(target=read_url, daemon=True)
    reader.start()
    reader.join(timeout=30)
    try:
        assert found, "the emulator did not report its URL"
        yield Served(found[0], process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


@pytest.fixture
def served() -> Iterator[Served]:
    with serve("--ccu", "20000") as running:
        yield running


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


class Repo:
    """A dsgit repository in git whose default environment is the served emulator."""

    def __init__(
        self, root: Path, url: str, extra_environments: dict[str, object] | None = None
    ) -> None:
        self.root = root
        self.url = url
        root.mkdir(parents=True)
        config = {
            "version": 1,
            "default_environment": "served",
            "environments": {
                "served": {
                    "universe_id": UNIVERSE,
                    "url": url,
                    "api_key_env": SERVED_KEY_ENV,
                    "budget": {"ccu": 20000, "share": 1},
                },
                **(extra_environments or {}),
            },
        }
        (root / "dsgit.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        (root / ".gitignore").write_text(".dsgit/\nplans/\n", encoding="utf-8")
        self.git("init", "--quiet")

    def git(self, *args: str) -> str:
        return run_git(self.root, *args)

    def commit(self, message: str) -> str:
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def write(self, relative: str, data: object) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")

    def entry(self, store: str, key: str, value: JSONValue, **extra: object) -> None:
        self.write(f"datastores/{store}/global/{key}.yaml", {"value": value, **extra})

    def dsgit(
        self, *args: str, expect: int | None = 0, env: dict[str, str] | None = None
    ) -> Result:
        done = subprocess.run(
            [sys.executable, "-m", "dsgit", *args],
            cwd=self.root,
            env={**_env(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        result = Result(done.returncode, done.stdout, done.stderr)
        if expect is not None:
            assert result.code == expect, (
                f"dsgit {' '.join(args)} exited {result.code}, expected {expect}\n"
                f"--- stdout\n{result.out}\n--- stderr\n{result.err}"
            )
        return result

    def game_server(self) -> OpenCloudClient:
        """A client writing over HTTP as a game server would (no dsgit involved)."""
        return OpenCloudClient(
            UNIVERSE, base_url=self.url, api_key="game-server", budget=RateBudget.unlimited()
        )


@pytest.fixture
def repo(tmp_path: Path, served: Served) -> Repo:
    return Repo(tmp_path / "game", served.url)


def start_dsgit(root: Path, *args: str) -> subprocess.Popen[str]:
    """`dsgit ARGS...` in the background (to interrupt it), output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "dsgit", *args],
        cwd=root,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
