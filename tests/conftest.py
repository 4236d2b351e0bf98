"""Hermetic test settings: no network, no HOME, no ambient API keys."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# No hypothesis deadline anywhere: a per-example time limit is a timed assertion, and on a
# loaded CI machine it fails tests whose property holds (speed is measured in bench/).
settings.register_profile("dsgit", deadline=None)
settings.load_profile("dsgit")


@pytest.fixture(autouse=True)
def _hermetic(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    # `dsgit -C DIR` changes the process's folder, as `git -C` does: restore it after each test.
    monkeypatch.chdir(Path.cwd())
    for name in list(os.environ):
        if name.startswith(("DSGIT_", "ROBLOX_", "GITHUB_")) or name in {"CI"}:
            monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def repo_dir(tmp_path: Path) -> Path:
    return tmp_path / "repo"
