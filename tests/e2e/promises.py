"""Helpers of the apply-promise tests (kills placed exactly, a game server racing apply).

:func:`revision_counting_emulator` is the ONE place these tests start the served emulator:
they count revisions to prove a write landed at most once, which needs the emulator to keep
every write: ``serve`` (conftest) starts it with ``--versions all`` (by default it keeps
Roblox's one version per key per UTC hour).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dsgit.apply.lock import LOCK_KEY, LOCK_SCOPE, LOCK_STORE, Lease
from dsgit.apply.stop_points import ENV_VAR, PREFIX
from dsgit.ledger import ApplyRecord, ChangeRecord, Ledger
from dsgit.remote.client import OpenCloudClient

from .conftest import Repo, Served, serve


@contextmanager
def revision_counting_emulator(*options: str) -> Iterator[Served]:
    """`dsgit emulator serve` keeping every write as a revision (see the module docstring)."""
    with serve("--ccu", "20000", *options) as served:
        yield served


def stop_at(point: str) -> dict[str, str]:
    """The environment that makes `dsgit apply` SIGKILL itself at ``point``."""
    return {ENV_VAR: PREFIX + point}


KILLED = -9  # what subprocess reports for a process that got SIGKILL


def make_plan(repo: Repo, name: str = "plan.json") -> dict[str, object]:
    repo.dsgit("plan", "-o", name)
    document: dict[str, object] = json.loads((repo.root / name).read_text())
    return document


def revisions(game: OpenCloudClient, store: str, key: str) -> list[str]:
    """States of every revision of an entry, oldest first (ACTIVE / DELETED)."""
    return [r.state for r in game.list_revisions(store, key)]


def lease(game: OpenCloudClient) -> Lease | None:
    live = game.get_entry(LOCK_STORE, LOCK_KEY, LOCK_SCOPE)
    return Lease.from_json(live.value) if live is not None else None


def apply_records(root: Path) -> Counter[tuple[str, str]]:
    """``(apply id, status)`` of every apply record, counted."""
    return Counter(
        (r.body.apply_id, r.body.status)
        for r in Ledger(root).records()
        if isinstance(r.body, ApplyRecord)
    )


def change_records(root: Path) -> Counter[tuple[str, str]]:
    """``(apply id, address)`` of every change record, counted."""
    return Counter(
        (r.body.apply_id, r.body.address)
        for r in Ledger(root).records()
        if isinstance(r.body, ChangeRecord)
    )
