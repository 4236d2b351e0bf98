"""The planning core imports no I/O library (STYLE.md: a pure core, adapters at the edges)."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "dsgit.plan.model",
    "dsgit.plan.digest",
    "dsgit.plan.values",
    "dsgit.plan.masking",
    "dsgit.plan.jsondiff",
    "dsgit.plan.codes",
    "dsgit.plan.desired",
    "dsgit.plan.live",
    "dsgit.plan.ledger",
    "dsgit.plan.targets",
    "dsgit.plan.compare",
    "dsgit.plan.build",
    "dsgit.plan.storechecks",
    "dsgit.render.text",
    "dsgit.render.markdown",
    "dsgit.render.json",
]
BANNED = ["click", "httpx", "ruamel", "git", "yaml", "rich"]


def test_core_modules_import_no_io_library() -> None:
    script = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in CORE)
        + f"print(sorted(m for m in {BANNED!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
