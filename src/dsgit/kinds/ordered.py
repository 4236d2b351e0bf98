"""Ordered data stores: integers per key, no metadata, no revisions.

Files: ``ordered/<store>/<scope>.yaml`` (one mapping of keys to integers per scope) and the
store's ``_store.yaml``. Precondition: :class:`OrderedPrecondition` (the live integer).

Execution has no precondition on the wire: the entry is read and compared just before each
write. Ordered entries keep no revisions, so an interrupted write that may have landed and been
undone since cannot be told from one that never landed: it is a conflict, never a second write.
An increment's intent records the integer before, so a landed increment shows as exactly
``before + amount``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from dsgit.apply.step import ABSENT, EXISTS_STATUSES, Step
from dsgit.errors import DsgitError, NotFoundError, RemoteError, RunFatal, WriteOutcomeUnknown
from dsgit.ledger.records import ChangeOutcome, EntryState
from dsgit.model.entry import Address, EntryData, LiveOrderedEntry, StoreKind
from dsgit.model.layout import ORDERED_DIR
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.digest import entry_digest
from dsgit.plan.live import ScopeKey, ScopeListing
from dsgit.plan.model import Action, OrderedPrecondition, increment_of
from dsgit.planning.reading import (
    LISTING_WORKERS,
    SPOT_CHECKS,
    Reading,
    fail,
    fix_for,
    listed,
    read_failure,
)
from dsgit.remote.api import OrderedEntriesApi
from dsgit.remote.concurrent import map_concurrently

if TYPE_CHECKING:
    from dsgit.apply.execute import ChangeExecutor
    from dsgit.apply.result import ChangeResult
    from dsgit.model.declaration import StoreDeclaration
    from dsgit.plan.live import LiveValue
    from dsgit.plan.model import Diagnostic
    from dsgit.remote.api import OpenCloudApi
    from dsgit.repo.loader import RepositoryReader

__all__ = ["KIND", "OrderedKind"]

_LAYOUT = "ordered/<store>/<scope>.yaml"

_READ_WORKERS = 8  # ordered entries read at once (no batched read exists)


def _ordered_state(live: LiveOrderedEntry | None) -> EntryState:
    if live is None:
        return ABSENT
    return EntryState(True, None, None, entry_digest(EntryData(live.value)))


def _ordered_data(live: LiveOrderedEntry | None) -> EntryData | None:
    return EntryData(live.value) if live is not None else None


def _execute(
    run: ChangeExecutor, api: OrderedEntriesApi, step: Step, intent: Mapping[str, Any] | None
) -> ChangeResult:
    change = step.change
    address, action, pre = change.address, change.action, change.precondition
    store, key, scope = address.store, address.key, address.scope
    live = api.get_ordered(store, key, scope)
    before = _ordered_state(live)
    live_value = live.value if live is not None else None
    if action is Action.INCREMENT:
        amount = increment_of(change) or 0
        if intent is not None and live_value != intent.get("value"):
            earlier = EntryState.from_json(intent["before"])
            if live_value == (intent.get("value") or 0) + amount:
                return run.done(step, ChangeOutcome.WRITTEN, earlier, before, "resumed")
            return run.conflict(
                step, before, "changed after an interrupted increment; not incremented again"
            )
        if live is None:
            return run.conflict(step, before, "deleted since the plan; not incremented")
        run.record_intent(
            step, live is not None, _ordered_data(live), before, value=live_value or 0
        )
        try:
            written = api.increment_ordered(store, key, amount, scope)
        except WriteOutcomeUnknown:
            now = api.get_ordered(store, key, scope)
            if now is not None and now.value == (live_value or 0) + amount:
                return run.done(step, ChangeOutcome.WRITTEN, before, _ordered_state(now))
            raise
        return run.done(step, ChangeOutcome.WRITTEN, before, _ordered_state(written))
    target = step.data.value if step.data is not None else None
    reached = (
        (live is None) if action is Action.DELETE else (live is not None and live_value == target)
    )
    if reached:
        return run.already_planned(step, intent, before, before)
    if intent is not None:
        # Ordered entries keep no revisions: an interrupted write that landed and was then
        # undone by a game server cannot be told from one that never landed.
        return run.conflict(
            step,
            before,
            "an interrupted write may have landed and been undone since (ordered entries "
            "keep no revisions to tell); not written again. Plan again",
        )
    moved = run.appeared_or_vanished(step, before, live is not None)
    if moved is not None:
        return moved
    planned = pre.value if isinstance(pre, OrderedPrecondition) else None
    if live is not None and planned is not None and live_value != planned:
        return run.conflict(
            step, before, f"changed since the plan (now {live_value}, planned {planned})"
        )
    run.record_intent(step, live is not None, _ordered_data(live), before)
    if action is Action.CREATE:
        assert isinstance(target, int)
        try:
            created = api.create_ordered(store, key, target, scope)
        except RemoteError as exc:
            if exc.status not in EXISTS_STATUSES:
                raise
            return run.conflict(step, before, "created by someone else meanwhile")
        return run.done(step, ChangeOutcome.WRITTEN, before, _ordered_state(created))
    if action is Action.UPDATE:
        assert isinstance(target, int)
        updated = api.update_ordered(store, key, target, scope)
        return run.done(step, ChangeOutcome.WRITTEN, before, _ordered_state(updated))
    if action is Action.DELETE:
        with contextlib.suppress(NotFoundError):
            api.delete_ordered(store, key, scope)
        return run.done(step, ChangeOutcome.WRITTEN, before, ABSENT)
    raise ValueError(f"{address}: cannot apply action {action}")


# --- live reads --------------------------------------------------------------------------------


def _list_ordered(api: OrderedEntriesApi, reading: Reading, key: ScopeKey) -> None:
    _kind, store, scope = key
    try:
        values = {item.key: item.value for item in api.list_ordered(store, scope)}
    except NotFoundError:
        values = {}  # the data store does not exist (yet): an empty listing, checked later
    except RunFatal:
        raise
    except DsgitError as exc:
        fail(reading, key, exc)
        return
    with reading.lock:
        reading.listings[key] = ScopeListing(ok=True, values=values)


def _read_live(api: OrderedEntriesApi, reading: Reading) -> None:
    wanted = reading.wanted
    direct: list[Address] = []
    listings: list[ScopeKey] = []
    for (kind, name), spec in sorted(reading.desired.stores.items()):
        if kind is not StoreKind.ORDERED or not reading.select.may_select_store(kind, name):
            continue
        scopes = set(spec.scopes) | {s for (k, st, s) in wanted if k is kind and st == name}
        if listed(spec):
            listings.extend((kind, name, scope) for scope in sorted(scopes))
    for _ in map_concurrently(
        partial(_list_ordered, api, reading), listings, workers=LISTING_WORKERS
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
        for address, live in map_concurrently(read, direct, workers=_READ_WORKERS):
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


# --- the kind --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderedKind:
    """Ordered data stores (see the module's docstring)."""

    name: StoreKind = StoreKind.ORDERED
    directory: str = ORDERED_DIR

    def load(self, loader: RepositoryReader) -> Iterator[StoreDeclaration]:
        for _segment, files in sorted(loader.group(self.directory, 2, _LAYOUT).items()):
            store = loader.ordered_store(files)
            if store is not None:
                yield store

    def read_live(self, api: OpenCloudApi, reading: Reading) -> None:
        _read_live(api, reading)

    def read_current(
        self, api: OpenCloudApi, addresses: Sequence[Address], into: dict[Address, LiveValue | None]
    ) -> Diagnostic | None:
        def read(address: Address) -> LiveOrderedEntry | None:
            return api.get_ordered(address.store, address.key, address.scope)

        try:
            for address, found in map_concurrently(read, addresses, workers=_READ_WORKERS):
                into[address] = found
        except RunFatal:
            raise  # the run is over (unreachable, key refused): one error, no plan
        except DsgitError as exc:
            missing = sum(1 for a in addresses if a not in into)
            return read_failure("reading live ordered entries", exc, missing)
        return None

    def execute(
        self, run: ChangeExecutor, step: Step, intent: Mapping[str, Any] | None
    ) -> ChangeResult:
        return _execute(run, run.api, step, intent)


KIND = OrderedKind()
