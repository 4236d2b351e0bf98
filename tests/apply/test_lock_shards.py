"""``dsgit lock status|release`` on a lease shared by the shard jobs of one plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dsgit.apply.lock_admin import lock_status, release_lock
from dsgit.apply.shard_lease import ShardLease
from dsgit.errors import ConfigError, LockHeld
from dsgit.ledger.file import Ledger
from dsgit.model.shard import Shard

from .conftest import World

DIGEST = "sha256:" + "ab" * 32


def _join(world: World, index: int) -> ShardLease:
    lease = ShardLease(
        world.client,
        shard=Shard(index, 4),
        holder=f"holder-{index}",
        apply_id=f"a-s{index}of4",
        plan_digest=DIGEST,
        actor=f"job{index}",
        ttl=timedelta(minutes=2),
    )
    lease.acquire()
    return lease


def _release(world: World, **kw: object):  # type: ignore[no-untyped-def]
    return release_lock(
        world.client,
        world.root,
        world.env,
        datetime.now(UTC),
        actor="admin",
        **kw,  # type: ignore[arg-type]
    )


def test_status_lists_each_shard_holder_and_release_takes_only_the_named_one(
    world: World,
) -> None:
    jobs = [_join(world, index) for index in (1, 3, 4)]
    report = lock_status(world.client, world.root, datetime.now(UTC))
    assert report.shared and report.state.status == "held"
    assert [str(view.shard) for view in report.shards] == ["1/4", "3/4", "4/4"]
    assert [view.lease.actor for view in report.shards] == ["job1", "job3", "job4"]
    assert all(view.own_journal is None for view in report.shards)

    with pytest.raises(LockHeld, match=r"--shard K/N.*--all-shards"):
        _release(world, break_lock=True)  # which shard? never all of them by default
    with pytest.raises(LockHeld, match="--break-lock"):
        _release(world, break_lock=False, shard=Shard(3, 4))  # another's job
    with pytest.raises(ConfigError, match="shard 2/4 holds no part"):
        _release(world, break_lock=True, shard=Shard(2, 4))

    done = _release(world, break_lock=True, shard=Shard(3, 4))
    assert done.released_shards == (Shard(3, 4),) and done.broken_shards == (Shard(3, 4),)
    after = lock_status(world.client, world.root, datetime.now(UTC))
    assert [str(view.shard) for view in after.shards] == ["1/4", "4/4"]
    assert after.state.status == "held"  # the others still hold it
    breaks = [r for r in Ledger(world.root).records() if r.body.type == "lock-break"]
    assert [(b.body.holder, b.body.apply_id) for b in breaks] == [("holder-3", "a-s3of4")]

    jobs[1].release()  # the broken job leaves quietly: nothing of its own is left
    jobs[0].renew()  # the others go on renewing

    done = _release(world, break_lock=True, all_shards=True)
    assert done.released_shards == (Shard(1, 4), Shard(4, 4))
    assert lock_status(world.client, world.root, datetime.now(UTC)).state.status == "released"
    breaks = [r for r in Ledger(world.root).records() if r.body.type == "lock-break"]
    assert len(breaks) == 3
    with pytest.raises(ConfigError, match="not held"):
        _release(world, break_lock=True, shard=Shard(1, 4))
