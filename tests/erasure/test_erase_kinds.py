"""The template and rule kinds ``test_erase`` does not cover, each planned and applied against
the in-process emulator, then the live state checked (and that nothing else was written):
ORDERED key templates, key templates in a non-global scope, a ``users_metadata`` rule and a
``pointers`` rule with ``action: remove`` on one store, and a key-pattern rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dsgit.erasure.planner import ErasureRequest, plan_erasure
from dsgit.erasure.policy_file import load_erasure
from dsgit.erasure.verify import verify_erased
from dsgit.ledger import Ledger
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.plan.model import Action, Plan, UpdateChange
from support import read_live, seed_live, write_files

from .test_erase import World as EraseWorld

USER = 45348281
OTHER = 51200007

TEMPLATES = """\
version: 1
user_data_templates:
  - key_template:                  # a leaderboard keyed by the user id
      data_store_type: ORDERED
      data_store_name: Leaderboard
      key_pattern: "{UserId}"
  - key_template:                  # an ordered key in a season's scope
      data_store_type: ORDERED
      data_store_name: Wins
      key_pattern: "{UserId}"
      scope_pattern: weekly
  - key_template:                  # a standard key in a season's scope
      data_store_type: STANDARD
      data_store_name: Inventory
      key_pattern: "Player_{UserId}"
      scope_pattern: season2
  - key_template:                  # the scope itself names the user
      data_store_type: STANDARD
      data_store_name: Houses
      key_pattern: main
      scope_pattern: "u{UserId}"
rules:
  - name: saves-by-key-pattern     # a key-pattern rule: the keys name the user
    store: Saves
    keys: "Player_{UserId}_*"
    action: delete
"""


def _std(store: str, key: str, scope: str = "global") -> Address:
    return Address(StoreKind.STANDARD, store, scope, key)


def _ord(store: str, key: str, scope: str = "global") -> Address:
    return Address(StoreKind.ORDERED, store, scope, key)


def _data(value: object, users: tuple[int, ...] = ()) -> EntryData:
    return EntryData(value, {}, users)  # type: ignore[arg-type]


TEMPLATE_LIVE = {
    _ord("Leaderboard", str(USER)): 120,
    _ord("Leaderboard", str(OTHER)): 90,
    _ord("Leaderboard", f"{USER}0"): 5,  # another id that starts with the user's
    _ord("Wins", str(USER), "weekly"): 3,
    _ord("Wins", str(USER)): 40,  # the global scope: not the template's
    _ord("Wins", str(OTHER), "weekly"): 7,
    _std("Inventory", f"Player_{USER}", "season2"): _data({"items": ["sword"]}),
    _std("Inventory", f"Player_{USER}"): _data({"items": ["shield"]}),  # global: kept
    _std("Inventory", f"Player_{OTHER}", "season2"): _data({"items": ["bow"]}),
    _std("Houses", "main", f"u{USER}"): _data({"rooms": 3}),
    _std("Houses", "main", f"u{OTHER}"): _data({"rooms": 1}),
    _std("Saves", f"Player_{USER}_1"): _data({"slot": 1}),
    _std("Saves", f"Player_{USER}_2"): _data({"slot": 2}),
    _std("Saves", f"Player_{USER}0_1"): _data({"slot": 9}),  # another user's
    _std("Saves", f"Player_{OTHER}_1"): _data({"slot": 1}),
    _std("Saves", f"Slot_{USER}_1"): _data({"slot": 1}),  # not the pattern
}
TEMPLATE_ERASED = {
    _ord("Leaderboard", str(USER)),
    _ord("Wins", str(USER), "weekly"),
    _std("Inventory", f"Player_{USER}", "season2"),
    _std("Houses", "main", f"u{USER}"),
    _std("Saves", f"Player_{USER}_1"),
    _std("Saves", f"Player_{USER}_2"),
}


def _same_store(action: str) -> str:
    return f"""\
version: 1
rules:
  - name: tagged-trades
    store: Trades
    users_metadata: true
    action: {action}
  - name: trade-parties
    store: Trades
    keys: "*"
    pointers: [/parties]
    action: remove
"""


TRADES_LIVE = {
    # in both: the users metadata and the parties
    _std("Trades", "both"): _data({"parties": [USER, OTHER], "item": "gem"}, (USER, OTHER)),
    # in the users metadata only
    _std("Trades", "tagged"): _data({"parties": [OTHER], "item": "axe"}, (USER, OTHER)),
    # in the parties only (as a string id)
    _std("Trades", "party"): _data({"parties": [str(USER), 7], "item": "hat"}, (OTHER,)),
    # neither
    _std("Trades", "none"): _data({"parties": [OTHER, 7], "item": "cap"}, (OTHER,)),
    # another scope: the rules read the global scope only
    _std("Trades", "elsewhere", "s2"): _data({"parties": [USER]}, (USER,)),
}


class World(EraseWorld):
    """``test_erase``'s world with a policy of its own."""

    def __init__(self, root: Path, policy: str) -> None:
        super().__init__(root)
        write_files(root, {"policies/erasure.yaml": policy})

    def plan(self, **kw: object) -> Plan:
        request = ErasureRequest("local", 1, USER, **kw)  # type: ignore[arg-type]
        run = plan_erasure(self.client, load_erasure(self.root), request, self.root)
        run.done()
        return run.plan

    def verified(self) -> bool:
        records = tuple(Ledger(self.root).records())
        policy = load_erasure(self.root)
        return verify_erased(self.client, policy, USER, self.root, records).clean


@pytest.fixture
def make_world(tmp_path: Path) -> Iterator[object]:
    made: list[World] = []

    def make(policy: str, live: dict[Address, EntryData | int]) -> World:
        world = World(tmp_path / f"repo{len(made)}", policy)
        made.append(world)
        seed_live(world.client, live)
        return world

    yield make
    for world in made:
        world.client.close()
        world.emulator.close()


def _unchanged(world: World, live: dict[Address, EntryData | int], touched: set[Address]) -> None:
    """Every entry outside ``touched`` is live as seeded, written once (its creation)."""
    for address, seeded in live.items():
        if address in touched:
            continue
        assert read_live(world.client, address) == seeded, address
        if address.kind is StoreKind.STANDARD:
            assert world.revisions(address) == 1, address


def test_ordered_and_scoped_key_templates_and_a_key_pattern_rule(make_world: object) -> None:
    world: World = make_world(TEMPLATES, TEMPLATE_LIVE)  # type: ignore[operator]
    plan = world.plan()
    assert {c.address for c in plan.changes} == TEMPLATE_ERASED
    assert all(c.action is Action.DELETE for c in plan.changes)
    assert not plan.blocking
    assert not world.verified()
    world.apply(plan)
    for address in TEMPLATE_ERASED:
        assert read_live(world.client, address) is None, address
    _unchanged(world, TEMPLATE_LIVE, TEMPLATE_ERASED)
    assert world.verified()
    assert not world.plan().changes  # a second erase finds nothing


@pytest.mark.parametrize("action", ["remove", "delete"])
def test_users_metadata_and_pointer_rules_on_one_store(make_world: object, action: str) -> None:
    world: World = make_world(_same_store(action), TRADES_LIVE)  # type: ignore[operator]
    plan = world.plan()
    changes = {c.address.key: c for c in plan.changes}
    if action == "remove":
        # Both rules edit the same entry: one update, the user out of both places.
        assert {k: c.action for k, c in changes.items()} == {
            "both": Action.UPDATE,
            "tagged": Action.UPDATE,
            "party": Action.UPDATE,
        }
        both = changes["both"]
        assert isinstance(both, UpdateChange)
        assert "tagged-trades" in both.reason and "trade-parties" in both.reason
    else:
        # The first rule (file order) deletes what it finds; the pointer rule edits the rest.
        assert {k: c.action for k, c in changes.items()} == {
            "both": Action.DELETE,
            "tagged": Action.DELETE,
            "party": Action.UPDATE,
        }
    world.apply(plan)
    now = {a.key: read_live(world.client, a) for a in TRADES_LIVE}
    if action == "remove":
        assert now["both"] == _data({"parties": [OTHER], "item": "gem"}, (OTHER,))
        assert now["tagged"] == _data({"parties": [OTHER], "item": "axe"}, (OTHER,))
    else:
        assert now["both"] is None and now["tagged"] is None
    assert now["party"] == _data({"parties": [7], "item": "hat"}, (OTHER,))
    touched = {a for a in TRADES_LIVE if a.key in changes}
    _unchanged(world, TRADES_LIVE, touched)
    for address in touched:
        if now[address.key] is not None:
            assert world.revisions(address) == 2, address  # one write each, both rules in it
    # The other scope is outside the rules: verify looks where the rules look, and passes.
    assert world.verified()
    assert not world.plan().changes


def test_one_rule_with_users_metadata_and_pointers_removes_from_both(make_world: object) -> None:
    policy = """\
version: 1
rules:
  - name: trades
    store: Trades
    keys: "*"
    users_metadata: true
    pointers: [/parties]
    action: remove
"""
    world: World = make_world(policy, TRADES_LIVE)  # type: ignore[operator]
    plan = world.plan()
    assert {c.address.key: c.action for c in plan.changes} == {
        "both": Action.UPDATE,
        "tagged": Action.UPDATE,
        "party": Action.UPDATE,
    }
    world.apply(plan)
    now = {a.key: read_live(world.client, a) for a in TRADES_LIVE}
    assert now["both"] == _data({"parties": [OTHER], "item": "gem"}, (OTHER,))
    assert now["tagged"] == _data({"parties": [OTHER], "item": "axe"}, (OTHER,))
    assert now["party"] == _data({"parties": [7], "item": "hat"}, (OTHER,))
    touched = {a for a in TRADES_LIVE if a.key in {"both", "tagged", "party"}}
    _unchanged(world, TRADES_LIVE, touched)  # "none" and the other scope: as seeded
    assert world.verified()
