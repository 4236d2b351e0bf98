"""The planning core imports no I/O, crypto or thread library and no adapter (STYLE.md: a pure
core, adapters at the edges). Every module of ``dsgit.model`` and ``dsgit.plan`` is imported
here, so a new module is covered without being listed; the nested ruff.toml files ban the same
imports statically."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import dsgit.model
import dsgit.plan

RENDERERS = ["dsgit.render.text", "dsgit.render.markdown", "dsgit.render.json"]
BANNED = [
    "click",
    "httpx",
    "ruamel",
    "git",
    "yaml",
    "rich",
    "cryptography",
    "jsonschema",
    "threading",
    "concurrent.futures",
    "subprocess",
    "socket",
    "dsgit.crypto",
    "dsgit.remote",
    "dsgit.ledger",
    "dsgit.repo",
    "dsgit.planning",
    "dsgit.apply",
]


def core_modules() -> list[str]:
    found = []
    for package in (dsgit.model, dsgit.plan):
        found.append(package.__name__)
        found.extend(
            f"{package.__name__}.{info.name}" for info in pkgutil.iter_modules(package.__path__)
        )
    return sorted(found)


def test_every_core_module_imports_no_io_crypto_thread_or_adapter() -> None:
    modules = core_modules()
    assert "dsgit.plan.build" in modules and "dsgit.model.pointers" in modules
    script = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in [*modules, *RENDERERS])
        + f"print(sorted(m for m in {BANNED!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_checker_would_see_a_banned_import() -> None:
    # The same script over an adapter finds what it loads: the check above can fail.
    script = f"import dsgit.planning.read, sys\nprint([m for m in {BANNED!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert "dsgit.remote" in out and "threading" in out


def test_ruff_bans_the_same_imports_in_both_core_packages() -> None:
    for package in (dsgit.model, dsgit.plan):
        rules = (Path(package.__path__[0]) / "ruff.toml").read_text(encoding="utf-8")
        for name in ("click", "httpx", "git", "ruamel", "yaml", "rich", "cryptography"):
            assert f'"{name}".msg' in rules, (package.__name__, name)
        for name in ("threading", "concurrent", "dsgit.crypto", "dsgit.remote", "dsgit.ledger"):
            assert f'"{name}".msg' in rules, (package.__name__, name)
        assert 'banned-module-level-imports = ["jsonschema"]' in rules
