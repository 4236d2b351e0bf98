"""End to end against a served emulator: a player's ProfileStore profile, their place in a
guild roster and their DataStore2 pair are erased by one approved plan, and nothing else
changed (the revision count of every other key is unchanged)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsgit.errors import EXIT_POLICY
from dsgit.model.entry import RESERVED_STORE, EntryData
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


Snapshot = dict[tuple[str, str, str, str], tuple[object, int]]


def _universe(game: OpenCloudClient, ordered: list[str]) -> Snapshot:
    """Every live entry of the universe: (kind, store, scope, key) -> (value, revisions); every
    standard store the universe lists (all scopes), and the ordered stores named."""
    found: Snapshot = {}
    for info in game.list_data_stores():
        if info.id == RESERVED_STORE:
            continue  # dsgit's own lock entry
        for item in game.list_keys(info.id, "-"):
            live = game.get_entry(info.id, item.key, item.scope)
            assert live is not None
            count = len(list(game.list_revisions(info.id, item.key, item.scope)))
            value = (live.value, sorted(live.users), live.attributes)
            found[("standard", info.id, item.scope, item.key)] = (value, count)
    for store in ordered:
        for entry in game.list_ordered(store):
            found[("ordered", store, entry.scope, entry.key)] = (entry.value, 0)
    return found


def _erase_and_check(repo: Repo, game: OpenCloudClient, keys: Path, made: dict[str, str]) -> None:
    game.create_entry("PlayerStore", str(USER), _profile(USER))
    game.create_entry("PlayerStore", str(OTHER), _profile(OTHER))
    game.update_entry("PlayerStore", str(OTHER), _profile(OTHER))  # two revisions
    game.create_entry("PlayerStore", str(OTHER), _profile(OTHER), scope="beta")
    game.create_entry("Guilds", "knights", EntryData({"members": [OTHER, USER]}))
    game.create_entry("Guilds", "rangers", EntryData({"members": [OTHER]}))
    game.create_entry("Shop", "catalog", EntryData({"sword": 400, "note": f"seller {USER}"}))
    for user in (USER, OTHER):
        game.create_entry(f"DATA/{user}", "1", EntryData({"coins": 1}, {}, (user,)))
        game.create_ordered(f"DATA/{user}", "1", 1)
    ordered = [f"DATA/{USER}", f"DATA/{OTHER}"]
    erased = {
        ("standard", "PlayerStore", "global", str(USER)),
        ("standard", f"DATA/{USER}", "global", "1"),
        ("ordered", f"DATA/{USER}", "global", "1"),
    }
    edited = ("standard", "Guilds", "global", "knights")
    before = _universe(game, ordered)
    assert erased <= before.keys() and len(before) == 10

    repo.dsgit("erase", "--user", str(USER), "-e", "prod", "-o", "plans/erase.json")
    plan = json.loads((repo.root / "plans/erase.json").read_text())
    assert plan["kind"] == "erasure"
    refused = repo.dsgit("apply", "plans/erase.json", expect=EXIT_POLICY)
    assert "erasures" in refused.err
    # a destructive plan in a protected environment needs two approvers
    for name in made:
        repo.dsgit("approve", "plans/erase.json", "--key", str(keys / name))
    repo.dsgit("apply", "plans/erase.json")

    after = _universe(game, ordered)
    assert not erased & after.keys()  # the profile, the DataStore2 pair: gone
    (roster, roster_revisions) = after.pop(edited)
    assert roster == ({"members": [OTHER]}, [], {})
    assert roster_revisions == before[edited][1] + 1  # written exactly once
    untouched = {k: v for k, v in before.items() if k not in erased and k != edited}
    assert after == untouched  # every other entry: same value, same revision count
    verified = repo.dsgit("erase", "--verify", "--user", str(USER), "-e", "prod")
    assert "Nothing of the user is left in prod" in verified.out
    ledger = "".join(p.read_text() for p in (repo.root / "audit").rglob("*.jsonl"))
    assert str(USER) not in ledger
    assert '"type":"erasure"' in ledger
