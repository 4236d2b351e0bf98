"""``dsgit apply`` in a subprocess, killed with SIGKILL at random moments, then resumed."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dsgit.emulator import FaultSpec
from dsgit.ledger import ChangeRecord, Ledger, verify_ledger
from dsgit.model.entry import EntryData
from dsgit.remote.testing import emulated_client

from .conftest import revision_counting_emulator

STORES = 30
COUNTERS = 6


def write_repo(root: Path, url: str) -> None:
    files = {
        "dsgit.yaml": (
            "version: 1\ndefault_environment: served\nenvironments:\n  served:\n"
            f"    universe_id: 1\n    url: {url}\n    budget: {{ccu: 100000, share: 1}}\n"
            "    api_key_env: DSGIT_KILL_KEY\n"  # served: a key is required, any passes
        ),
        "datastores/Stats/_store.yaml": "counters: ['c*']\n",
    }
    for n in range(STORES):
        files[f"datastores/Data/global/k{n}.yaml"] = f"value:\n  n: {n}\n  tag: new\n"
    for n in range(COUNTERS):
        files[f"datastores/Stats/global/c{n}.yaml"] = f"value: {100 + n}\n"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def dsgit(root: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "dsgit", "-C", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "CI": "1", "DSGIT_KILL_KEY": "any"},
    )


@pytest.mark.slow
def test_kill_9_at_random_moments_then_resume(tmp_path: Path) -> None:
    rng = random.Random(20261124)
    root = tmp_path / "repo"
    emulator = revision_counting_emulator(faults=FaultSpec(latency_min=0.03, latency_max=0.06))
    with emulator.serve() as served, emulated_client(emulator) as client:
        for n in range(STORES // 2):  # half exist (updates), half are created
            client.create_entry("Data", f"k{n}", EntryData({"n": n, "tag": "old"}))
        for n in range(COUNTERS):
            client.create_entry("Stats", f"c{n}", EntryData(n))
        write_repo(root, served.url)
        planned = dsgit(root, "plan", "-o", str(root / "plan.json"))
        _, err = planned.communicate(timeout=60)
        assert planned.returncode == 0, err.decode()

        digest = json.loads((root / "plan.json").read_text())["digest"]
        journal = root / ".dsgit/journal" / (digest.removeprefix("sha256:") + ".jsonl")
        kills = 0
        for _ in range(4):
            size = journal.stat().st_size if journal.exists() else 0
            run = dsgit(root, "apply", "plan.json", "--workers", "3")
            # Wait until this run is journaling (past imports and checks), then kill it at a
            # random moment among its writes.
            deadline = time.monotonic() + 30
            while run.poll() is None and time.monotonic() < deadline:
                if journal.exists() and journal.stat().st_size > size + 200:
                    break
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.5))
            if run.poll() is not None:
                run.communicate()
                break
            run.send_signal(signal.SIGKILL)
            run.communicate(timeout=30)
            kills += 1

        final = dsgit(root, "apply", "plan.json")
        out, err = final.communicate(timeout=120)
        assert final.returncode == 0, (out + err).decode()
        assert kills >= 1  # the first run is always killed part way (it journals for > 0.5 s)

        for n in range(STORES):
            live = client.get_entry("Data", f"k{n}")
            assert live is not None and live.value == {"n": n, "tag": "new"}
            revisions = len(list(client.list_revisions("Data", f"k{n}")))
            assert revisions == (2 if n < STORES // 2 else 1), f"k{n} written {revisions} times"
        for n in range(COUNTERS):
            live = client.get_entry("Stats", f"c{n}")
            assert live is not None and live.value == 100 + n  # incremented exactly once
            assert len(list(client.list_revisions("Stats", f"c{n}"))) == 2

    report = verify_ledger(root)
    assert report.ok, report.problems
    written = [
        r.body.address
        for r in Ledger(root).records()
        if isinstance(r.body, ChangeRecord) and r.body.outcome == "written"
    ]
    assert len(written) == len(set(written)) == STORES + COUNTERS
