"""``dsgit lock status|release``: look at an environment's lease and release it by hand.

A lease is *this repository's own* when its holder id is in one of its apply journals
(``.dsgit/journal/*.jsonl``): an apply run from this checkout took it. Such a lease is released
without ``--break-lock`` once no apply of that journal is running on this machine (the journal's
``flock`` tells). A lease of any other holder — another machine, another CI runner — is released
only with ``--break-lock``, and that is recorded in the ledger (a ``lock-break`` record), because
the apply holding it may still be running: its next renewal then fails and it stops, resumable.

A lease shared by the N shard jobs of one plan (``apply --shard K/N``,
:mod:`dsgit.apply.shard_lease`) is shown with each shard holder, and released one shard at a
time (``--shard K/N``) or all of them (``--all-shards``), each member by the same rules: this
repository's own job unless it is running here, another's only with ``--break-lock`` and a
``lock-break`` record naming that member (its holder, its apply id ``…-sKofN``, its host).
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from dsgit.apply.journal import JOURNAL_DIR
from dsgit.apply.lock import (
    LOCK_KEY,
    LOCK_SCOPE,
    LOCK_STORE,
    Lease,
    LeaseState,
    release_lease,
)
from dsgit.apply.shard_lease import ShardHolder, remove_shard_holders, shard_holders
from dsgit.config import Environment
from dsgit.errors import ConfigError, LockHeld
from dsgit.ledger.file import Ledger
from dsgit.ledger.signing import Signer
from dsgit.model.shard import Shard
from dsgit.remote.api import OpenCloudApi

__all__ = ["LockReport", "ShardView", "lock_status", "own_journals", "release_lock"]


@dataclass(frozen=True)
class ShardView:
    """One shard job of a shared lease, and whether this repository's apply it is."""

    holder: ShardHolder
    own_journal: Path | None

    @property
    def shard(self) -> Shard:
        return self.holder.shard

    @property
    def lease(self) -> Lease:
        return self.holder.lease

    def status(self, now: datetime) -> str:
        """``held``, or ``expired`` (the job stopped renewing it: it probably died)."""
        return "expired" if self.lease.expired(now) else "held"


@dataclass(frozen=True)
class LockReport:
    """The lease as found, whether this repository holds it, and what was done.

    ``shards``: each shard job of a shared lease; ``released_shards`` the ones this command
    took out of it, ``broken_shards`` those of them that were not this repository's."""

    state: LeaseState
    own_journal: Path | None
    released: bool = False
    broke: bool = False
    shards: tuple[ShardView, ...] = ()
    released_shards: tuple[Shard, ...] = ()
    broken_shards: tuple[Shard, ...] = ()

    @property
    def own(self) -> bool:
        return self.own_journal is not None

    @property
    def shared(self) -> bool:
        return self.state.lease is not None and self.state.lease.holder.startswith("shards:")


def own_journals(root: Path) -> Iterator[tuple[str, Path]]:
    """``(holder id, journal)`` of every apply journal of this repository."""
    folder = root / JOURNAL_DIR
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.jsonl")):
        try:
            with path.open("rb") as handle:
                for line in handle:
                    try:
                        record = json.loads(line)
                    except ValueError:
                        break
                    if isinstance(record, dict) and record.get("t") == "begin":
                        holder = record.get("holder")
                        if isinstance(holder, str):
                            yield holder, path
                        break
        except OSError:
            continue


def _own_journal(root: Path, lease: Lease | None) -> Path | None:
    if lease is None:
        return None
    for holder, path in own_journals(root):
        if holder == lease.holder:
            return path
    return None


def _running(journal: Path) -> bool:
    """True when an apply of this journal runs on this machine now (it holds the flock)."""
    try:
        handle = journal.open("rb")
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return False


def lock_status(api: OpenCloudApi, root: Path, now: datetime) -> LockReport:
    live = api.get_entry(LOCK_STORE, LOCK_KEY, LOCK_SCOPE)
    if live is None:
        return LockReport(LeaseState(None, None, now), None)
    state = LeaseState(Lease.from_json(live.value), live.etag, now)
    shards: tuple[ShardView, ...] = ()
    if state.lease is not None and not state.lease.released:
        shards = tuple(
            ShardView(holder, _own_journal(root, holder.lease))
            for holder in shard_holders(live.value)
        )
    return LockReport(state, _own_journal(root, state.lease), shards=shards)


def release_lock(
    api: OpenCloudApi,
    root: Path,
    env: Environment,
    now: datetime,
    *,
    break_lock: bool,
    actor: str,
    signer: Signer | None = None,
    shard: Shard | None = None,
    all_shards: bool = False,
) -> LockReport:
    """Release the environment's lease as the rules of this module allow (of a shared lease:
    the member of ``shard``, or with ``all_shards`` every member).

    Raises ``LockHeld`` when it may not be released (another's, without ``break_lock``; or an
    apply of this repository still running), ``ConfigError`` when ``shard``/``all_shards`` do
    not fit the lease, ``LockNotReleased`` when the write fails.
    """
    report = lock_status(api, root, now)
    state, lease = report.state, report.state.lease
    if lease is None or lease.released:
        if shard is not None or all_shards:
            raise ConfigError("the environment lock is not held: there is no shard to release")
        return report
    if report.shared:
        return _release_shards(api, root, env, report, shard, all_shards, break_lock, actor, signer)
    if shard is not None or all_shards:
        raise ConfigError(
            f"the environment lock is not shared by shard jobs ({lease.describe()}): release "
            "it without --shard or --all-shards"
        )
    if report.own_journal is not None:
        if _running(report.own_journal):
            raise LockHeld(
                f"the lease is held by an apply running on this machine now ({lease.describe()});"
                " wait for it to finish, or stop it (Ctrl-C releases the lease)"
            )
        return LockReport(state, report.own_journal, released=release_lease(api, state))
    if not break_lock:
        expired = "expired " if lease.expired(now) else ""
        raise LockHeld(
            f"the {expired}lease is not this repository's ({lease.describe()}); release it "
            "from where it was taken, or force it with --break-lock (recorded in the ledger; "
            "a running apply that holds it then stops at its next renewal)"
        )
    ledger = Ledger.of_universe(root, env.name, api, signer)
    ledger.check_appendable()  # the break must be recorded: refuse before, not after
    released = release_lease(api, state)
    if released:
        ledger.append(
            [lease.break_record(env.name, env.universe_id, expired=lease.expired(now))],
            actor=actor,
        )
    return LockReport(state, None, released=released, broke=released)


def _release_shards(
    api: OpenCloudApi,
    root: Path,
    env: Environment,
    report: LockReport,
    shard: Shard | None,
    all_shards: bool,
    break_lock: bool,
    actor: str,
    signer: Signer | None,
) -> LockReport:
    """Take the chosen shard jobs out of a shared lease (see the module doc)."""
    state, now = report.state, report.state.now
    assert state.lease is not None
    holders = ", ".join(str(view.shard) for view in report.shards) or "none"
    if shard is None and not all_shards:
        raise LockHeld(
            f"the environment lock is shared by the shard jobs of plan "
            f"{state.lease.plan_digest[:19]}… (shards {holders}): name the one to release "
            "with --shard K/N, or release every shard with --all-shards"
        )
    chosen = [view for view in report.shards if shard is None or view.shard == shard]
    if shard is not None and not chosen:
        raise ConfigError(
            f"shard {shard} holds no part of the shared environment lock (shards holding it: "
            f"{holders})"
        )
    for view in chosen:
        if view.own_journal is not None and _running(view.own_journal):
            raise LockHeld(
                f"shard {view.shard} is held by an apply running on this machine now "
                f"({view.lease.describe()}); wait for it to finish, or stop it"
            )
    others = [view for view in chosen if view.own_journal is None]
    if others and not break_lock:
        described = "; ".join(f"shard {v.shard}: {v.lease.describe()}" for v in others)
        raise LockHeld(
            f"not this repository's ({described}); release it from where it was taken, or "
            "force it with --break-lock (recorded in the ledger; a running shard job then "
            "stops at its next renewal)"
        )
    ledger = Ledger.of_universe(root, env.name, api, signer) if others else None
    if ledger is not None:
        ledger.check_appendable()  # the break must be recorded: refuse before, not after
    removed = remove_shard_holders(
        api,
        state.lease.holder,
        {view.shard.index: view.lease.holder for view in chosen},
        now,
    )
    released = tuple(view.shard for view in chosen if view.shard.index in removed)
    broken = tuple(view for view in others if view.shard.index in removed)
    if ledger is not None and broken:
        ledger.append(
            [
                view.lease.break_record(env.name, env.universe_id, expired=view.lease.expired(now))
                for view in broken
            ],
            actor=actor,
        )
    return replace(
        report,
        released=bool(released),
        broke=bool(broken),
        released_shards=released,
        broken_shards=tuple(view.shard for view in broken),
    )
