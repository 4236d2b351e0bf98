from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dsgit.emulator import Emulator
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import emulated_client
from support import LOCAL_CONFIG


@pytest.fixture
def root(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "dsgit.yaml").write_text(LOCAL_CONFIG)
    (repo / ".gitignore").write_text(".dsgit/\n")
    return repo


@pytest.fixture
def api() -> Iterator[OpenCloudClient]:
    """A real client talking to an in-process, in-memory emulator."""
    with emulated_client(Emulator(db=":memory:"), universe_id=1) as client:
        yield client
