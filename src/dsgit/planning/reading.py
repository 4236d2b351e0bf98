"""The state one live read for a plan builds up, shared by every kind's reader.

Each kind reads its own resources (``ResourceKind.read_live`` in :mod:`dsgit.kinds`) into one
:class:`Reading`: listings per scope, entries read, diagnostics, and the spot checks that
confirm an empty listing. :mod:`dsgit.planning.read` runs the kinds and turns the reading into
the core's :class:`~dsgit.plan.live.LiveState`.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field

from dsgit.errors import (
    DsgitError,
    MalformedResponse,
    RateLimitedError,
    RemoteError,
    TransportError,
)
from dsgit.model.declaration import Ownership
from dsgit.model.entry import RESERVED_STORE, Address
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.desired import DesiredEntry, DesiredState, StoreSpec
from dsgit.plan.live import LiveValue, ScopeKey, ScopeListing
from dsgit.plan.model import Diagnostic
from dsgit.plan.targets import AddressFilter

__all__ = ["SPOT_CHECKS", "Reading", "fail", "fix_for", "listed", "read_failure"]

SPOT_CHECKS = 3  # declared keys read to confirm an empty listing
LISTING_WORKERS = 8  # scopes listed at once (each listing pages one request at a time)


@dataclass
class Reading:
    """What the kinds' readers found so far (thread-safe through ``lock``)."""

    desired: DesiredState
    select: AddressFilter
    listings: dict[ScopeKey, ScopeListing] = field(default_factory=dict)
    entries: dict[Address, LiveValue | None] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    spot: dict[ScopeKey, list[Address]] = field(default_factory=dict)
    requested: set[Address] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    wanted: dict[ScopeKey, set[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.wanted = self._wanted()

    def _wanted(self) -> dict[ScopeKey, set[str]]:
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


def listed(spec: StoreSpec) -> bool:
    """Stores whose scopes are listed (owned or pruned ones: git's), not just read."""
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


def fail(reading: Reading, key: ScopeKey, exc: DsgitError) -> None:
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


def read_failure(what: str, exc: DsgitError, missing: int) -> Diagnostic:
    """DSP014 for reads that failed part way: ``missing`` entries were not read."""
    return diagnostic(
        DiagnosticCode.READ_FAILED,
        f"{what} failed ({exc}); {missing} entries were not read",
        count=missing,
        fix=fix_for(exc, None),
    )
