"""A real git repository of dsgit files, written and committed from tests."""

from __future__ import annotations

from pathlib import Path

import yaml

from dsgit.model.entry import JSONValue
from support import run_git

CONFIG = """\
version: 1
default_environment: local
environments:
  local:
    universe_id: 7
    emulator: .dsgit/emulator.db
"""


class GitRepo:
    """A dsgit repository under ``root``, committed with ``commit``."""

    def __init__(self, root: Path, config: str = CONFIG) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "dsgit.yaml").write_text(config, encoding="utf-8")
        (root / ".gitignore").write_text(".dsgit/\naudit/\n*.json\n", encoding="utf-8")
        self.git("init", "--quiet")

    def git(self, *args: str) -> str:
        return run_git(self.root, *args)

    def write_store(self, store: str, settings: dict[str, JSONValue]) -> None:
        folder = self.root / "datastores" / store
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "_store.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")

    def write_entry(self, store: str, key: str, value: JSONValue, scope: str = "global") -> None:
        folder = self.root / "datastores" / store / scope
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{key}.yaml").write_text(yaml.safe_dump({"value": value}), encoding="utf-8")

    def remove_entry(self, store: str, key: str, scope: str = "global") -> None:
        (self.root / "datastores" / store / scope / f"{key}.yaml").unlink()

    def commit(self, message: str = "change") -> str:
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")
