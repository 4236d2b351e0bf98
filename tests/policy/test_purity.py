"""The policy core imports no I/O library (STYLE.md: a pure core, adapters at the edges)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dsgit.policy

CORE = [
    "dsgit.policy",
    "dsgit.policy.model",
    "dsgit.policy.parse",
    "dsgit.policy.classes",
    "dsgit.policy.signature",
    "dsgit.policy.verdict",
    "dsgit.policy.evaluate",
    "dsgit.policy.render",
]
BANNED = ["click", "httpx", "ruamel", "git", "yaml", "rich", "dsgit.github", "dsgit.approvals"]


def test_policy_modules_import_no_io_library() -> None:
    script = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in CORE)
        + f"print(sorted(m for m in {BANNED!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_every_policy_module_is_checked_and_ruff_bans_io_there() -> None:
    folder = Path(dsgit.policy.__file__).parent
    modules = {f"dsgit.policy.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__"}
    assert modules <= set(CORE)
    rules = (folder / "ruff.toml").read_text()
    for name in ("click", "httpx", "git", "ruamel", "yaml", "rich"):
        assert f'"{name}".msg' in rules
