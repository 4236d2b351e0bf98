"""The output for the example repository is committed (tests/codegen/golden/) and compared.

To refresh it after a deliberate change: ``.venv/bin/python tests/codegen/refresh_golden.py``,
then review the diff like any other code change.
"""

from __future__ import annotations

from pathlib import Path

from dsgit.codegen.writer import run_luau

from .refresh_golden import GOLDEN, example_repository


def test_the_example_repository_generates_exactly_the_golden_files(tmp_path: Path) -> None:
    run = run_luau(example_repository(tmp_path), GOLDEN, "DsgitTypes", check=True)
    assert run.state.up_to_date, (
        f"stale {run.state.stale}, missing {run.state.missing}, extra {run.state.extra}: "
        "run `.venv/bin/python tests/codegen/refresh_golden.py` and review the diff"
    )
    on_disk = sorted(p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*") if p.is_file())
    assert on_disk == sorted(run.modules.files)  # nothing else in the golden folder


def test_the_golden_output_covers_the_example_stores() -> None:
    folder = GOLDEN / "DsgitTypes"
    index = (folder / "init.luau").read_text(encoding="utf-8")
    assert '\t\tDATA_12345 = "DATA/12345",\n' in index  # DataStore2's standard store
    assert '\tOrderedDataStores = {\n\t\tDATA_12345 = "DATA/12345",\n' in index  # and ordered
    assert "export type PlayerStore = PlayerStore.Value\n" in index
    shop = (folder / "ShopCatalog.luau").read_text(encoding="utf-8")
    assert '\tcurrency: "coins" | "gems" | "robux",\n' in shop
    assert "\tstats: { [string]: number }?,\n" in shop
    profile = (folder / "PlayerStore.luau").read_text(encoding="utf-8")
    assert "\t\tActiveSession: {\n\t\t\tPlaceId: number,\n" in profile
    for path in folder.iterdir():
        data = path.read_bytes()
        assert data.endswith(b"\n") and not data.endswith(b"\n\n") and b"\r" not in data
