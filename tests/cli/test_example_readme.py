"""The example's README, as `dsgit init --example` copies it: every relative link resolves in
the copy (the copy has no dsgit source tree around it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support import invoke_cli

_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_links_of_the_copied_example_readme_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = invoke_cli(["init", str(tmp_path / "game"), "--example", "obby-tycoon"], capsys)
    assert code == 0, err
    readme = tmp_path / "game" / "README.md"
    text = readme.read_text(encoding="utf-8")
    for target in _LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue  # an absolute URL
        assert (readme.parent / target).resolve().exists(), f"broken link in the copy: {target}"
