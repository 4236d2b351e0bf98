"""kill -9 at random points of ``dsgit migrate plan`` (a subprocess), then resume: the finished
plan migrates every matching, released profile exactly once, and the counts saved with each
checkpoint count every entry exactly once; apply, and a second run plans nothing."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dsgit.emulator import Emulator
from dsgit.remote.testing import emulated_client
from live_fixtures import seed_profiles
from support import LOCAL_CONFIG, write_files

pytestmark = pytest.mark.slow

PROFILES = 1600
MIGRATION = """version: 1
select:
  store: PlayerStore
  match: {properties: {Data: {not: {required: [Version]}}}}
transform:
  - rename: {path: /Data/Coins, to: Gold}
  - convert: {path: /Data/Level, to: string}
  - default: {path: /Data/Version, value: 2}
"""


def _run(root: Path, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "dsgit", "-C", str(root), *args]
    env = {**os.environ, "CI": "1", "NO_COLOR": "1"}
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def _plan(root: Path) -> subprocess.Popen[str]:
    return _run(
        root, "migrate", "plan", "v2", "--checkpoint-every", "40", "-o", "plan.json",
        "--format", "json",
    )  # fmt: skip


def _wait_for(path: Path, process: subprocess.Popen[str], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if path.exists():
            return True
        time.sleep(0.01)
    return False


def test_kill_nine_at_random_points_then_resume(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    root = write_files(
        tmp_path / "game",
        {"dsgit.yaml": LOCAL_CONFIG, "migrations/v2.yaml": MIGRATION, ".gitignore": ".dsgit/\n"},
    )
    (root / ".dsgit").mkdir()
    emulator = Emulator(db=root / ".dsgit/emulator.db", ccu=None)
    with emulated_client(emulator, universe_id=1, max_workers=8) as client:
        seed_profiles(client, PROFILES)  # user % 5 == 0 is held by a game server
    emulator.close()
    checkpoint = root / ".dsgit/scans/migrate-v2-local.json"
    kills = 0
    for _ in range(4):
        process = _plan(root)
        if not _wait_for(checkpoint, process, time.monotonic() + 120):
            process.communicate(timeout=120)
            break
        time.sleep(rng.uniform(0.0, 0.5))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.communicate(timeout=60)
        assert checkpoint.exists(), f"seed {seed}: no checkpoint after a kill"
    print(f"seed {seed}: {kills} kills")
    assert kills >= 1, f"seed {seed}: the scan ended before it could be killed"
    final = _plan(root)
    _out, err = final.communicate(timeout=600)
    assert final.returncode == 0, f"seed {seed}: {err}"
    assert "resuming the scan from" in err, seed
    plan = json.loads((root / "plan.json").read_text())
    keys = [int(change["address"].rsplit("/", 1)[1]) for change in plan["changes"]]
    assert sorted(keys) == [u for u in range(1, PROFILES + 1) if u % 5], f"seed {seed}"
    (summary,) = [d for d in plan["diagnostics"] if d["code"] == "DSP084"]
    assert summary["count"] == PROFILES, seed  # every entry counted once
    assert re.search(rf"{PROFILES:,} entries read", summary["message"]), seed
    (locked,) = [d for d in plan["diagnostics"] if d["code"] == "DSP070"]
    assert locked["count"] == PROFILES // 5, seed
    assert not checkpoint.exists()
    applied = _run(root, "apply", "plan.json")
    _out, err = applied.communicate(timeout=600)
    assert applied.returncode == 0, err
    again = _run(root, "migrate", "plan", "v2", "--format", "json")
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    rerun = json.loads(out)
    assert not [c for c in rerun["changes"] if c["actions"] != ["no-op"]]
    (matching,) = [d for d in rerun["diagnostics"] if d["code"] == "DSP083"]
    assert matching["count"] == PROFILES - PROFILES // 5
