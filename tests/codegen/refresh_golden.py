"""Rewrite the golden Luau output of the example repository (tests/codegen/golden/).

Run after changing the generator or the example, then review the diff::

    .venv/bin/python tests/codegen/refresh_golden.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from dsgit.codegen.writer import run_luau
from dsgit.repo.scaffold import init_repository

EXAMPLE = "obby-tycoon"
GOLDEN = Path(__file__).resolve().parent / "golden" / EXAMPLE


def example_repository(folder: Path) -> Path:
    """``dsgit init --example obby-tycoon`` into ``folder`` (a fresh key: no env is read)."""
    root = folder / EXAMPLE
    init_repository(root, EXAMPLE, env={})
    return root


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        run = run_luau(example_repository(Path(folder)), GOLDEN, "DsgitTypes", check=False)
    changed = (*run.state.stale, *run.state.missing, *run.state.extra)
    print(f"{GOLDEN}: {len(changed)} file(s) changed" + "".join(f"\n  {p}" for p in changed))


if __name__ == "__main__":
    main()
