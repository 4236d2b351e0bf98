"""Exit codes of DESIGN.md §3 as a script sees them: `dsgit` in subprocesses against a served
emulator, for every path the main journey test does not take."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dsgit.errors import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_POLICY,
    EXIT_STALE,
)

from .conftest import SERVED_KEY_ENV, UNIVERSE, Repo, serve, start_dsgit

pytestmark = pytest.mark.slow

CANARY_KEY = "canary-key-4c1d9e7f"


def _environments(url: str) -> dict[str, object]:
    fast = {"ccu": 20000, "share": 1}
    key = {"api_key_env": SERVED_KEY_ENV}
    return {
        "other": {"universe_id": UNIVERSE + 1, "url": url, "budget": fast, **key},
        "prod": {"universe_id": UNIVERSE, "url": url, "budget": fast, "protected": True, **key},
        "keyed": {
            "universe_id": UNIVERSE,
            "url": url,
            "budget": fast,
            "api_key_env": "DSGIT_E2E_KEY",
        },
    }


def test_usage_config_stale_and_policy_exits(tmp_path: Path) -> None:
    with serve("--ccu", "20000") as served:
        repo = Repo(tmp_path / "game", served.url, _environments(served.url))
        repo.entry("Config", "motd", "Welcome!")
        repo.commit("first")

        # usage errors are 1, not click's 2 (which means "changes found")
        assert "--bogus" in repo.dsgit("plan", "--bogus", expect=EXIT_ERROR).err
        repo.dsgit("frobnicate", expect=EXIT_ERROR)
        repo.dsgit("apply", expect=EXIT_ERROR)  # PLAN is required
        repo.dsgit("plan", "--format", "yaml", expect=EXIT_ERROR)
        unknown = repo.dsgit("plan", "-e", "nope", expect=EXIT_ERROR)
        assert "nope" in unknown.err and "Traceback" not in unknown.err

        # an API key variable that is unset: named, exit 1
        unset = repo.dsgit("plan", "-e", "keyed", expect=EXIT_ERROR)
        assert "DSGIT_E2E_KEY" in unset.err and "Traceback" not in unset.err

        # plan --detailed-exitcode: 2 with changes, 0 without; plain plan: 0 either way
        repo.dsgit("plan", expect=EXIT_OK)
        repo.dsgit("plan", "--detailed-exitcode", "-o", "plans/p.json", expect=EXIT_CHANGES)
        repo.dsgit("apply", "plans/p.json", expect=EXIT_OK)
        repo.dsgit("plan", "--detailed-exitcode", expect=EXIT_OK)
        repo.dsgit("drift", expect=EXIT_OK)

        # a plan for another environment (and universe): stale, nothing written
        repo.entry("Config", "motd", "Sale!")
        repo.commit("sale")
        repo.dsgit("plan", "-e", "other", "-o", "plans/other.json")
        wrong = repo.dsgit("apply", "plans/other.json", "-e", "served", expect=EXIT_STALE)
        assert "other" in wrong.err

        # expired plan: stale
        repo.dsgit("plan", "--expires-in", "1s", "-o", "plans/short.json")
        time.sleep(1.2)
        expired = repo.dsgit("apply", "plans/short.json", expect=EXIT_STALE)
        assert "expire" in expired.err

        # protected environment without approvals: refused by policy
        repo.dsgit("plan", "-e", "prod", "-o", "plans/prod.json")
        refused = repo.dsgit("apply", "plans/prod.json", "-e", "prod", expect=EXIT_POLICY)
        assert "protected" in refused.err

        got = json.loads(repo.dsgit("get", "Config", "motd", "--format", "json").out)
        assert got["value"] == "Welcome!"  # none of the refused applies wrote anything


def test_remote_errors_name_the_request_never_the_key(tmp_path: Path) -> None:
    with serve("--ccu", "20000", "--api-key", "the-right-key") as served:
        repo = Repo(tmp_path / "game", served.url, _environments(served.url))
        repo.entry("Config", "motd", "Welcome!")
        repo.commit("first")
        denied = repo.dsgit("plan", "-e", "keyed", env={"DSGIT_E2E_KEY": CANARY_KEY}, expect=1)
        assert "401" in denied.err and "GET" in denied.err and "/v2/" in denied.err
        assert CANARY_KEY not in denied.err + denied.out
        assert denied.out == ""  # no plan at all, never "the live state matches"
        listing = repo.dsgit("ls", "-e", "keyed", env={"DSGIT_E2E_KEY": CANARY_KEY}, expect=1)
        assert "GET /cloud/v2/universes/4242/data-stores" in listing.err and "401" in listing.err
        assert CANARY_KEY not in listing.err + listing.out
        assert "Traceback" not in denied.err
        good = repo.dsgit(
            "plan",
            "-e",
            "keyed",
            "--detailed-exitcode",
            env={"DSGIT_E2E_KEY": "the-right-key"},
            expect=EXIT_CHANGES,
        )
        assert "the-right-key" not in good.out + good.err


def _interrupt(
    process_args: tuple[str, ...],
    root: Path,
    after: float,
    ready: Callable[[], bool] | None = None,
) -> tuple[int, str]:
    """SIGINT the command ``after`` seconds in, or as soon as ``ready()`` holds (polled, so a
    loaded machine cannot make the signal land before the work it must cut)."""
    process = start_dsgit(root, *process_args)
    if ready is None:
        time.sleep(after)
    else:
        deadline = time.monotonic() + 120
        while not ready() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return process.returncode, out + err


def _some_write_done(root: Path) -> bool:
    """A journal of this repository records a finished write."""
    return any('"t":"done"' in path.read_text() for path in root.glob(".dsgit/journal/*.jsonl"))


def test_ctrl_c_during_apply_exits_130_and_a_rerun_resumes(tmp_path: Path) -> None:
    # one write in flight at a time, each ~100 ms: the interrupt lands mid-apply
    with serve("--no-rate-limits", "--faults", "latency=100ms") as served:
        repo = Repo(tmp_path / "game", served.url)
        for number in range(40):
            repo.entry("Shop", f"item{number:02d}", {"price": number})
        repo.commit("shop")
        repo.dsgit("plan", "-o", "plans/shop.json")

        code, output = _interrupt(
            ("apply", "plans/shop.json", "--workers", "1"),
            repo.root,
            0,
            ready=lambda: _some_write_done(repo.root),
        )
        assert code == EXIT_INTERRUPTED, output
        assert "Interrupted" in output and "Traceback" not in output
        written = len(repo.dsgit("ls", "Shop").out.split())
        assert 0 < written < 40

        resumed = repo.dsgit("apply", "plans/shop.json", "--workers", "8")
        assert "Resumed apply" in resumed.out
        assert "Traceback" not in resumed.err
        assert repo.dsgit("ls", "Shop").out.split() == [f"item{n:02d}" for n in range(40)]
        repo.dsgit("plan", "--detailed-exitcode", expect=EXIT_OK)
        repo.dsgit("audit", "verify")


def test_ctrl_c_during_plan_exits_130_and_writes_no_plan(tmp_path: Path) -> None:
    # every request takes 1.5 s: the interrupt lands while the plan reads live data
    with serve("--no-rate-limits", "--faults", "latency=1500ms") as served:
        repo = Repo(tmp_path / "game", served.url)
        repo.entry("Shop", "sword", {"price": 1})
        repo.commit("shop")
        code, output = _interrupt(("plan", "-o", "plans/cut.json"), repo.root, 2.5)
        assert code == EXIT_INTERRUPTED, output
        assert "Interrupted" in output and "Traceback" not in output
        assert not (repo.root / "plans/cut.json").exists()
