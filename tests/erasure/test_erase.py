"""``dsgit erase``'s planner and the apply of its plan against the in-process emulator:
every template and rule kind, session locks, the pre-image purge, the erasure records, verify."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsgit.apply.run import ApplyDeps, ApplyOptions, apply_plan
from dsgit.config import Environment
from dsgit.emulator import Emulator
from dsgit.erasure.planner import ErasureRequest, plan_erasure
from dsgit.erasure.policy_file import load_erasure
from dsgit.erasure.proof import hashed_user, repository_salt
from dsgit.erasure.verify import verify_erased
from dsgit.errors import ConfigError
from dsgit.ledger import Ledger
from dsgit.ledger.records import ChangeRecord, ErasureRecord
from dsgit.ledger.verify import verify_ledger
from dsgit.model.declaration import Declaration
from dsgit.model.entry import Address, EntryData, StoreKind
from dsgit.plan.codes import DiagnosticCode
from dsgit.plan.model import Action, Plan, PlanKind
from dsgit.policy.classes import plan_classes
from dsgit.policy.model import ChangeClass
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import emulated_client
from support import read_live, seed_live, write_files

USER = 45348281
OTHER = 51200007
POLICY = """\
version: 1
user_data_templates:
  - key_template:
      data_store_type: STANDARD
      data_store_name: PlayerStore
      key_pattern: "{UserId}"
  - data_store_template:
      data_store_type: STANDARD
      data_store_pattern: "DATA/{UserId}"
rules:
  - name: tagged
    store: "*"
    users_metadata: true
    action: delete
  - name: rosters
    store: Guilds
    keys: "*"
    pointers: [/members]
    action: remove
  - name: ds2-ordered
    store: "DATA/{UserId}"
    kind: ordered
    keys: "*"
    action: delete
"""


def profile(user: int, *, locked: bool = False) -> EntryData:
    meta: dict[str, object] = {"ProfileCreateTime": 1, "SessionLoadCount": 3, "LastUpdate": 9}
    if locked:
        meta["ActiveSession"] = {"PlaceId": 1, "JobId": "j", "unique_session_id": "u"}
    return EntryData(
        {"Data": {"Coins": 10}, "MetaData": meta, "RobloxMetaData": {}, "UserIds": [user]},
        {},
        (user,),
    )


def std(store: str, key: str, scope: str = "global") -> Address:
    return Address(StoreKind.STANDARD, store, scope, key)


def ordered(store: str, key: str) -> Address:
    return Address(StoreKind.ORDERED, store, "global", key)


LIVE = {
    std("PlayerStore", str(USER)): profile(USER),
    std("PlayerStore", str(OTHER)): profile(OTHER),
    std("Guilds", "knights"): EntryData({"name": "Knights", "members": [OTHER, USER, 7]}),
    std("Guilds", "rangers"): EntryData({"name": "Rangers", "members": [OTHER]}),
    std(f"DATA/{USER}", "1"): EntryData({"coins": 1}, {}, (USER,)),
    std(f"DATA/{USER}", "2"): EntryData({"coins": 2}, {}, (USER,)),
    ordered(f"DATA/{USER}", "1"): 1,
    ordered(f"DATA/{USER}", "2"): 2,
    std(f"DATA/{OTHER}", "1"): EntryData({"coins": 5}, {}, (OTHER,)),
    ordered(f"DATA/{OTHER}", "1"): 1,
    std("Trades", "t1"): EntryData({"from": USER}, {}, (USER, OTHER)),
    std("Trades", "t2", "season2"): EntryData({"from": OTHER}, {}, (OTHER,)),
}


class World:
    def __init__(self, root: Path) -> None:
        self.root = root
        write_files(root, {"policies/erasure.yaml": POLICY})
        self.emulator = Emulator(db=":memory:", versions="all")
        self.client: OpenCloudClient = emulated_client(self.emulator, universe_id=1)
        self.env = Environment(name="local", universe_id=1, url="http://emulator.test")

    def plan(self, **kw: object) -> Plan:
        request = ErasureRequest("local", 1, USER, **kw)  # type: ignore[arg-type]
        return plan_erasure(self.client, load_erasure(self.root), request, self.root).plan

    def apply(self, plan: Plan) -> None:
        deps = ApplyDeps(root=self.root, env=self.env, api=self.client, declaration=None, actor="t")
        result = apply_plan(plan, deps, ApplyOptions(workers=2))
        assert str(result.status) == "complete", result

    def apply_coins(self) -> tuple[Plan, ApplyDeps, Declaration]:
        """An ordinary apply that overwrote both players' profiles (its pre-images hold both)."""
        from dsgit.planning.usecase import PlanRequest, make_plan
        from support import declaration_of

        coins = {
            std("PlayerStore", str(u)): EntryData({"Data": {"Coins": 99}}, {}, (u,))
            for u in (USER, OTHER)
        }
        declaration = declaration_of(coins)
        plan = make_plan(declaration, self.client, PlanRequest("local", 1))
        deps = ApplyDeps(
            root=self.root, env=self.env, api=self.client, declaration=declaration, actor="t"
        )
        assert str(apply_plan(plan, deps, ApplyOptions(workers=2)).status) == "complete"
        return plan, deps, declaration

    def revisions(self, address: Address) -> int:
        return len(list(self.client.list_revisions(address.store, address.key, address.scope)))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from seeded_world(tmp_path)


def seeded_world(tmp_path: Path) -> Iterator[World]:
    """A :class:`World` with :data:`LIVE` seeded, closed after the test."""
    made = World(tmp_path / "repo")
    seed_live(made.client, LIVE)
    try:
        yield made
    finally:
        made.client.close()


def _by_address(plan: Plan) -> dict[str, Action]:
    return {str(change.address): change.action for change in plan.changes}


def test_the_plan_holds_every_template_and_rule_kind(world: World) -> None:
    plan = world.plan()
    assert plan.kind is PlanKind.ERASURE
    assert _by_address(plan) == {
        f"PlayerStore/global/{USER}": Action.DELETE,  # key template
        f"DATA%2F{USER}/global/1": Action.DELETE,  # whole-store template
        f"DATA%2F{USER}/global/2": Action.DELETE,
        "Guilds/global/knights": Action.UPDATE,  # pointer rule: the entry is kept
        "Trades/global/t1": Action.DELETE,  # users metadata
        f"ordered:DATA%2F{USER}/global/1": Action.DELETE,  # DataStore2's ordered twin
        f"ordered:DATA%2F{USER}/global/2": Action.DELETE,
    }
    roster = next(c for c in plan.changes if c.address.key == "knights")
    assert roster.after.value == {"name": "Knights", "members": [OTHER, 7]}  # type: ignore[union-attr]
    # Reviewers see where the user was, never what they held.
    profile_delete = next(c for c in plan.changes if c.address.store == "PlayerStore")
    assert all(line.old == "(sensitive)" for line in profile_delete.diff)
    assert "Coins" not in json.dumps([str(line) for line in profile_delete.diff])
    assert ChangeClass.ERASURE in plan_classes(plan)
    assert plan.context["erasure_user"] == hashed_user(repository_salt(world.root), USER)
    assert not plan.blocking  # DSP001 is suppressed by the reviewed policy
    assert any(d.code is DiagnosticCode.ERASURE_SUMMARY for d in plan.diagnostics)


def test_applying_erases_exactly_the_user_and_leaves_hashes_only(world: World) -> None:
    others = [
        a for a in LIVE if a.kind is StoreKind.STANDARD and str(a) not in _by_address(world.plan())
    ]
    before = {a: world.revisions(a) for a in others}
    assert not verify_erased(world.client, load_erasure(world.root), USER, world.root).clean
    plan = world.plan()
    world.apply(plan)
    for address, expected in LIVE.items():
        now = read_live(world.client, address)
        if str(address) == "Guilds/global/knights":
            assert now == EntryData({"name": "Knights", "members": [OTHER, 7]})
        elif str(address) in _by_address(plan):
            assert now is None, address
        else:
            assert now == expected, address
    assert {a: world.revisions(a) for a in others} == before  # nothing else was written
    records = list(Ledger(world.root).records())
    [erasure] = [r.body for r in records if isinstance(r.body, ErasureRecord)]
    assert erasure.user == plan.context["erasure_user"]
    assert erasure.entries == 7
    assert erasure.plan_digest == plan.digest
    changes = [r.body for r in records if isinstance(r.body, ChangeRecord)]
    assert len(changes) == 7
    assert all(c.address.startswith("sha256:") and not c.users and not c.diff for c in changes)
    ledger_text = "".join(p.read_text() for p in (world.root / "audit").rglob("*.jsonl"))
    leaks = [line for line in ledger_text.splitlines() if str(USER) in line]
    assert not leaks, leaks[:1]
    assert not (world.root / "audit" / "preimages").exists() or not list(
        (world.root / "audit" / "preimages").rglob("*.json")
    )
    result = verify_erased(world.client, load_erasure(world.root), USER, world.root, tuple(records))
    assert result.clean and len(result.records) == 1


def test_earlier_pre_images_of_the_user_are_purged_and_revert_says_so(world: World) -> None:
    from dsgit.ledger.query import list_applies
    from dsgit.undo.revert import RevertRequest, plan_revert

    _, _, declaration = world.apply_coins()
    images = list((world.root / "audit" / "preimages").rglob("*.json"))
    assert len(images) == 2
    plan = world.plan()
    assert any(d.code is DiagnosticCode.ERASURE_PURGES_PREIMAGES for d in plan.diagnostics)
    assert json.loads(plan.context["purge_preimages"]) == [
        p.relative_to(world.root).as_posix() for p in images if p.name == f"{USER}.json"
    ]
    world.apply(plan)
    left = [p.name for p in (world.root / "audit" / "preimages").rglob("*.json")]
    assert left == [f"{OTHER}.json"]
    run = next(r for r in list_applies(world.root) if r.plan_kind == "plan")
    revert = plan_revert(
        world.root,
        run,
        world.client,
        RevertRequest(run.apply_id, "local", 1),
        declaration=declaration,
    )
    notes = [d.message for d in revert.all_diagnostics if d.code is DiagnosticCode.NO_PREIMAGE]
    # The earlier apply's record of the user's profile was redacted: revert cannot even name
    # it, and says why; the other player's change is reverted as usual.
    assert any("1 change(s)" in n and "redacted from the ledger" in n for n in notes), notes
    assert [str(c.address) for c in revert.changes] == [str(std("PlayerStore", str(OTHER)))]
    ledger_text = "".join(p.read_text() for p in (world.root / "audit").rglob("*.jsonl"))
    assert f"PlayerStore/global/{USER}" not in ledger_text
    assert f"PlayerStore/global/{OTHER}" in ledger_text
    assert verify_ledger(world.root).ok
    erasure_run = next(r for r in list_applies(world.root) if r.plan_kind == "erasure")
    with pytest.raises(ConfigError, match="was an erasure"):
        plan_revert(
            world.root,
            erasure_run,
            world.client,
            RevertRequest(erasure_run.apply_id, "local", 1),
            declaration=declaration,
        )


def test_a_session_locked_profile_is_left_out_unless_allowed(world: World) -> None:
    address = std("PlayerStore", str(USER))
    world.client.update_entry("PlayerStore", str(USER), profile(USER, locked=True))
    plan = world.plan()
    assert str(address) not in _by_address(plan)
    [left] = [d for d in plan.diagnostics if d.code is DiagnosticCode.ERASURE_LEFT_LOCKED]
    assert str(address) in left.message
    assert not verify_erased(world.client, load_erasure(world.root), USER, world.root).clean
    allowed = world.plan(allow_locked=True)
    change = next(c for c in allowed.changes if c.address == address)
    assert [d.code for d in change.diagnostics if d.blocks] == [DiagnosticCode.SESSION_LOCKED]


def test_verify_lists_what_is_left(world: World) -> None:
    result = verify_erased(world.client, load_erasure(world.root), USER, world.root)
    assert not result.clean
    assert f"PlayerStore/global/{USER}" in result.left
    assert "Guilds/global/knights" in result.left
    assert result.records == ()


def test_a_segmented_erasure_applies_with_hashes_only_and_purges(
    world: World, tmp_path: Path
) -> None:
    """A large erasure is saved in segments; applying that form records and purges exactly as
    the one-document form does."""
    from dsgit.apply.stream import apply_segmented
    from dsgit.planfile import SegmentedPlan, read_any_plan, write_plan

    plan = world.plan()
    path = tmp_path / "erase.json"
    write_plan(path, plan, segment_size=2)
    found = read_any_plan(path)
    assert isinstance(found, SegmentedPlan) and len(found.manifest.segments) == 4
    deps = ApplyDeps(root=world.root, env=world.env, api=world.client, declaration=None, actor="t")
    result = apply_segmented(found, deps, ApplyOptions(workers=2))
    assert str(result.status) == "complete", result
    assert read_live(world.client, std("PlayerStore", str(USER))) is None
    records = list(Ledger(world.root).records())
    [erasure] = [r.body for r in records if isinstance(r.body, ErasureRecord)]
    assert erasure.entries == 7 and erasure.plan_digest == found.digest
    changes = [r.body for r in records if isinstance(r.body, ChangeRecord)]
    assert len(changes) == 7
    assert all(c.address.startswith("sha256:") and not c.users and not c.diff for c in changes)
    audit = "".join(p.read_text() for p in (world.root / "audit").rglob("*") if p.is_file())
    assert str(USER) not in audit  # no address, value or pre-image of the user
    result_check = verify_erased(
        world.client, load_erasure(world.root), USER, world.root, tuple(records)
    )
    assert result_check.clean and len(result_check.records) == 1
