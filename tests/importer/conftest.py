from __future__ import annotations

from pathlib import Path

import pytest

from importer_fake_api import FakeApi

DSGIT_YAML = """\
version: 1
default_environment: local
environments:
  local:
    universe_id: 1
    emulator: .dsgit/emulator.db
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "dsgit.yaml").write_text(DSGIT_YAML)
    (repo / ".gitignore").write_text(".dsgit/\n")
    return repo


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()
