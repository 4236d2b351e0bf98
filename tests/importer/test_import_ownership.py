"""Import never makes player data git-owned: new stores get an explicit ownership, and the next
plan honours it (ProfileStore saves, DataStore2 stores and their ordered twins are observed)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from dsgit.cli import importing
from dsgit.emulator import Emulator
from dsgit.importer.ownership import SampledEntry, player_data_reason
from dsgit.model.entry import EntryData, StoreKind
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import emulated_client
from support import invoke_cli

PROFILE = {
    "Data": {"Coins": 900, "Inventory": ["sword", "shield"]},
    "MetaData": {"ProfileCreateTime": 1721677235, "SessionLoadCount": 12, "ActiveSession": []},
    "GlobalUpdates": [0, []],
    "UserIds": [45348281],
}


def run(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return invoke_cli(["-C", str(root), *args], capsys)


def live(root: Path) -> Emulator:
    (root / ".dsgit").mkdir(exist_ok=True)
    return Emulator(db=root / ".dsgit/emulator.db")


def game_writes(root: Path, write: Any) -> None:
    """What a game server does meanwhile, straight to the environment's emulator."""
    with live(root) as emulator, emulated_client(emulator, universe_id=1) as client:
        write(client)


def plan(root: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code, out, err = run(root, capsys, "plan", "--format", "json")
    assert code == 0, err
    payload: dict[str, Any] = json.loads(out)
    return payload


def writes(payload: dict[str, Any]) -> dict[str, str]:
    """Address -> action of every change the plan would write."""
    return {
        change["address"]: "+".join(change["actions"])
        for change in payload["changes"]
        if change["actions"] != ["noop"]
    }


def test_player_data_imported_from_the_emulator_cannot_be_written_by_the_next_plan(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def seed(client: OpenCloudClient) -> None:
        # ProfileStore saves (keys that say nothing) and a DataStore2 OrderedBackups player:
        # the standard store DATA/45348281 and its ordered twin of the same name.
        client.update_entry("PlayerProfiles", "main", EntryData(PROFILE), allow_missing=True)
        client.update_entry(
            "DATA/45348281", "1721677235", EntryData({"coins": 10}), allow_missing=True
        )
        client.update_ordered("DATA/45348281", "1721677235", 1721677235, allow_missing=True)

    game_writes(root, seed)
    code, out, err = run(
        root, capsys, "import", "--store", "PlayerProfiles", "--store", "DATA/45348281"
    )
    assert code == 0, err
    assert "  PlayerProfiles         observed  new _store.yaml: the value of 'main' is a " in out
    assert (
        "  DATA/45348281          observed  new _store.yaml: the name 'DATA/45348281' is a "
        "DataStore2 per-player store" in out
    )
    assert (
        "  ordered:DATA/45348281  observed  new _store.yaml: the name 'DATA/45348281' is a "
        "DataStore2 per-player ordered store" in out
    )
    for settings in (
        "datastores/PlayerProfiles/_store.yaml",
        "datastores/DATA%2F45348281/_store.yaml",
        "ordered/DATA%2F45348281/_store.yaml",
    ):
        assert (root / settings).read_text().endswith("ownership: observed\n"), settings

    # The player plays on and spends coins; a backup is added; someone edits the imported file.
    def play(client: OpenCloudClient) -> None:
        spent = {**PROFILE, "Data": {"Coins": 50, "Inventory": ["sword"]}}
        client.update_entry("PlayerProfiles", "main", EntryData(spent))
        client.update_entry("DATA/45348281", "1721677235", EntryData({"coins": 3}))
        client.update_ordered("DATA/45348281", "1721677235", 5)

    game_writes(root, play)
    entry = root / "datastores/PlayerProfiles/global/main.yaml"
    entry.write_text(entry.read_text().replace("Coins: 900", "Coins: 1000000"))
    payload = plan(root, capsys)
    assert writes(payload) == {}
    codes = {diagnostic["code"] for diagnostic in payload["diagnostics"]}
    assert "DSP032" in codes  # observed entries differ: reported, never written
    with live(root) as emulator, emulated_client(emulator, universe_id=1) as client:
        save = client.get_entry("PlayerProfiles", "main")
        assert save is not None and save.value["Data"]["Coins"] == 50  # type: ignore[index]


def seed_config(root: Path) -> None:
    game_writes(
        root,
        lambda client: client.update_entry(
            "Shop", "sword", EntryData({"price": 100}), allow_missing=True
        ),
    )


def change_live_and_file(root: Path) -> None:
    """Live moves to 150; git says 120; a key only git has is added."""
    game_writes(
        root, lambda client: client.update_entry("Shop", "sword", EntryData({"price": 150}))
    )
    (root / "datastores/Shop/global/sword.yaml").write_text("value:\n  price: 120\n")
    (root / "datastores/Shop/global/shield.yaml").write_text("value:\n  price: 80\n")


@pytest.mark.parametrize(
    ("ownership", "expected"),
    [
        # owned: git wins, the live difference is planned as an update
        ("owned", {"Shop/global/sword": "update", "Shop/global/shield": "create"}),
        # seed: created when missing, never overwritten
        ("seed", {"Shop/global/shield": "create"}),
        # observed: never written
        ("observed", {}),
    ],
)
def test_each_ownership_chosen_with_the_flag_is_what_the_next_plan_does(
    root: Path, capsys: pytest.CaptureFixture[str], ownership: str, expected: dict[str, str]
) -> None:
    seed_config(root)
    code, out, err = run(root, capsys, "import", "--standard-only", "--ownership", ownership)
    assert code == 0, err
    assert f"  Shop  {ownership:<8}  new _store.yaml: --ownership {ownership}" in out
    text = (root / "datastores/Shop/_store.yaml").read_text()
    assert text.endswith(f"ownership: {ownership}\n")
    change_live_and_file(root)
    assert {
        address.removeprefix("standard:"): action
        for address, action in writes(plan(root, capsys)).items()
    } == expected


def test_the_ownership_chosen_at_the_prompt_is_written(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_config(root)
    monkeypatch.setattr(importing, "_is_interactive", lambda: True)
    monkeypatch.setattr("sys.stdin", io.StringIO("seed\n"))
    code, _out, err = run(root, capsys, "import", "--standard-only")
    assert code == 0, err
    assert "Ownership of Shop (owned, seed, observed)" in err
    assert (root / "datastores/Shop/_store.yaml").read_text().endswith("ownership: seed\n")
    change_live_and_file(root)
    assert set(writes(plan(root, capsys)).values()) == {"create"}


def test_the_flag_does_not_make_player_data_owned(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    game_writes(
        root,
        lambda client: client.update_entry(
            "Saves", "slot", EntryData({"x": 1}, users=(45348281,)), allow_missing=True
        ),
    )
    code, out, err = run(root, capsys, "import", "--standard-only", "--ownership", "owned")
    assert code == 0, err
    assert "observed  new _store.yaml: the entry 'slot' carries `users` metadata" in out
    assert (root / "datastores/Saves/_store.yaml").read_text().endswith("ownership: observed\n")


def test_reimport_never_changes_an_existing_store_file(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_config(root)
    code, _out, err = run(root, capsys, "import", "--standard-only", "--ownership", "seed")
    assert code == 0, err
    settings = root / "datastores/Shop/_store.yaml"
    settings.write_text("# mine\nownership: owned\nprune: true\n")
    before = settings.stat().st_mtime_ns
    code, out, err = run(root, capsys, "import", "--standard-only", "--ownership", "observed")
    assert code == 0, err
    assert settings.read_text() == "# mine\nownership: owned\nprune: true\n"
    assert settings.stat().st_mtime_ns == before
    assert "  Shop  owned     its _store.yaml, kept as it is" in out
    assert "new _store.yaml" not in out


def test_an_existing_store_folder_without_settings_gets_a_note_not_a_file(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    game_writes(
        root,
        lambda client: client.update_entry(
            "PlayerData", "Player_7", EntryData({"coins": 1}), allow_missing=True
        ),
    )
    (root / "datastores/PlayerData/global").mkdir(parents=True)
    code, out, err = run(root, capsys, "import", "--standard-only")
    assert code == 0, err
    assert not (root / "datastores/PlayerData/_store.yaml").exists()
    assert "  PlayerData  owned     no _store.yaml: owned by default" in out
    assert (
        "note: PlayerData has no _store.yaml, so it is owned (git wins), but the key 'Player_7' "
        "embeds a user id: if game servers write it, add `ownership: observed` to "
        "datastores/PlayerData/_store.yaml" in out
    )


def test_a_refused_import_writes_nothing(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def seed(client: OpenCloudClient) -> None:
        client.update_entry("Shop", "sword", EntryData({"price": 1}), allow_missing=True)
        client.update_entry("PlayerData", "Player_1", EntryData({"coins": 1}), allow_missing=True)

    game_writes(root, seed)
    code, out, err = run(root, capsys, "import", "--standard-only")
    assert code == 1 and out == ""
    assert err.startswith("error: import would create 1 new store whose data does not look like")
    assert "Shop (1 entry)" in err and "PlayerData" not in err
    assert not (root / "datastores").exists()


@pytest.mark.parametrize(
    ("kind", "store", "key", "value", "users", "reason"),
    [
        (StoreKind.STANDARD, "Profiles", "main", PROFILE, (), "ProfileService/ProfileStore"),
        (StoreKind.STANDARD, "DATA/12345", "1700000000", 1, (), "DataStore2 per-player store"),
        (StoreKind.ORDERED, "DATA/12345", "1700000000", 1, (), "DataStore2 per-player ordered"),
        (StoreKind.STANDARD, "Saves", "slot", 1, (7,), "carries `users` metadata"),
        (StoreKind.STANDARD, "S", "Player_1", 1, (), "embeds a user id"),
        (StoreKind.STANDARD, "S", "user/45348281", 1, (), "embeds a user id"),
        (StoreKind.STANDARD, "S", "PlayerData12", 1, (), "embeds a user id"),
        (StoreKind.STANDARD, "S", "uid-7", 1, (), "embeds a user id"),
        (StoreKind.STANDARD, "S", "45348281", 1, (), "embeds a user id"),
        (StoreKind.ORDERED, "Wins", "Player_3", 1, (), "embeds a user id"),
    ],
)
def test_player_data_signals(
    kind: StoreKind, store: str, key: str, value: Any, users: tuple[int, ...], reason: str
) -> None:
    found = player_data_reason(kind, store, [SampledEntry(key, value, users)])
    assert found is not None and reason in found


@pytest.mark.parametrize(
    "key", ["webhook", "shop_3", "level_3", "map1", "v2", "1", "42", "top10", "sword"]
)
def test_ordinary_keys_are_not_player_data(key: str) -> None:
    value = {"Data": 1}  # Data alone is not a ProfileStore save
    assert player_data_reason(StoreKind.STANDARD, "Config", [SampledEntry(key, value)]) is None
    assert player_data_reason(StoreKind.STANDARD, "DATA", [SampledEntry(key, value)]) is None


def test_several_user_id_keys_read_as_a_plural() -> None:
    entries = [SampledEntry("48213907", 1), SampledEntry("99182736", 1)]
    found = player_data_reason(StoreKind.STANDARD, "Coins", entries)
    assert found == "the key '48213907' and 1 more embed user ids"
