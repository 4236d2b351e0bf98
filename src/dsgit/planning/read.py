"""Reading live state for a plan: the only module of ``dsgit.plan`` that talks to Open Cloud.

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

import threading
from collections import defaultdict
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from dsgit.errors import (
    DsgitError,
    MalformedResponse,
    NotFoundError,
    RateLimitedError,
    RemoteError,
    RunFatal,
    TransportError,
)
from dsgit.model.declaration import Ownership
from dsgit.model.entry import RESERVED_STORE, Address, LiveEntry, LiveOrderedEntry, StoreKind
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.desired import DesiredEntry, DesiredState, StoreSpec
from dsgit.plan.live import LiveState, LiveValue, ScopeKey, ScopeListing
from dsgit.plan.model import Diagnostic
from dsgit.plan.targets import AddressFilter
from dsgit.remote.api import OpenCloudApi
from dsgit.remote.concurrent import map_concurrently, merge_concurrently

__all__ = ["SPOT_CHECKS", "ReadObserver", "fix_for", "read_live"]

SPOT_CHECKS = 3  # declared keys read to confirm an empty listing
_ORDERED_WORKERS = 8
_LISTING_WORKERS = 8  # scopes listed at once (each listing pages one request at a time)


class ReadObserver(Protocol):
    """Told, before anything is sent, how many reads and listings the plan expects (for
    progress and the rate-budget notice)."""

    def expect(self, reads: int, lists: int) -> None: ...


@dataclass
class _Reading:
    desired: DesiredState
    select: AddressFilter
    listings: dict[ScopeKey, ScopeListing] = field(default_factory=dict)
    entries: dict[Address, LiveValue | None] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    spot: dict[ScopeKey, list[Address]] = field(default_factory=dict)
    requested: set[Address] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wanted(self) -> dict[ScopeKey, set[str]]:
        """Declared keys per scope that this plan covers (rename sources included)."""
        found: dict[ScopeKey, set[str]] = defaultdict(set)
        for address, want in self.desired.entries.items():
            if address.store == RESERVED_STORE:
                continue
            moved = want.moved_from if isinstance(want, DesiredEntry) else None
            if self.select.selects(address) or (moved is not None and self.select.selects(moved)):
                found[(address.kind, address.store, address.scope)].add(address.key)
                if moved is not None:
                    found[(moved.kind, moved.store, moved.scope)].add(moved.key)
        return found


def _listed(spec: StoreSpec) -> bool:
    return spec.policy.ownership is Ownership.OWNED or spec.policy.prune


def fix_for(exc: DsgitError, default: str | None) -> str | None:
    """The suggested fix that matches what went wrong (not one guess for every cause)."""
    if isinstance(exc, MalformedResponse):
        return (
            "the service answered something that is not Open Cloud's API: check the "
            "environment's `url`, then retry"
        )
    if isinstance(exc, RemoteError):
        if exc.status >= 500:
            return f"Open Cloud answered HTTP {exc.status} (a fault on its side): retry later"
        if exc.status == 400:
            return "Open Cloud refused the request as invalid: check the store and scope names"
        if exc.status == 429:
            return "retry later or lower `budget.share`"
    if isinstance(exc, TransportError):
        return "the request got no answer: check the network and retry"
    return default


def _fail(reading: _Reading, key: ScopeKey, exc: DsgitError) -> None:
    kind, store, scope = key
    label = f"{kind.value}:{store}"
    code = (
        DiagnosticCode.LISTING_THROTTLED
        if isinstance(exc, RateLimitedError)
        else DiagnosticCode.LISTING_FAILED
    )
    found = diagnostic(
        code,
        f"{label}/{scope}: listing failed ({exc}); nothing in this scope is planned",
        store=label,
    )
    fixed = diagnostic(code, found.message, store=label, fix=fix_for(exc, found.fix) or found.fix)
    with reading.lock:
        reading.listings[key] = ScopeListing.failed()
        reading.diagnostics.append(fixed)


def _list_scope(
    api: OpenCloudApi, reading: _Reading, key: ScopeKey, prune: bool, wanted: set[str]
) -> Iterator[tuple[str, str, str]]:
    """List one standard scope, yielding read requests as pages arrive."""
    kind, store, scope = key
    keys: set[str] = set()
    try:
        for item in api.list_keys(store, scope):
            if item.deleted:
                continue
            keys.add(item.key)
            address = Address(kind, store, scope, item.key)
            if item.key in wanted or (prune and reading.select.selects(address)):
                with reading.lock:
                    reading.requested.add(address)
                yield (store, scope, item.key)
    except NotFoundError:
        keys = set()  # the data store does not exist (yet): an empty listing, checked below
    except RunFatal:
        raise
    except DsgitError as exc:
        _fail(reading, key, exc)
        return
    with reading.lock:
        reading.listings[key] = ScopeListing(ok=True, keys=frozenset(keys))
    if not keys and wanted:
        # An empty listing is suspicious when keys are declared: confirm with a few reads.
        checks = [Address(kind, store, scope, name) for name in sorted(wanted)[:SPOT_CHECKS]]
        with reading.lock:
            reading.spot[key] = checks
            reading.requested.update(checks)
        for address in checks:
            yield (store, scope, address.key)


def _list_ordered(api: OpenCloudApi, reading: _Reading, key: ScopeKey) -> None:
    _kind, store, scope = key
    try:
        values = {item.key: item.value for item in api.list_ordered(store, scope)}
    except NotFoundError:
        values = {}  # the data store does not exist (yet): an empty listing, checked later
    except RunFatal:
        raise
    except DsgitError as exc:
        _fail(reading, key, exc)
        return
    with reading.lock:
        reading.listings[key] = ScopeListing(ok=True, values=values)


def _direct(
    reading: _Reading, requests: list[tuple[str, str, str]]
) -> Iterator[tuple[str, str, str]]:
    for store, scope, name in requests:
        with reading.lock:
            reading.requested.add(Address(StoreKind.STANDARD, store, scope, name))
        yield (store, scope, name)


def _requests(
    api: OpenCloudApi, reading: _Reading, wanted: dict[ScopeKey, set[str]]
) -> Generator[tuple[str, str, str], None, None]:
    """Every standard read the plan needs, interleaved with the listings that find them.

    Listings of different scopes run concurrently; reads of unlisted (seed, observed) stores
    are a source of their own, so they start at once too.
    """
    listed: set[ScopeKey] = set()
    sources: list[Callable[[], Iterator[tuple[str, str, str]]]] = []
    for (kind, name), spec in sorted(reading.desired.stores.items()):
        if kind is not StoreKind.STANDARD or name == RESERVED_STORE or not _listed(spec):
            continue
        if not reading.select.may_select_store(kind, name):
            continue
        scopes = set(spec.scopes) | {s for (k, st, s) in wanted if k is kind and st == name}
        for scope in sorted(scopes):
            key = (kind, name, scope)
            listed.add(key)
            sources.append(
                partial(_list_scope, api, reading, key, spec.policy.prune, wanted.get(key, set()))
            )
    direct = [
        (store, scope, name)
        for scope_key, names in sorted(wanted.items())
        if scope_key[0] is StoreKind.STANDARD and scope_key not in listed
        for _, store, scope in [scope_key]
        for name in sorted(names)
    ]
    if direct:
        sources.append(partial(_direct, reading, direct))
    yield from merge_concurrently(sources, workers=_LISTING_WORKERS + 1)


def _read_standard(api: OpenCloudApi, reading: _Reading, wanted: dict[ScopeKey, set[str]]) -> None:
    requests = _requests(api, reading, wanted)
    try:
        try:
            for (store, scope, key), live in api.get_entries(requests):
                reading.entries[Address(StoreKind.STANDARD, store, scope, key)] = live
        finally:
            requests.close()  # stops the listing threads before their findings are read
    except RunFatal:
        raise
    except DsgitError as exc:
        missing = reading.requested - reading.entries.keys()
        reading.diagnostics.append(
            diagnostic(
                DiagnosticCode.READ_FAILED,
                f"reading live entries failed ({exc}); {len(missing)} entries were not read",
                count=len(missing),
                fix=fix_for(exc, None),
            )
        )
        for scope_key in wanted:
            if scope_key[0] is StoreKind.STANDARD and scope_key not in reading.listings:
                reading.listings[scope_key] = ScopeListing.failed()


def _read_ordered(api: OpenCloudApi, reading: _Reading, wanted: dict[ScopeKey, set[str]]) -> None:
    direct: list[Address] = []
    listings: list[ScopeKey] = []
    for (kind, name), spec in sorted(reading.desired.stores.items()):
        if kind is not StoreKind.ORDERED or not reading.select.may_select_store(kind, name):
            continue
        scopes = set(spec.scopes) | {s for (k, st, s) in wanted if k is kind and st == name}
        if _listed(spec):
            listings.extend((kind, name, scope) for scope in sorted(scopes))
    for _ in map_concurrently(
        partial(_list_ordered, api, reading), listings, workers=_LISTING_WORKERS
    ):
        pass
    for key, names in sorted(wanted.items()):
        kind, store, scope = key
        if kind is not StoreKind.ORDERED:
            continue
        listing = reading.listings.get(key)
        if listing is not None and listing.ok and not listing.values and names:
            reading.spot[key] = [
                Address(kind, store, scope, n) for n in sorted(names)[:SPOT_CHECKS]
            ]
            direct.extend(reading.spot[key])
        elif listing is None:
            direct.extend(Address(kind, store, scope, name) for name in sorted(names))

    reading.requested.update(direct)

    def read(address: Address) -> LiveOrderedEntry | None:
        return api.get_ordered(address.store, address.key, address.scope)

    try:
        for address, live in map_concurrently(read, direct, workers=_ORDERED_WORKERS):
            reading.entries[address] = live
    except RunFatal:
        raise
    except DsgitError as exc:
        reading.diagnostics.append(
            diagnostic(
                DiagnosticCode.READ_FAILED,
                f"reading live ordered entries failed ({exc})",
                count=len(set(direct) - reading.entries.keys()),
                fix=fix_for(exc, None),
            )
        )


def _check_spots(reading: _Reading) -> None:
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


def _expected_lists(reading: _Reading, wanted: dict[ScopeKey, set[str]]) -> int:
    count = 0
    for (kind, name), spec in reading.desired.stores.items():
        if name == RESERVED_STORE or not _listed(spec):
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
    reading = _Reading(desired, select)
    wanted = reading.wanted()
    if observer is not None:
        # An upper estimate: declared keys that a listing shows absent are not read.
        observer.expect(
            sum(len(names) for names in wanted.values()), _expected_lists(reading, wanted)
        )
    _read_standard(api, reading, wanted)
    _read_ordered(api, reading, wanted)
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
