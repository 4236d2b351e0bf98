"""``dsgit erase`` on the live scan: a rule over a large store is read in pages with a
checkpoint (a killed erase resumes, re-reading at most one interval, every entry once in the
plan), and N shards plan exactly what one process plans."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dsgit.emulator import Emulator
from dsgit.erasure.collect import ScanSettings
from dsgit.erasure.planner import ErasureRequest, plan_erasure
from dsgit.erasure.policy_file import load_erasure
from dsgit.model.entry import EntryData, LiveEntry
from dsgit.plan.model import Plan
from dsgit.plan.segments import change_order, change_set_digest, sorted_lines
from dsgit.remote.budget import Operation
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import emulated_client
from dsgit.scan import Shard
from support import write_files

USER = 45348281
ENTRIES = 700  # three listing pages
POLICY = """\
version: 1
rules:
  - name: tagged
    store: Trades
    users_metadata: true
    action: delete
  - name: rosters
    store: Guilds
    keys: "*"
    pointers: [/members]
    action: remove
"""


class Killed(Exception):
    """Stands for a kill: raised from inside a read, after ``limit`` reads."""


@pytest.fixture
def client(tmp_path: Path) -> Iterator[OpenCloudClient]:
    write_files(tmp_path / "repo", {"policies/erasure.yaml": POLICY})
    emulator = Emulator(db=":memory:")
    made = emulated_client(emulator, universe_id=1)
    for n in range(ENTRIES):
        users = (USER, n) if n % 7 == 0 else (n + 1,)
        made.create_entry("Trades", f"t{n:04d}", EntryData({"n": n}, {}, users))
    for n in range(40):
        members = [n, USER] if n % 4 == 0 else [n]
        made.create_entry("Guilds", f"g{n:02d}", EntryData({"members": members}))
    try:
        yield made
    finally:
        made.close()


def _plan(client: Any, root: Path, settings: ScanSettings) -> Plan:
    request = ErasureRequest("local", 1, USER, scan=settings)
    run = plan_erasure(client, load_erasure(root), request, root)
    run.done()
    return run.plan


def _reads(client: OpenCloudClient) -> int:
    return client.meter.snapshot().get(Operation.READ, 0)


class _Dying:
    """The client, killed (``Killed`` raised) at its ``limit``-th entry read."""

    def __init__(self, client: OpenCloudClient, limit: int) -> None:
        self._client = client
        self._left = limit

    def get_entry(self, store: str, key: str, scope: str = "global") -> LiveEntry | None:
        self._left -= 1
        if self._left < 0:
            raise Killed
        return self._client.get_entry(store, key, scope)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_killed_erase_resumes_and_plans_every_entry_once(
    client: OpenCloudClient, tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    whole = _plan(client, root, ScanSettings(checkpoint=tmp_path / "whole.json"))
    expected = sorted(str(c.address) for c in whole.changes)
    assert len(expected) == ENTRIES // 7 + 10  # tagged trades (0, 7, … 693) + rosters
    settings = ScanSettings(checkpoint=tmp_path / "erase.json", every_entries=50)
    before = _reads(client)
    for limit in (120, 233):  # killed twice, mid-page
        with pytest.raises(Killed):
            _plan(_Dying(client, limit), root, settings)
        assert settings.checkpoint is not None and settings.checkpoint.exists()
    plan = _plan(client, root, settings)
    found = [str(c.address) for c in plan.changes]
    assert sorted(found) == expected and len(found) == len(set(found))
    total = ENTRIES + 40
    # reads before the kills, lost past the last checkpoint: at most one interval each
    reread = _reads(client) - before - total
    assert 0 <= reread <= 2 * 50 + 2 * 32, reread  # plus the reads in flight at each kill
    assert not settings.checkpoint.exists()  # the finished scan is removed with the plan


def test_four_shards_plan_exactly_what_one_process_plans(
    client: OpenCloudClient, tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    whole = _plan(client, root, ScanSettings(checkpoint=tmp_path / "whole.json"))
    parts = [
        _plan(client, root, ScanSettings(checkpoint=tmp_path / f"s{k}.json", shard=Shard(k, 4)))
        for k in range(1, 5)
    ]
    assert all(part.changes for part in parts)  # every shard had a share
    joined = sorted((c for part in parts for c in part.changes), key=change_order)
    assert [str(c.address) for c in joined] == [
        str(c.address) for c in sorted(whole.changes, key=change_order)
    ]
    # the same changes, line for line (values, preconditions, masked diffs)
    assert change_set_digest(sorted_lines(joined)) == change_set_digest(sorted_lines(whole.changes))


def test_shards_list_the_ledger_redactions_of_one_process_and_combine_joins_them(
    client: OpenCloudClient, tmp_path: Path
) -> None:
    import json
    from dataclasses import replace

    from dsgit.ledger import Ledger
    from dsgit.ledger.canonical import user_digest
    from dsgit.ledger.records import ChangeOutcome, ChangeRecord, EntryState
    from dsgit.plan.io import with_digest
    from dsgit.plan.segments import Manifest
    from dsgit.planfile.combine import ShardPlan, combine_plans

    root = tmp_path / "repo"
    state = EntryState(True, "e", "r", "sha256:" + "a" * 64)

    def change(address: str, **kw: Any) -> ChangeRecord:
        return ChangeRecord("a1", address, "update", ChangeOutcome.WRITTEN, state, state, **kw)

    # Earlier records: found by address only (the entries each shard plans), by users, by diff.
    earlier = [change(f"Trades/global/t{n:04d}") for n in range(0, ENTRIES, 7)]
    earlier.append(change("Other/global/x", users=(user_digest(USER),)))
    earlier.append(
        change("Guilds/global/g04", diff=({"pointer": "/members/1", "op": "add", "new": USER},))
    )
    Ledger(root, environment="local").append(earlier, actor="t")
    whole = _plan(client, root, ScanSettings(checkpoint=tmp_path / "whole.json"))
    expected = json.loads(whole.context["redact_ledger"])
    assert len(expected) == len(earlier)
    parts = [
        _plan(client, root, ScanSettings(checkpoint=tmp_path / f"s{k}.json", shard=Shard(k, 4)))
        for k in range(1, 5)
    ]
    lists = [json.loads(part.context["redact_ledger"]) for part in parts]
    assert all(0 < len(items) < len(expected) for items in lists)  # each shard its own share
    # One record (the roster's) is redacted whole where its entry is planned, in its diff
    # elsewhere: the union keeps every field, as the one-process plan does.
    everything = {json.dumps(item, sort_keys=True) for item in expected}
    assert {json.dumps(item, sort_keys=True) for items in lists for item in items} > everything
    shards = [
        ShardPlan(
            tmp_path / f"p{k}.json",
            with_digest(replace(part, context={**part.context, "shard": f"{k}/4"}, digest="")),
        )
        for k, part in enumerate(parts, 1)
    ]
    combined = combine_plans(shards, tmp_path / "combined")
    header = combined.header if isinstance(combined, Manifest) else combined
    joined = json.loads(header.context["redact_ledger"])
    assert {json.dumps(item, sort_keys=True) for item in joined} == everything
