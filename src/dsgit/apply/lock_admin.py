"""``dsgit lock status|release``: look at an environment's lease and release it by hand.

A lease is *this repository's own* when its holder id is in one of its apply journals
(``.dsgit/journal/*.jsonl``): an apply run from this checkout took it. Such a lease is released
without ``--break-lock`` once no apply of that journal is running on this machine (the journal's
``flock`` tells). A lease of any other holder — another machine, another CI runner — is released
only with ``--break-lock``, and that is recorded in the ledger (a ``lock-break`` record), because
the apply holding it may still be running: its next renewal then fails and it stops, resumable.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dsgit.apply.journal import JOURNAL_DIR
from dsgit.apply.lock import LeaseState, read_lease, release_lease
from dsgit.config import Environment
from dsgit.errors import LockHeld
from dsgit.ledger.file import Ledger
from dsgit.ledger.signing import Signer
from dsgit.remote.api import OpenCloudApi

__all__ = ["LockReport", "lock_status", "own_journals", "release_lock"]


@dataclass(frozen=True)
class LockReport:
    """The lease as found, whether this repository holds it, and what was done."""

    state: LeaseState
    own_journal: Path | None
    released: bool = False
    broke: bool = False

    @property
    def own(self) -> bool:
        return self.own_journal is not None


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


def _own_journal(root: Path, state: LeaseState) -> Path | None:
    if state.lease is None:
        return None
    for holder, path in own_journals(root):
        if holder == state.lease.holder:
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
    state = read_lease(api, now)
    return LockReport(state, _own_journal(root, state))


def release_lock(
    api: OpenCloudApi,
    root: Path,
    env: Environment,
    now: datetime,
    *,
    break_lock: bool,
    actor: str,
    signer: Signer | None = None,
) -> LockReport:
    """Release the environment's lease as the rules of this module allow.

    Raises ``LockHeld`` when it may not be released (another's, without ``break_lock``; or an
    apply of this repository still running), ``LockNotReleased`` when the write fails.
    """
    report = lock_status(api, root, now)
    state, lease = report.state, report.state.lease
    if lease is None or lease.released:
        return report
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
