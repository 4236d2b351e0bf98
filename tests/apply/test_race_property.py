"""Hypothesis: apply interrupted right after its n-th write landed (before its completion is
journaled), a game server creating, changing and deleting planned entries before each rerun.
In process and fast; tests/e2e/test_kill_and_race.py does the same with real SIGKILLs."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsgit.apply.lock import read_lease
from dsgit.apply.result import ApplyStatus
from dsgit.apply.run import ApplyOptions
from dsgit.errors import NotFoundError
from dsgit.ledger import ChangeRecord, Ledger
from dsgit.model.declaration import StorePolicy, Suppression
from dsgit.model.entry import Address, EntryData, StoreKind
from support import declaration_of

from .conftest import World
from .test_resume_and_faults import DyingApi

KEYS = [f"k{n}" for n in range(6)]  # k0-k2 exist live (updates), k3-k5 do not (creates)
GONE = ["g0", "g1"]  # exist live, undeclared: pruned
POLICY = {
    (StoreKind.STANDARD, "S"): StorePolicy(
        prune=True,
        suppress=(Suppression("DSP002", "test"), Suppression("DSP003", "test", count=2)),
    )
}
game_op = st.tuples(st.sampled_from([*KEYS, *GONE]), st.sampled_from(["set", "delete"]))


def _revisions(world: World, key: str) -> int:
    try:
        return world.revisions(Address.standard("S", key))
    except NotFoundError:
        return 0


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kills=st.lists(st.integers(1, 8), min_size=1, max_size=3),
    games=st.lists(st.lists(game_op, max_size=3), min_size=3, max_size=3),
)
def test_interrupted_applies_with_a_racing_game_server(
    kills: list[int], games: list[list[tuple[str, str]]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        world = World(Path(folder))
        try:
            _run(world, kills, games)
        finally:
            world.client.close()


def _run(world: World, kills: list[int], games: list[list[tuple[str, str]]]) -> None:
    for key in [*KEYS[:3], *GONE]:
        world.client.create_entry("S", key, EntryData({"old": key}))
    wanted = {Address.standard("S", k): EntryData({"new": k}) for k in KEYS}
    declared = declaration_of(wanted, POLICY)
    plan = world.plan(declared)
    initial = {key: _revisions(world, key) for key in [*KEYS, *GONE]}
    game_writes = dict.fromkeys(initial, 0)
    last: dict[str, object] = {}
    for round_, die_after in enumerate(kills):
        world.apply(plan, declared, ApplyOptions(workers=1), api=DyingApi(world.client, die_after))
        for n, (key, op) in enumerate(games[round_]):
            live = world.client.get_entry("S", key)
            if op == "delete" and live is not None:
                world.client.delete_entry("S", key)
                last[key] = None
            elif op == "set":
                value = {"game": f"{round_}.{n}"}
                world.client.update_entry("S", key, EntryData(value), allow_missing=True)
                last[key] = value
            else:
                continue
            game_writes[key] += 1
    final = world.apply(plan, declared)
    assert final.status in (ApplyStatus.COMPLETE, ApplyStatus.CONFLICT)
    for change in final.changes:
        key = change.address.key
        ours = _revisions(world, key) - initial[key] - game_writes[key]
        assert ours in (0, 1), f"{key} written {ours} times by the apply"
        live = world.client.get_entry("S", key)
        value = live.value if live is not None else None
        planned = None if key in GONE else {"new": key}
        if change.outcome is not None and str(change.outcome) == "conflict":
            assert key in last and value == last[key], f"{key}: a conflict must stay untouched"
        else:
            assert value == planned or (key in last and value == last[key]), key
    records = [
        r.body.address
        for r in Ledger(world.root).records()
        if isinstance(r.body, ChangeRecord) and r.body.apply_id == final.apply_id
    ]
    assert len(records) == len(set(records)) == len(final.changes)
    assert read_lease(world.client, datetime.now(UTC)).status == "released"
