from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dsgit.insight.figures import Settings, StoreFigures
from dsgit.insight.html import DriftRow, LedgerDay, ReportData, render_html
from dsgit.insight.scan import ScanReport, Storage
from dsgit.remote.analytics_ops import StorageUsage
from support import invoke_cli, run_git

from .fixtures import catalog_item, entry, player_store
from .png import read_png
from .world import (
    CANARY,
    HOSTILE_KEY,
    HOSTILE_POINTER,
    change_live,
    make_report_repo,
    seed,
    seed_hostile,
)

# Read at import: the autouse hermetic fixture removes CI from each test's environment.
IN_CI = bool(os.environ.get("CI"))
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "span", "table",
    "thead", "tbody", "tr", "th", "td", "figure", "svg", "text", "rect", "line",
}  # fmt: skip


class Page(HTMLParser):
    """Every tag, attribute and text of a page, and whether its structure is balanced."""

    VOID = frozenset({"meta"})

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.open: list[str] = []
        self.style = ""
        self.unbalanced: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.unbalanced.append(tag)
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] == "style":
            self.style += data
        else:
            self.text.append(data)

    def tables(self) -> int:
        return self.tags.count("table")


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    assert page.unbalanced == [] and page.open == [], (page.unbalanced, page.open)
    return page


def assert_self_contained(page: Page) -> None:
    assert set(page.tags) <= ALLOWED_TAGS, set(page.tags) - ALLOWED_TAGS
    for name, value in page.attributes:
        assert name not in ("src", "href", "action", "srcset") and not name.startswith("on")
        assert "http://" not in (value or "") and "https://" not in (value or "")
    assert "url(" not in page.style and "@import" not in page.style


def sample_report() -> ReportData:
    players = StoreFigures("PlayerStore", "global", Settings(NOW))
    for item in player_store(30):
        players.add(item)
    players.keys = 30
    notes = StoreFigures("<Notes&>", "global", Settings(NOW))
    notes.add(entry("<Notes&>", HOSTILE_KEY, {HOSTILE_POINTER: "kid@example.com"}))
    notes.keys = 1
    catalog = StoreFigures("ShopCatalog", "global", Settings(NOW))
    catalog.add(entry("ShopCatalog", "item_0", catalog_item(0)))
    catalog.keys = 1
    scan = ScanReport(
        "local",
        1,
        NOW,
        None,
        365,
        (players.summary(), notes.summary(), catalog.summary()),
        Storage(
            40_000, 500 * 1024 * 1024, None, StorageUsage(12_345, "2026-12-03T12:00:00Z"), None
        ),
    )
    ledger = (LedgerDay("2026-12-01", 2, 5, 0), LedgerDay("2026-12-02", 1, 1, 1))
    drift = (DriftRow("changed", "ShopCatalog", "global", "</td><script>x</script>"),)
    return ReportData(scan, ledger, drift, None, NOW)


def test_report_is_one_self_contained_escaped_page() -> None:
    text = render_html(sample_report())
    page = parse(text)
    assert_self_contained(page)
    words = " ".join(page.text)
    # hostile store names, keys, pointers show as text, never as markup
    assert HOSTILE_KEY in words and "<Notes&>" in words and "</td><script>x</script>" in words
    assert "/<b>mail<~1b>" in words
    assert "kid@example.com" not in text  # a finding names the pointer, never the value
    for section in ("Stores", "Storage", "Conformance", "Revisions over time",
                    "Ledger activity", "Drift"):  # fmt: skip
        assert section in words
    # a chart per store (sizes), revisions, ledger and drift; each with its table
    assert page.tags.count("svg") == 3 + 3
    assert page.tables() >= 9
    assert "9,000,000" in words  # the hoarder, as an outlier
    assert "12.1 KB" in words  # the storage metric


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_report_repo(tmp_path / "repo")
    seed(root)
    seed_hostile(root)
    run_git(root, "init", "-q")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-qm", "declare")
    monkeypatch.chdir(root)
    return root


def make_report(root: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    code, out, err = invoke_cli(["plan", "-o", "plan.json"], capsys)
    assert code == 0, err
    code, out, err = invoke_cli(["apply", "plan.json"], capsys)
    assert code == 0, out + err
    change_live(root, "ShopCatalog", "item_0", catalog_item(0) | {"price": 1})  # drift
    code, out, err = invoke_cli(["report", "-o", "out/report.html", "-q"], capsys)
    assert code == 0, err
    assert out == "wrote out/report.html: 4 stores, 1 drifted entries\n"
    return root / "out" / "report.html"


def test_report_command_ledger_drift_and_no_secret(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_report(repo, capsys)
    text = path.read_text(encoding="utf-8")
    page = parse(text)
    assert_self_contained(page)
    words = " ".join(page.text)
    assert CANARY not in text and "kid@example.com" not in text
    assert HOSTILE_KEY in words and "<script>" not in text.replace("&lt;script&gt;", "")
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    cells = [cell.strip() for cell in page.text if cell.strip()]
    # ledger: one apply today with one change, complete
    ledger = cells[cells.index("Ledger activity") : cells.index("Drift")]
    assert any(ledger[i : i + 4] == [today, "1", "1", "0"] for i in range(len(ledger)))
    # drift: the catalog item changed live
    at = cells.index("Drift")
    assert cells[-4:] == ["changed", "ShopCatalog", "global", "item_0"]
    assert at < len(cells) - 4
    code, out, _ = invoke_cli(
        ["report", "-o", "out/r2.html", "--no-drift", "-q", "--format", "json"], capsys
    )
    assert code == 0 and json.loads(out) == {"file": "out/r2.html", "stores": 4, "drift": None}


def chromium() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        message = "chromium not found: `apt-get install -y chromium` (make test does it as root)"
        if IN_CI:
            pytest.fail(message + " — required in CI")
        pytest.skip(message)
    return found


@pytest.mark.slow
def test_report_renders_in_headless_chromium(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    browser = chromium()
    path = make_report(repo, capsys)
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1280,1600",
            f"--screenshot={shot}",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    width, height, rows = read_png(shot)
    assert (width, height) == (1280, 1600)
    colours = {row[x : x + 3] for row in rows[::8] for x in range(0, len(row), 24)}
    assert len(colours) > 8, "the screenshot is blank"
    # the size histograms' bars (#3b6fb6) are drawn
    bar = bytes((0x3B, 0x6F, 0xB6))
    assert sum(row.count(bar) for row in rows) > 1000
    # text: dark pixels on at least a tenth of the rows
    dark = sum(1 for row in rows if any(row[x] < 80 for x in range(0, len(row), 3)))
    assert dark > height // 10
