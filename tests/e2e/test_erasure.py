"""End to end against a served emulator: a player's ProfileStore profile, their place in a
guild roster and their DataStore2 pair are erased by one approved plan, and nothing else
changed (the revision count of every other key is unchanged)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.errors import EXIT_POLICY
from dsgit.model.entry import EntryData
from dsgit.remote.client import OpenCloudClient
from e2e.conftest import SERVED_KEY_ENV, UNIVERSE, Repo, serve

pytestmark = pytest.mark.slow

USER = 45348281
OTHER = 51200007
POLICY = {
    "version": 1,
    "user_data_templates": [
        {
            "key_template": {
                "data_store_type": "STANDARD",
                "data_store_name": "PlayerStore",
                "key_pattern": "{UserId}",
            }
        },
        {
            "data_store_template": {
                "data_store_type": "STANDARD",
                "data_store_pattern": "DATA/{UserId}",
            }
        },
    ],
    "rules": [
        {
            "name": "rosters",
            "store": "Guilds",
            "keys": "*",
            "pointers": ["/members"],
            "action": "remove",
        },
        {
            "name": "ds2-ordered",
            "store": "DATA/{UserId}",
            "kind": "ordered",
            "keys": "*",
            "action": "delete",
        },
    ],
}


def _profile(user: int) -> EntryData:
    value = {
        "Data": {"Coins": 5},
        "MetaData": {"ProfileCreateTime": 1, "SessionLoadCount": 2, "LastUpdate": 3},
        "RobloxMetaData": {},
        "UserIds": [user],
        "GlobalUpdates": [0, []],
    }
    return EntryData(value, {}, (user,))


def test_one_approved_plan_erases_the_player_and_nothing_else(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    with serve("--ccu", "20000") as served:
        prod = {
            "universe_id": UNIVERSE,
            "url": served.url,
            "api_key_env": SERVED_KEY_ENV,
            "budget": {"ccu": 20000, "share": 1},
            "protected": True,
        }
        repo = Repo(tmp_path / "game", served.url, {"prod": prod})
        made = {
            name: repo.dsgit(
                "keys", "generate", "--name", name, "--out", str(keys / name)
            ).out.strip()
            for name in ("alice", "bob")
        }
        repo.write(
            "policies/approvals.yaml",
            {
                "version": 1,
                "approvers": [
                    {"name": name, "github": f"{name}-gh", "key": made[name]} for name in made
                ],
                "rules": [
                    {
                        "name": "erasures",
                        "environments": ["prod"],
                        "classes": ["erasure"],
                        "min_approvals": 1,
                    }
                ],
            },
        )
        repo.write("policies/erasure.yaml", POLICY)
        repo.commit("erasure policy")
        game = repo.game_server()
        try:
            _erase_and_check(repo, game, keys, made)
        finally:
            game.close()


def _erase_and_check(repo: Repo, game: OpenCloudClient, keys: Path, made: dict[str, str]) -> None:
    game.create_entry("PlayerStore", str(USER), _profile(USER))
    game.create_entry("PlayerStore", str(OTHER), _profile(OTHER))
    game.create_entry("Guilds", "knights", EntryData({"members": [OTHER, USER]}))
    game.create_entry("Guilds", "rangers", EntryData({"members": [OTHER]}))
    for user in (USER, OTHER):
        game.create_entry(f"DATA/{user}", "1", EntryData({"coins": 1}, {}, (user,)))
        game.create_ordered(f"DATA/{user}", "1", 1)
    untouched = [
        ("PlayerStore", str(OTHER)),
        ("Guilds", "rangers"),
        (f"DATA/{OTHER}", "1"),
    ]

    def revisions(store: str, key: str) -> int:
        return len(list(game.list_revisions(store, key)))

    before = {item: revisions(*item) for item in untouched}
    repo.dsgit("erase", "--user", str(USER), "-e", "prod", "-o", "plans/erase.json")
    plan = json.loads((repo.root / "plans/erase.json").read_text())
    assert plan["kind"] == "erasure"
    refused = repo.dsgit("apply", "plans/erase.json", expect=EXIT_POLICY)
    assert "erasures" in refused.err
    # a destructive plan in a protected environment needs two approvers
    for name in made:
        repo.dsgit("approve", "plans/erase.json", "--key", str(keys / name))
    repo.dsgit("apply", "plans/erase.json")

    assert game.get_entry("PlayerStore", str(USER)) is None
    assert game.get_entry(f"DATA/{USER}", "1") is None
    assert game.get_ordered(f"DATA/{USER}", "1") is None
    roster = game.get_entry("Guilds", "knights")
    assert roster is not None and roster.value == {"members": [OTHER]}
    assert {item: revisions(*item) for item in untouched} == before
    assert game.get_ordered(f"DATA/{OTHER}", "1") is not None
    verified = repo.dsgit("erase", "--verify", "--user", str(USER), "-e", "prod")
    assert "Nothing of the user is left in prod" in verified.out
    ledger = "".join(p.read_text() for p in (repo.root / "audit").rglob("*.jsonl"))
    assert str(USER) not in ledger
    assert '"type":"erasure"' in ledger
