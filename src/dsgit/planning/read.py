"""Reading live state for a plan: each registered kind reads its own resources
(``ResourceKind.read_live``) into one :class:`~dsgit.planning.reading.Reading`; this module runs
them, confirms empty listings and hands the core a :class:`~dsgit.plan.live.LiveState`.

For the data store kinds:

Requests made, and nothing else:

- one listing per managed scope of every **owned** store (keys only; ordered listings carry
  values), because owned stores are git's: the listing finds keys to prune and spares a read
  for every declared key that does not exist yet;
- one read per declared entry that the listing shows live, and per key to prune (a delete
  needs the etag for its precondition); entries of ``seed`` and ``observed`` stores are read
  directly, without listing (those stores hold player data: listing millions of keys to find a
  few declared ones would spend the budget for nothing).

Reads start as soon as a listing page names their key (``OpenCloudApi.get_entries`` consumes
requests lazily), so listing and reading overlap within the rate budget.

Listings of different scopes run at once (on a few threads, within the rate budget), so a plan
over many stores is not the sum of their listing times, and a slow or failing store does not
hold up the others.

An error that ends the whole run (the service cannot be reached, refuses the API key, or
answers only 5xx: :class:`dsgit.errors.RunFatal`) is raised, not turned into one diagnostic per
store: no plan is made from it. A listing that fails or is throttled is an error diagnostic
(DSP011 / DSP012), never "everything was deleted": its scope is marked failed and nothing in
it is planned. An empty listing is only believed when the scope declares no entry, or when
reads of up to three declared keys confirm that they are absent; if any of them exists, the
listing is wrong (DSP013). Roblox answers the listing of a store that does not exist with an
empty page (a 404 is read the same way), so an empty, confirmed listing means "nothing there
yet", which is the normal state of a new store.
"""

from __future__ import annotations

from typing import Protocol

from dsgit.kinds import registered
from dsgit.model.entry import RESERVED_STORE, LiveEntry, LiveOrderedEntry
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.desired import DesiredState
from dsgit.plan.live import LiveState, ScopeListing
from dsgit.plan.targets import AddressFilter
from dsgit.planning.reading import SPOT_CHECKS, Reading, fix_for, listed
from dsgit.remote.api import OpenCloudApi

__all__ = ["SPOT_CHECKS", "ReadObserver", "fix_for", "read_live"]


class ReadObserver(Protocol):
    """Told, before anything is sent, how many reads and listings the plan expects (for
    progress and the rate-budget notice)."""

    def expect(self, reads: int, lists: int) -> None: ...


def _check_spots(reading: Reading) -> None:
    for key, checks in sorted(reading.spot.items()):
        found = [
            a for a in checks if isinstance(reading.entries.get(a), LiveEntry | LiveOrderedEntry)
        ]
        if not found:
            continue
        kind, store, scope = key
        label = f"{kind.value}:{store}"
        reading.listings[key] = ScopeListing.failed()
        reading.diagnostics.append(
            diagnostic(
                DiagnosticCode.LISTING_INCONSISTENT,
                f"{label}/{scope}: the listing returned no keys, but {found[0]} exists live; "
                "the listing cannot be trusted, nothing in this scope is planned",
                store=label,
            )
        )


def _expected_lists(reading: Reading) -> int:
    wanted = reading.wanted
    count = 0
    for (kind, name), spec in reading.desired.stores.items():
        if name == RESERVED_STORE or not listed(spec):
            continue
        if not reading.select.may_select_store(kind, name):
            continue
        scopes = set(spec.scopes) | {s for (k, st, s) in wanted if k is kind and st == name}
        count += len(scopes)
    return count


def read_live(
    api: OpenCloudApi,
    desired: DesiredState,
    select: AddressFilter,
    observer: ReadObserver | None = None,
) -> LiveState:
    """List and read what planning ``desired`` (restricted to ``select``) needs."""
    reading = Reading(desired, select)
    if observer is not None:
        # An upper estimate: declared keys that a listing shows absent are not read.
        observer.expect(
            sum(len(names) for names in reading.wanted.values()), _expected_lists(reading)
        )
    for kind in registered():
        kind.read_live(api, reading)
    _check_spots(reading)
    unread = frozenset(reading.requested - reading.entries.keys())
    # Listings finish in any order: sort their findings so the same state plans the same way.
    found = sorted(reading.diagnostics, key=lambda d: (d.code, d.store or "", d.message))
    return LiveState(
        listings=dict(reading.listings),
        entries=dict(reading.entries),
        unread=unread,
        diagnostics=tuple(found),
    )
