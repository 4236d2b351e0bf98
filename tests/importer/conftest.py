from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dsgit.emulator import Emulator
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import emulated_client

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
def api() -> Iterator[OpenCloudClient]:
    """A real client talking to an in-process, in-memory emulator."""
    with emulated_client(Emulator(db=":memory:"), universe_id=1) as client:
        yield client
