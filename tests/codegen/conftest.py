"""StyLua, a real Luau parser, for the codegen tests: ``stylua --syntax luau --check``.

Installed by ``make stylua`` (``make test`` and ``.ci/run`` do it) from the npm package
``@johnnymorganz/stylua-bin`` into ``.venv/node_modules``. Without it these tests skip on a
developer's machine and FAIL in CI (the ``CI`` environment variable is set), so CI can never
pass without parsing the generated Luau.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Read at import: the autouse hermetic fixture removes CI from the environment of each test.
IN_CI = bool(os.environ.get("CI"))
_STYLUA_ENV = os.environ.get("STYLUA")  # an explicit binary, e.g. a system install

LuauCheck = Callable[..., None]


def stylua_path() -> Path | None:
    if _STYLUA_ENV:  # an explicit choice: only that one
        candidates = [Path(_STYLUA_ENV)]
    else:
        candidates = [ROOT / ".venv" / "node_modules" / ".bin" / "stylua"]
        found = shutil.which("stylua")
        if found:
            candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def stylua() -> Path:
    path = stylua_path()
    message = (
        "StyLua not found: run `make stylua` (npm install of @johnnymorganz/stylua-bin "
        "into .venv/node_modules) or set STYLUA"
    )
    if path is None:
        if IN_CI:
            pytest.fail(message + " — required in CI")
        pytest.skip(message)
    version = subprocess.run(
        [str(path), "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    if version.returncode != 0 or not version.stdout.startswith("stylua "):
        pytest.fail(f"{path} does not run: {version.stdout}{version.stderr}")
    return path


@pytest.fixture
def luau_check(stylua: Path, tmp_path_factory: pytest.TempPathFactory) -> LuauCheck:
    """Write the files to a fresh folder and run StyLua on them: every file must parse as
    Luau (exit 2 is a parse error) and, unless ``formatted=False``, already be laid out as
    StyLua formats it (exit 1 shows the difference)."""

    def check(files: Mapping[str, str], *, formatted: bool = True) -> None:
        folder = tmp_path_factory.mktemp("luau")
        for relative, text in files.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
        result = subprocess.run(
            [str(stylua), "--syntax", "luau", "--check", "--no-editorconfig", "."],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        output = result.stdout + result.stderr
        assert "error parsing" not in output, output
        assert result.returncode in ((0,) if formatted else (0, 1)), output

    return check
