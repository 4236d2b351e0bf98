"""Honest progress: a 2,000-entry plan at `ccu: 0` in CI mode announces the budget, prints
progress lines on stderr (never on the JSON stdout), and Ctrl-C says how far it got."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dsgit.errors import EXIT_INTERRUPTED

from .conftest import SERVED_KEY_ENV, UNIVERSE, Repo, _env, serve

pytestmark = pytest.mark.slow

ENTRIES = 2000
COMMAND = (sys.executable, "-m", "dsgit")


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.put(line.rstrip("\n"))


def test_a_long_plan_announces_its_budget_and_reports_progress_in_ci(tmp_path: Path) -> None:
    with serve("--ccu", "0") as served:
        slow = {
            "universe_id": UNIVERSE,
            "url": served.url,
            "api_key_env": SERVED_KEY_ENV,
            "budget": {"ccu": 0},
        }
        repo = Repo(tmp_path / "game", served.url, {"slow": slow})
        # an observed store: every declared entry is read, listing nothing (2,000 reads)
        repo.write("datastores/Players/_store.yaml", {"ownership": "observed"})
        folder = repo.root / "datastores/Players/global"
        folder.mkdir(parents=True)
        for number in range(ENTRIES):
            (folder / f"user{number}.yaml").write_text(f"value: {number}\n", encoding="utf-8")
        repo.commit("players")

        process = subprocess.Popen(
            [*COMMAND, "plan", "-e", "slow", "--format", "json", "-o", "plans/p.json"],
            cwd=repo.root,
            env={**_env(), "CI": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        seen: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=_lines, args=(process.stderr, seen), daemon=True)
        reader.start()
        lines: list[str] = []
        deadline = time.monotonic() + 90
        try:
            while sum(line.startswith("plan: ") for line in lines) < 2:
                lines.append(seen.get(timeout=max(0.1, deadline - time.monotonic())))
        finally:
            process.send_signal(signal.SIGINT)
            out = process.stdout.read() if process.stdout is not None else ""
            process.wait(timeout=60)
            reader.join(timeout=10)
            if process.stdout is not None:
                process.stdout.close()
            if process.stderr is not None:
                process.stderr.close()
        while not seen.empty():
            lines.append(seen.get())

    notice = lines[0]
    assert notice.startswith("note: about 2,000 reads at the rate budget of environment 'slow'")
    assert "150 reads a minute" in notice and "ccu: 0, share: 0.5" in notice
    assert "13m 20s" in notice and "`budget.ccu`" in notice and "`budget.share`" in notice
    assert sum(line.startswith("note:") for line in lines) == 1  # said once
    progress = [line for line in lines if line.startswith("plan: ") and "of ~" in line]
    assert len(progress) >= 2
    assert "of ~2,000 requests" in progress[0] and "/s" in progress[0] and "left" in progress[0]
    assert process.returncode == EXIT_INTERRUPTED
    assert any("interrupted after" in line and "of ~2,000" in line for line in lines), lines
    assert out == ""  # nothing on the JSON stdout: no progress, no half a plan
    assert not (repo.root / "plans/p.json").exists()
