"""Comparing generated modules with a folder and bringing it up to date (the only I/O)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dsgit.codegen import generate_luau
from dsgit.codegen.writer import apply_output, compare_output
from dsgit.errors import ConfigError

from .fixtures import CATALOG_ITEM, PROFILE, declaration

SCHEMAS = {"schemas/p.json": PROFILE, "schemas/c.json": CATALOG_ITEM}


def files(**stores: str) -> dict[str, str]:
    return dict(generate_luau(declaration(SCHEMAS, stores)).files)


def sync(out: Path, wanted: dict[str, str]) -> None:
    apply_output(out, wanted, compare_output(out, "DsgitTypes", wanted))


def test_an_empty_folder_misses_every_file_and_writing_makes_it_up_to_date(tmp_path: Path) -> None:
    wanted = files(PlayerStore="schemas/p.json", Shop="schemas/c.json")
    state = compare_output(tmp_path / "out", "DsgitTypes", wanted)
    assert state.missing == tuple(sorted(wanted)) and not state.up_to_date
    assert not (tmp_path / "out").exists()  # comparing writes nothing
    sync(tmp_path / "out", wanted)
    assert compare_output(tmp_path / "out", "DsgitTypes", wanted).up_to_date
    for relative, text in wanted.items():
        assert (tmp_path / "out" / relative).read_bytes() == text.encode()


def test_stale_extra_and_hand_written_files(tmp_path: Path) -> None:
    before = files(PlayerStore="schemas/p.json", Shop="schemas/c.json")
    sync(tmp_path, before)
    folder = tmp_path / "DsgitTypes"
    (folder / "Helpers.luau").write_text("--!strict\nreturn {}\n", encoding="utf-8")
    (folder / "Shop.luau").write_text(before["DsgitTypes/Shop.luau"] + "-- edited\n")
    after = files(PlayerStore="schemas/p.json")  # Shop removed from the repository
    state = compare_output(tmp_path, "DsgitTypes", after)
    assert state.stale == ("DsgitTypes/init.luau",)
    assert state.extra == ("DsgitTypes/Shop.luau",)  # generated earlier: dsgit's to delete
    assert state.unchanged == ("DsgitTypes/PlayerStore.luau",)
    apply_output(tmp_path, after, state)
    assert not (folder / "Shop.luau").exists()
    assert (folder / "Helpers.luau").read_text() == "--!strict\nreturn {}\n"  # never touched
    assert compare_output(tmp_path, "DsgitTypes", after).up_to_date


def test_unchanged_files_are_not_rewritten(tmp_path: Path) -> None:
    wanted = files(PlayerStore="schemas/p.json", Shop="schemas/c.json")
    sync(tmp_path, wanted)
    player = tmp_path / "DsgitTypes/PlayerStore.luau"
    os.utime(player, (1_000_000, 1_000_000))
    changed = files(PlayerStore="schemas/p.json", Shop="schemas/c.json", Third="schemas/c.json")
    sync(tmp_path, changed)
    assert player.stat().st_mtime == 1_000_000  # Rojo's live sync sees no change there
    assert (tmp_path / "DsgitTypes/Third.luau").is_file()


def test_a_symlink_in_place_of_a_module_is_replaced_not_followed(tmp_path: Path) -> None:
    wanted = files(Shop="schemas/c.json")
    outside = tmp_path / "outside.luau"
    outside.write_text("keep me", encoding="utf-8")
    folder = tmp_path / "out/DsgitTypes"
    folder.mkdir(parents=True)
    (folder / "Shop.luau").symlink_to(outside)
    state = compare_output(tmp_path / "out", "DsgitTypes", wanted)
    assert "DsgitTypes/Shop.luau" in state.stale
    apply_output(tmp_path / "out", wanted, state)
    assert outside.read_text() == "keep me"
    assert not (folder / "Shop.luau").is_symlink()


def test_a_file_where_the_module_folder_goes_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "DsgitTypes").write_text("not a folder", encoding="utf-8")
    with pytest.raises(ConfigError, match="exists and is not a folder"):
        compare_output(tmp_path, "DsgitTypes", files(Shop="schemas/c.json"))
