"""The fake GitHub API as a fixture: started on 127.0.0.1, stopped after the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .action_world import TOKEN, ActionWorld
from .fake_github import FakeGitHub


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token="test-token-not-secret") as gh:
        yield gh


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ActionWorld]:
    """A checkout, the fake GitHub (requiring the run's token) and embedded emulators."""
    with FakeGitHub(token=TOKEN) as gh:
        yield ActionWorld(tmp_path, gh, monkeypatch)
