"""Every relative link in README.md and docs/ points at a file (and heading) that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*$", re.M)


def _prose(text: str) -> str:
    """The text without code blocks and code spans, where `](x)` is not a link."""
    return _CODE.sub("", _FENCE.sub("", text))


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[`*_]|\[|\]\([^)]*\)", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_anchor(h) for h in _HEADING.findall(_FENCE.sub("", page.read_text("utf-8")))}


def _links(page: Path) -> list[str]:
    return [
        target
        for target in _LINK.findall(_prose(page.read_text("utf-8")))
        if not re.match(r"[a-z][a-z0-9+.-]*:", target)
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in _links(page):
        path, _, fragment = target.partition("#")
        dest = (page.parent / path) if path else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif fragment and dest.suffix == ".md" and fragment not in _anchors(dest):
            broken.append(f"{target}: no heading #{fragment} in {dest.name}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_docs_index_lists_every_page() -> None:
    index = ROOT / "docs" / "README.md"
    listed = {target.partition("#")[0] for target in _links(index)}
    pages = {p.name for p in (ROOT / "docs").glob("*.md")} - {"README.md"}
    assert pages - listed == set(), "pages missing from docs/README.md"
    assert "docs/README.md" in _links(ROOT / "README.md")


def test_anchor_matches_github() -> None:
    assert _anchor("Names on disk: the path encoding") == "names-on-disk-the-path-encoding"
    assert _anchor("`dsgit.yaml`") == "dsgityaml"
    assert _anchor("dsgit secrets keygen") == "dsgit-secrets-keygen"


@pytest.mark.parametrize(
    "group",
    [[], ["secrets"], ["audit"], ["emulator"], ["keys"], ["approvals"], ["github"]],
    ids=str,
)
def test_command_summaries_are_not_truncated(group: list[str]) -> None:
    """`dsgit --help` at 80 columns shows every command's whole one-line summary."""
    from click.testing import CliRunner

    from dsgit.cli.main import cli

    result = CliRunner().invoke(cli, [*group, "--help"], terminal_width=80)
    assert result.exit_code == 0
    commands = result.output.split("Commands:\n", 1)[1].splitlines()
    assert commands
    for line in commands:
        assert not line.rstrip().endswith("..."), line
        assert line.rstrip().endswith("."), line
