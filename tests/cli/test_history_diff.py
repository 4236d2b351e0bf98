"""``dsgit history --diff`` and ``--field`` against the embedded emulator, with masking."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dsgit.cli.main import cli
from dsgit.config import load_project_config
from dsgit.model.entry import EntryData
from dsgit.remote.connect import open_client
from revisions.fixtures import CANARY_CODE, CANARY_EMAIL, catalog, profile_revisions
from support import LOCAL_CONFIG, write_files

CANARIES = (CANARY_EMAIL, CANARY_CODE, "canary-player-new")


@pytest.fixture
def repo(repo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DSGIT_EMULATOR_VERSIONS", "all")  # every write is a revision
    write_files(
        repo_dir,
        {
            "dsgit.yaml": LOCAL_CONFIG,
            # the redeem code is a secret stored encrypted in git: plaintext live, so masked
            "datastores/PlayerStore/_store.yaml": "ownership: observed\n"
            "sensitive: [/Data/Email]\nencrypted: [/Data/RedeemCode]\n",
        },
    )
    env = load_project_config(repo_dir).environment("local")
    with open_client(env) as client:
        first, *rest = profile_revisions()
        client.create_entry("PlayerStore", "7734", first)
        for data in rest:
            client.update_entry("PlayerStore", "7734", data)
        client.create_entry("Catalog", "shop", EntryData(catalog(100)))
        client.update_entry("Catalog", "shop", EntryData(catalog(120)))
        client.update_entry("Catalog", "shop", EntryData(catalog(120), {"editor": "ci"}))
        client.delete_entry("Catalog", "shop")
        client.create_entry("Catalog", "shop", EntryData(catalog(90)))
    yield repo_dir


def run(repo: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["-C", str(repo), *args], catch_exceptions=True)
    return result


def ok(repo: Path, *args: str) -> str:
    result = run(repo, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    for canary in CANARIES:
        assert canary not in result.output
    return result.output


def test_diff_of_profile_saves_masks_sensitive_and_encrypted_fields(repo: Path) -> None:
    rows = json.loads(ok(repo, "history", "PlayerStore", "7734", "--diff", "--format", "json"))
    assert len(rows) == 4
    assert rows[0]["changes"] is None and rows[0]["previousRevisionId"] is None
    assert [row["previousRevisionId"] for row in rows[1:]] == [r["revisionId"] for r in rows[:3]]
    assert {c["pointer"]: (c.get("old"), c.get("new")) for c in rows[1]["changes"]} == {
        "/Data/Coins": (0, 250),
        "/Data/Inventory/0": (None, "Sword"),
    }
    assert rows[2]["changes"] == [
        {
            "pointer": "/MetaData/ActiveSession",
            "op": "remove",
            "old": {"PlaceId": 920587237, "JobId": "job-1", "unique_session_id": 1},
        }
    ]
    assert rows[3]["changes"] == [
        {"pointer": "/Data/Email", "op": "replace", "old": "(sensitive)", "new": "(sensitive)"}
    ]
    text = ok(repo, "history", "PlayerStore", "7734", "--diff")
    assert "~ /Data/Coins: 0 -> 250" in text
    assert '+ /Data/Inventory/0: "Sword"' in text
    assert '~ /Data/Email: "(sensitive)" -> "(sensitive)"' in text
    assert "earliest revision kept" in text


def test_diff_of_a_catalog_with_metadata_a_delete_and_a_recreate(repo: Path) -> None:
    rows = json.loads(ok(repo, "history", "Catalog", "shop", "--diff", "--format", "json"))
    assert [row["state"] for row in rows] == ["ACTIVE", "ACTIVE", "ACTIVE", "DELETED", "ACTIVE"]
    assert rows[1]["changes"] == [
        {"pointer": "/items/sword/price", "op": "replace", "old": 100, "new": 120}
    ]
    assert rows[2]["changes"] == [{"pointer": "@attributes/editor", "op": "add", "new": "ci"}]
    assert [c["op"] for c in rows[3]["changes"]] == ["remove"]
    assert rows[4]["changes"][0]["op"] == "add"
    text = ok(repo, "history", "Catalog", "shop", "--diff")
    assert "~ /items/sword/price: 100 -> 120" in text
    assert "- entry deleted" in text


def test_field_follows_one_pointer(repo: Path) -> None:
    body = json.loads(
        ok(repo, "history", "Catalog", "shop", "--field", "/items/sword/price", "--format", "json")
    )
    assert body["field"] == "/items/sword/price"
    assert [(c["op"], c.get("old"), c.get("new")) for c in body["changes"]] == [
        ("initial", None, 100),
        ("replace", 100, 120),
        ("remove", 120, None),
        ("add", None, 90),
    ]
    text = ok(repo, "history", "Catalog", "shop", "--field", "/items/sword/price")
    assert "/items/sword/price: 100 -> 120" in text
    assert "/items/sword/price removed (was 120)" in text
    email = json.loads(
        ok(repo, "history", "PlayerStore", "7734", "--field", "/Data/Email", "--format", "json")
    )
    assert [c["op"] for c in email["changes"]] == ["initial", "replace"]
    assert ok(repo, "history", "PlayerStore", "7734", "--field", "/Data").count("(sensitive)") >= 2


def test_field_that_never_changed_says_so(repo: Path) -> None:
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    result = run(repo, "history", "Catalog", "shop", "--field", "/currency", "--since", future)
    assert result.exit_code == 0
    assert "did not change in that period (1 revision read)" in result.output
    users = json.loads(
        ok(repo, "history", "PlayerStore", "7734", "--field", "@users", "--format", "json")
    )
    assert [(c["op"], c["new"]) for c in users["changes"]] == [("initial", [7734])]


def test_since_diffs_the_first_revision_against_the_one_before(repo: Path) -> None:
    env = load_project_config(repo).environment("local")
    with open_client(env) as client:
        listed = list(client.list_revisions("Catalog", "shop"))
    later = sorted(listed, key=lambda item: item.revision_create_time)[1].revision_create_time
    rows = json.loads(
        ok(repo, "history", "Catalog", "shop", "--diff", "--since", later, "--format", "json")
    )
    assert rows[0]["previousRevisionId"] is not None  # read as the baseline, not shown
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert (
        json.loads(
            ok(repo, "history", "Catalog", "shop", "--diff", "--since", future, "--format", "json")
        )
        == []
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--diff", "--field", "/a"], "either --diff or --field"),
        (["--field", "Data"], "--field"),
    ],
)
def test_bad_options_are_one_clear_error(repo: Path, args: list[str], message: str) -> None:
    result = run(repo, "history", "Catalog", "shop", *args)
    assert result.exit_code != 0
    assert message in str(result.exception)


def test_unreadable_store_settings_stop_before_any_value_is_shown(repo: Path) -> None:
    (repo / "datastores/PlayerStore/_store.yaml").write_text("sensitive: /x\n", encoding="utf-8")
    result = run(repo, "history", "PlayerStore", "7734", "--diff")
    assert result.exit_code != 0
    assert "Coins" not in result.output
