"""kill -9 at random points of a live scan (``dsgit retention plan`` in a subprocess), then
resume: the finished plan holds every chosen entry exactly once, and the rule's tallies, saved
with each checkpoint, count every selected entry exactly once (none lost, none twice)."""

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

PROFILES = 2400
POLICY = """version: 1
rules:
  - name: inactive-profiles
    store: PlayerStore
    older_than: 730d
    timestamp: /MetaData/LastUpdate
    action: delete
    max_deletes: 100000
"""


def _start(root: Path) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "dsgit",
        "-C",
        str(root),
        "retention",
        "plan",
        "--checkpoint-every",
        "40",
        "-o",
        "plan.json",
        "--format",
        "json",
    ]
    env = {**os.environ, "CI": "1", "NO_COLOR": "1"}
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def _wait_for_checkpoint(path: Path, process: subprocess.Popen[str], deadline: float) -> bool:
    """True once a checkpoint exists and the process still runs."""
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
        {"dsgit.yaml": LOCAL_CONFIG, "policies/retention.yaml": POLICY, ".gitignore": ".dsgit/\n"},
    )
    (root / ".dsgit").mkdir()
    emulator = Emulator(db=root / ".dsgit/emulator.db", ccu=None)
    with emulated_client(emulator, universe_id=1, max_workers=8) as client:
        seed_profiles(client, PROFILES)
    emulator.close()
    checkpoint = root / ".dsgit/scans/retention-local.json"
    kills = 0
    for _ in range(4):
        process = _start(root)
        if not _wait_for_checkpoint(checkpoint, process, time.monotonic() + 120):
            process.communicate(timeout=120)
            break
        time.sleep(rng.uniform(0.0, 0.6))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.communicate(timeout=60)
        assert checkpoint.exists(), f"seed {seed}: no checkpoint after a kill"
    print(f"seed {seed}: {kills} kills")
    assert kills >= 1, f"seed {seed}: the scan ended before it could be killed"
    final = _start(root)
    _out, err = final.communicate(timeout=600)
    assert final.returncode == 0, f"seed {seed}: {err}"
    if kills:
        assert "resuming the scan from" in err
    plan = json.loads((root / "plan.json").read_text())
    keys = [change["address"].rsplit("/", 1)[1] for change in plan["changes"]]
    expected = [u for u in range(1, PROFILES + 1) if u % 4 == 0 and u % 5 != 0]
    assert sorted(int(key) for key in keys) == expected, f"seed {seed}"
    assert len(keys) == len(set(keys))
    (summary,) = [d for d in plan["diagnostics"] if d["code"] == "DSP073"]
    selected = re.search(r"\): ([\d,]+) selected", summary["message"])
    assert selected is not None and int(selected.group(1).replace(",", "")) == PROFILES, seed
    (locked,) = [d for d in plan["diagnostics"] if d["code"] == "DSP070"]
    assert locked["count"] == PROFILES // 20, seed  # users 20, 40, ...: old and held
    assert not checkpoint.exists()
