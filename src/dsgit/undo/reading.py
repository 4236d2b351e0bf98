"""Live reads of undo plans: the current state of a known set of addresses, or their state at a
past time. Failures become error diagnostics (DSP014), never "absent"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from dsgit.errors import DsgitError, RunFatal
from dsgit.kinds import registered
from dsgit.model.entry import Address, LiveEntry, StoreKind
from dsgit.plan.live import LiveState, LiveValue, ScopeKey, ScopeListing
from dsgit.plan.model import Diagnostic
from dsgit.planning.reading import read_failure
from dsgit.remote.api import OpenCloudApi
from dsgit.remote.concurrent import map_concurrently

__all__ = ["Reads", "read_at", "read_now"]

_WORKERS = 8


@dataclass(frozen=True)
class Reads:
    """What was read: entries (None: absent), the addresses that failed, and why."""

    entries: Mapping[Address, LiveValue | None] = field(default_factory=dict)
    failed: frozenset[Address] = frozenset()
    diagnostics: tuple[Diagnostic, ...] = ()

    def live_state(self, listings: Mapping[ScopeKey, ScopeListing] | None = None) -> LiveState:
        return LiveState(
            listings=dict(listings or {}),
            entries=dict(self.entries),
            unread=self.failed,
            diagnostics=self.diagnostics,
        )


def read_now(api: OpenCloudApi, addresses: Iterable[Address]) -> Reads:
    """The latest state of every address, each kind reading its own (``read_current``)."""
    wanted = sorted(set(addresses))
    entries: dict[Address, LiveValue | None] = {}
    diagnostics: list[Diagnostic] = []
    for kind in registered():
        mine = [a for a in wanted if a.kind is kind.name]
        if mine:
            problem = kind.read_current(api, mine, entries)
            if problem is not None:
                diagnostics.append(problem)
    failed = frozenset(a for a in wanted if a not in entries)
    return Reads(entries, failed, tuple(diagnostics))


def read_at(api: OpenCloudApi, addresses: Iterable[Address], at: datetime) -> Reads:
    """Standard entries as they were at ``at`` (``@latest:<time>``); None: absent then."""
    wanted = sorted(a for a in set(addresses) if a.kind is StoreKind.STANDARD)

    def read(address: Address) -> LiveEntry | None:
        return api.get_entry(address.store, address.key, address.scope, at=at)

    entries: dict[Address, LiveValue | None] = {}
    diagnostics: list[Diagnostic] = []
    try:
        for address, found in map_concurrently(read, wanted, workers=_WORKERS):
            entries[address] = found
    except RunFatal:
        raise  # the run is over (unreachable, key refused): one error, no plan
    except DsgitError as exc:
        missing = sum(1 for a in wanted if a not in entries)
        diagnostics.append(read_failure(f"reading entries at {at.isoformat()}", exc, missing))
    failed = frozenset(a for a in wanted if a not in entries)
    return Reads(entries, failed, tuple(diagnostics))
