"""Standard data stores: JSON values with attributes and user ids, revisions and etags.

Files: ``datastores/<store>/<scope>/<key>.yaml`` (segments path-encoded) and the store's
``_store.yaml``. Live reads: listings of owned stores, then one read per entry
(:mod:`dsgit.planning.read`). Precondition: :class:`StandardPrecondition` (etag, revision,
value digest).

Execution: read the entry, decide, and only then write::

    live already as planned         -> skipped (or written, when our earlier intent exists)
    live differs from precondition  -> conflict: nothing written to this entry
    otherwise                       -> save pre-image, journal intent, write, journal done

Updates carry the planned ``etag``, creates use ``POST ?id=`` (fails if the entry exists).
Deletes have no precondition on the wire: the entry is read and compared just before, which
leaves a window of one round trip in which a game server's write could be lost (documented in
docs/applying.md).

Resume (an intent from a killed run, no completion): the live entry tells whether the write
landed. Increments cannot be compared that way; the intent records the revision before, and a
landed increment shows as exactly one new revision holding ``before + amount``. Anything
ambiguous is a conflict, never a second write.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, assert_never

from dsgit.apply.step import ABSENT, EXISTS_STATUSES, Step, parse_time
from dsgit.errors import (
    DsgitError,
    NotFoundError,
    PreconditionFailed,
    RemoteError,
    RunFatal,
    WriteOutcomeUnknown,
)
from dsgit.ledger.records import ChangeOutcome, EntryState
from dsgit.model.entry import RESERVED_STORE, Address, LiveEntry, StoreKind
from dsgit.model.layout import DATASTORES_DIR
from dsgit.plan.codes import DiagnosticCode, diagnostic
from dsgit.plan.digest import entry_digest
from dsgit.plan.live import ScopeKey, ScopeListing
from dsgit.plan.model import (
    Action,
    CreateChange,
    DeleteChange,
    IncrementChange,
    NoopChange,
    Precondition,
    StandardPrecondition,
    UpdateChange,
    increment_of,
)
from dsgit.planning.reading import (
    LISTING_WORKERS,
    SPOT_CHECKS,
    Reading,
    fail,
    fix_for,
    listed,
    read_failure,
)
from dsgit.remote.api import StandardEntriesApi
from dsgit.remote.concurrent import merge_concurrently

if TYPE_CHECKING:
    from dsgit.apply.execute import ChangeExecutor
    from dsgit.apply.result import ChangeResult
    from dsgit.model.declaration import StoreDeclaration
    from dsgit.plan.live import LiveValue
    from dsgit.plan.model import Diagnostic
    from dsgit.remote.api import OpenCloudApi
    from dsgit.repo.loader import RepositoryReader

__all__ = ["KIND", "StandardKind"]

_LAYOUT = "datastores/<store>/<scope>/<key>.yaml"


def _state(live: LiveEntry | None) -> EntryState:
    if live is None:
        return ABSENT
    return EntryState(True, live.etag, live.revision_id, entry_digest(live.data))


def _active(live: LiveEntry | None) -> LiveEntry | None:
    """A soft-deleted entry (``state`` DELETED) counts as absent."""
    return live if live is not None and live.state != "DELETED" else None


def _matches(live: LiveEntry, pre: Precondition) -> bool:
    if not isinstance(pre, StandardPrecondition):
        return False
    if pre.etag is not None:
        return live.etag == pre.etag
    if pre.value_digest is not None:
        return entry_digest(live.data) == pre.value_digest
    return True


def _planned_etag(pre: Precondition) -> str | None:
    return pre.etag if isinstance(pre, StandardPrecondition) else None


def _revision(live: LiveEntry | None) -> str | None:
    return live.revision_id if live is not None else None


def _after(written: LiveEntry, step: Step) -> EntryState:
    return EntryState(True, written.etag, written.revision_id, step.after_digest)


def _write(
    run: ChangeExecutor, api: StandardEntriesApi, step: Step, intent: Mapping[str, Any] | None
) -> ChangeResult:
    change = step.change
    address, action, pre = change.address, change.action, change.precondition
    live = _active(api.get_entry(address.store, address.key, address.scope))
    before = _state(live)
    reached = (
        (live is None)
        if action is Action.DELETE
        else (live is not None and entry_digest(live.data) == step.after_digest)
    )
    if reached:
        earlier = before
        if intent is not None and "before" in intent:
            earlier = EntryState.from_json(intent["before"])
        return run.already_planned(step, intent, earlier, before)
    moved = run.appeared_or_vanished(step, before, live is not None)
    if moved is not None:
        return moved
    if live is not None and pre.exists and not _matches(live, pre):
        return run.conflict(
            step, before, f"changed since the plan (etag {live.etag}, planned {_planned_etag(pre)})"
        )
    if live is None:
        # "Absent" is what the plan saw, but a game server may have created and deleted the
        # entry since (or our own interrupted create landed and was deleted): a tombstone
        # shows as a revision newer than the plan, and then nothing is written.
        newer = _revisions_since_plan(run, api, step)
        if newer:
            return run.conflict(
                step,
                before,
                f"absent, but it has {newer} revision(s) newer than the plan (written and "
                "deleted since); not created. Check `dsgit history`, then plan again",
            )
    run.record_intent(step, live is not None, live.data if live else None, before)
    store, key, scope = address.store, address.key, address.scope
    if action is Action.CREATE or (action is Action.UPDATE and live is None):
        assert step.data is not None
        try:
            written = api.create_entry(store, key, step.data, scope)
        except RemoteError as exc:
            if exc.status not in EXISTS_STATUSES:
                raise
            now = _active(api.get_entry(store, key, scope))
            if now is None:
                raise
            return run.conflict(step, _state(now), "created by someone else meanwhile")
        return run.done(step, ChangeOutcome.WRITTEN, before, _after(written, step))
    users = tuple(live.users) if live is not None else ()
    if action is Action.UPDATE:
        assert step.data is not None and live is not None
        try:
            written = api.update_entry(store, key, step.data, scope, etag=live.etag)
        except PreconditionFailed:
            return run.conflict(step, before, "changed by someone else meanwhile")
        return run.done(
            step, ChangeOutcome.WRITTEN, before, _after(written, step), live_users=users
        )
    if action is Action.DELETE:
        with contextlib.suppress(NotFoundError):  # gone already: the planned state
            api.delete_entry(store, key, scope)
        return run.done(step, ChangeOutcome.WRITTEN, before, ABSENT, live_users=users)
    raise ValueError(f"{address}: cannot apply action {action}")


def _revisions_since_plan(run: ChangeExecutor, api: StandardEntriesApi, step: Step) -> int:
    """How many revisions of the entry were written at or after the plan was made."""
    start = run.plan_created
    if start is None:
        return 0
    address = step.change.address
    try:
        revisions = list(api.list_revisions(address.store, address.key, address.scope, start=start))
    except NotFoundError:
        return 0  # the key never existed
    return sum(
        1 for revision in revisions if (parse_time(revision.revision_create_time) or start) >= start
    )


def _increment(
    run: ChangeExecutor,
    api: StandardEntriesApi,
    step: Step,
    change: IncrementChange,
    intent: Mapping[str, Any] | None,
) -> ChangeResult:
    address, amount = change.address, change.amount
    store, key, scope = address.store, address.key, address.scope
    live = _active(api.get_entry(store, key, scope))
    before = _state(live)
    if intent is not None and _revision(live) != intent.get("revision"):
        earlier = EntryState.from_json(intent["before"])
        if _increment_landed(api, step, intent, live):
            return run.done(step, ChangeOutcome.WRITTEN, earlier, before, "resumed")
        return run.conflict(
            step,
            before,
            "the entry changed after an interrupted increment and it cannot be told whether "
            "the increment landed; check `dsgit history` before planning again",
        )
    if live is None:
        # Open Cloud's increment would create the entry holding just the amount.
        return run.conflict(step, before, "deleted since the plan; not incremented")
    if isinstance(live.value, bool) or not isinstance(live.value, int):
        return run.conflict(step, before, "is no longer an integer")
    run.record_intent(
        step,
        live is not None,
        live.data if live else None,
        before,
        revision=_revision(live),
        revision_time=live.revision_create_time if live else None,
        value=live.value if live else 0,
    )
    try:
        written = api.increment_entry(store, key, amount, scope)
    except WriteOutcomeUnknown:
        now = _active(api.get_entry(store, key, scope))
        record = {
            "revision": _revision(live),
            "revision_time": live.revision_create_time if live else None,
            "value": live.value if live else 0,
        }
        if _revision(now) != _revision(live) and _increment_landed(api, step, record, now):
            return run.done(step, ChangeOutcome.WRITTEN, before, _state(now))
        raise
    return run.done(step, ChangeOutcome.WRITTEN, before, _state(written))


def _increment_landed(
    api: StandardEntriesApi, step: Step, intent: Mapping[str, Any], live: LiveEntry | None
) -> bool:
    """True when exactly one revision followed the recorded one and holds before + amount."""
    amount = increment_of(step.change) or 0
    if live is None or live.value != intent.get("value", 0) + amount:
        return False
    if intent.get("revision") is None:
        return True  # created by the increment: the value is the proof we have
    address = step.change.address
    start = parse_time(intent.get("revision_time"))
    if start is None:
        return False  # no time to count revisions from: cannot tell, so never write again
    newer = [
        revision
        for revision in api.list_revisions(address.store, address.key, address.scope, start=start)
        if revision.revision_id != intent["revision"]
        and (parse_time(revision.revision_create_time) or start) >= start
    ]
    return len(newer) == 1


# --- live reads --------------------------------------------------------------------------------


def _list_scope(
    api: StandardEntriesApi, reading: Reading, key: ScopeKey, prune: bool, wanted: set[str]
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
        fail(reading, key, exc)
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


def _direct(
    reading: Reading, requests: list[tuple[str, str, str]]
) -> Iterator[tuple[str, str, str]]:
    for store, scope, name in requests:
        with reading.lock:
            reading.requested.add(Address(StoreKind.STANDARD, store, scope, name))
        yield (store, scope, name)


def _requests(
    api: StandardEntriesApi, reading: Reading, wanted: dict[ScopeKey, set[str]]
) -> Generator[tuple[str, str, str], None, None]:
    """Every standard read the plan needs, interleaved with the listings that find them.

    Listings of different scopes run concurrently; reads of unlisted (seed, observed) stores
    are a source of their own, so they start at once too.
    """
    scanned: set[ScopeKey] = set()
    sources: list[Callable[[], Iterator[tuple[str, str, str]]]] = []
    for (kind, name), spec in sorted(reading.desired.stores.items()):
        if kind is not StoreKind.STANDARD or name == RESERVED_STORE or not listed(spec):
            continue
        if not reading.select.may_select_store(kind, name):
            continue
        scopes = set(spec.scopes) | {s for (k, st, s) in wanted if k is kind and st == name}
        for scope in sorted(scopes):
            key = (kind, name, scope)
            scanned.add(key)
            sources.append(
                partial(_list_scope, api, reading, key, spec.policy.prune, wanted.get(key, set()))
            )
    direct = [
        (store, scope, name)
        for scope_key, names in sorted(wanted.items())
        if scope_key[0] is StoreKind.STANDARD and scope_key not in scanned
        for _, store, scope in [scope_key]
        for name in sorted(names)
    ]
    if direct:
        sources.append(partial(_direct, reading, direct))
    yield from merge_concurrently(sources, workers=LISTING_WORKERS + 1)


def _read_live(api: StandardEntriesApi, reading: Reading) -> None:
    wanted = reading.wanted
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


# --- the kind --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StandardKind:
    """Standard data stores (see the module's docstring)."""

    name: StoreKind = StoreKind.STANDARD
    directory: str = DATASTORES_DIR

    def load(self, loader: RepositoryReader) -> Iterator[StoreDeclaration]:
        for _segment, files in sorted(loader.group(self.directory, 3, _LAYOUT).items()):
            store = loader.standard_store(files)
            if store is not None:
                yield store

    def read_live(self, api: OpenCloudApi, reading: Reading) -> None:
        _read_live(api, reading)

    def read_current(
        self, api: OpenCloudApi, addresses: Sequence[Address], into: dict[Address, LiveValue | None]
    ) -> Diagnostic | None:
        try:
            requests = ((a.store, a.scope, a.key) for a in addresses)
            for (store, scope, key), live in api.get_entries(requests):
                into[Address.standard(store, key, scope)] = live
        except RunFatal:
            raise  # the run is over (unreachable, key refused): one error, no plan
        except DsgitError as exc:
            missing = sum(1 for a in addresses if a not in into)
            return read_failure("reading live entries", exc, missing)
        return None

    def execute(
        self, run: ChangeExecutor, step: Step, intent: Mapping[str, Any] | None
    ) -> ChangeResult:
        api: OpenCloudApi = run.api
        change = step.change
        match change:
            case IncrementChange():
                return _increment(run, api, step, change, intent)
            case CreateChange() | UpdateChange() | DeleteChange():
                return _write(run, api, step, intent)
            case NoopChange():
                raise ValueError(f"{change.address}: a no-op is never executed")
            case _:
                assert_never(change)


KIND = StandardKind()
