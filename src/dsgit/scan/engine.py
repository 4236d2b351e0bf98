"""The live scan: list and read selected entries within the budget, stream them to a visitor.

How it works (docs/lifecycle.md, "The live scan"):

1. The selections become lanes (one listing per store and scope; store globs are matched
   against the store listing once, and the lanes are saved in the checkpoint so a resumed
   scan scans the same stores).
2. Up to ``list_workers`` lanes are listed at once, page by page; a page's keys are filtered
   (key glob, prefix, value bound, ``--shard``) and the selected ones are read concurrently
   through the budget-sized pool of the client. At most a few pages wait for the readers, so
   memory does not grow with the number of keys.
3. Each entry read is handed to the visitor on this thread; what it emits goes to the record
   file. A lane's position advances past a page once every selected key of that page has been
   visited; the checkpoint holds that position and the keys visited beyond it.
4. Every ``every_entries`` visits or ``every_seconds`` seconds, and when the scan stops for any
   reason (an error, Ctrl-C), the checkpoint is replaced. A scan started again with the same
   selection, shard, sample and identity resumes from it.

With ``sample`` the listing runs first (keeping the N entries of smallest hash), then only the
sample is read. A background **count** (``count_ahead``) lists the remaining lanes once more
to learn how many entries are selected, so progress can give an ETA from the budget; it
costs one listing request per 256 keys, the cheap class, and is advisory only.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from dsgit.errors import ConfigError, Location
from dsgit.model.entry import Address, JSONValue, LiveEntry, LiveOrderedEntry, StoreKind
from dsgit.remote.api import DataStoreInfo, EntryKey
from dsgit.remote.budget import Operation, RateBudget, RequestClass
from dsgit.remote.concurrent import map_concurrently, merge_concurrently
from dsgit.remote.pace import RequestMeter
from dsgit.scan.checkpoint import (
    CheckpointState,
    LanePosition,
    RecordLog,
    load_checkpoint,
    records_path,
    save_checkpoint,
)
from dsgit.scan.entry import ScanEntry
from dsgit.scan.sample import BottomK, sample_hash
from dsgit.scan.select import (
    ALL_SCOPES,
    Lane,
    Selection,
    StoreNames,
    is_glob,
    literal_prefix,
    resolve_lanes,
)
from dsgit.scan.shard import Shard
from dsgit.scan.visitor import ScanVisitor

__all__ = [
    "ScanClient",
    "ScanObserver",
    "ScanOptions",
    "ScanResult",
    "ScanStats",
    "run_scan",
    "scan_fingerprint",
]

_READ = RequestClass(Operation.READ)


class ScanClient(Protocol):
    """What a scan needs of :class:`dsgit.remote.client.OpenCloudClient`."""

    universe_id: int
    budget: RateBudget
    meter: RequestMeter

    def list_data_stores(
        self, *, prefix: str | None = None, show_deleted: bool = False
    ) -> Iterator[DataStoreInfo]: ...

    def list_keys_page(
        self,
        store: str,
        scope: str = "global",
        *,
        prefix: str | None = None,
        page_token: str | None = None,
    ) -> tuple[list[EntryKey], str | None]: ...

    def list_ordered_page(
        self,
        store: str,
        scope: str = "global",
        *,
        max_value: int | None = None,
        page_token: str | None = None,
    ) -> tuple[list[LiveOrderedEntry], str | None]: ...

    def get_entry(self, store: str, key: str, scope: str = "global") -> LiveEntry | None: ...


@dataclass(frozen=True)
class ScanOptions:
    """How a scan runs. ``identity`` is whatever else decides its result (a rule set's
    digest, the time its ages are measured from): a checkpoint resumes only the same scan."""

    shard: Shard | None = None
    sample: int | None = None
    checkpoint: Path | None = None
    every_entries: int = 1000
    every_seconds: float = 30.0
    identity: JSONValue = None
    read_values: bool = True
    restart: bool = False
    list_workers: int = 4
    read_workers: int | None = None
    count_ahead: bool = True


@dataclass
class ScanStats:
    """Figures for progress displays (a copy; the scan keeps its own)."""

    visited: int
    listed: int
    selected: int
    vanished: int
    expected: int | None  # selected entries in all, once the count (or the sample) knows
    expected_pages: int | None
    elapsed: float
    resumed: bool
    budget: RateBudget
    reads: bool  # entries are read (standard stores, values wanted)


class ScanObserver(Protocol):
    """Progress displays: told now and then how far the scan got."""

    def progress(self, stats: ScanStats) -> None: ...

    def note(self, text: str) -> None: ...


@dataclass
class ScanResult:
    """A finished scan: counters, the visitor (with its final state) and the records."""

    counters: dict[str, int]
    elapsed: float
    resumed: bool
    lanes: tuple[Lane, ...]
    _log: RecordLog
    _checkpoint: Path | None
    _temp: tempfile.TemporaryDirectory[str] | None = None

    def records(self) -> Iterator[Any]:
        """Every record the visitor emitted, streamed from disk."""
        return self._log.read()  # type: ignore[no-any-return]

    @property
    def record_count(self) -> int:
        return self._log.count

    def discard(self) -> None:
        """Remove the checkpoint and its records (once their result is saved elsewhere)."""
        self._log.close()
        if self._checkpoint is not None:
            self._checkpoint.unlink(missing_ok=True)
            records_path(self._checkpoint).unlink(missing_ok=True)
        if self._temp is not None:
            self._temp.cleanup()

    def close(self) -> None:
        """Keep the checkpoint (a finished one is reused by the next run); free the rest."""
        self._log.close()
        if self._temp is not None:
            self._temp.cleanup()


def scan_fingerprint(
    selections: Sequence[Selection], options: ScanOptions, universe_id: int
) -> str:
    body = {
        "universe": universe_id,
        "selections": [s.to_json() for s in selections],
        "shard": str(options.shard) if options.shard else None,
        "sample": options.sample,
        "read_values": options.read_values,
        "identity": options.identity,
    }
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# --- lanes ---------------------------------------------------------------------------------------


def _lane_to_json(lane: Lane) -> dict[str, Any]:
    return {
        "kind": lane.kind.value,
        "store": lane.store,
        "scope": lane.scope,
        "selections": list(lane.selections),
        "prefix": lane.prefix,
        "max_value": lane.max_value,
    }


def _lane_from_json(raw: dict[str, Any]) -> Lane:
    return Lane(
        StoreKind(raw["kind"]),
        str(raw["store"]),
        str(raw["scope"]),
        tuple(int(i) for i in raw["selections"]),
        str(raw["prefix"]),
        None if raw["max_value"] is None else int(raw["max_value"]),
    )


def _store_names(client: ScanClient, selections: Sequence[Selection]) -> StoreNames | None:
    patterns = [p for s in selections for p in s.stores if is_glob(p)]
    if not patterns:
        return None
    prefixes = {literal_prefix(p) for p in patterns}
    prefix = min(prefixes) if len(prefixes) == 1 else None
    return StoreNames(info.id for info in client.list_data_stores(prefix=prefix or None))


# --- pages and candidates ------------------------------------------------------------------------


@dataclass
class _Page:
    lane: Lane
    token: str | None
    next_token: str | None
    items: list[EntryKey] | list[LiveOrderedEntry]


@dataclass
class _PageState:
    token: str | None
    next_token: str | None
    remaining: int = 0
    listed: int = 0
    selected: int = 0
    visited: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Book:
    """The pages of one lane between its saved position and what is being read."""

    lane: Lane
    token: str | None
    skip: set[tuple[str, str]]
    pages: deque[_PageState] = field(default_factory=deque)
    listed_all: bool = False

    def position(self) -> LanePosition:
        token = self.pages[0].token if self.pages else self.token
        visited = [pair for page in self.pages for pair in page.visited]
        visited.extend(sorted(self.skip))
        return LanePosition(token, visited)


@dataclass
class _Candidate:
    lane: Lane
    scope: str
    key: str
    selections: tuple[int, ...]
    ordered: LiveOrderedEntry | None
    page: _PageState | None


def _list_page(client: ScanClient, lane: Lane, token: str | None) -> _Page:
    if lane.kind is StoreKind.ORDERED:
        found, following = client.list_ordered_page(
            lane.store, lane.scope, max_value=lane.max_value, page_token=token
        )
        return _Page(lane, token, following, found)
    keys, following = client.list_keys_page(
        lane.store, lane.scope, prefix=lane.prefix or None, page_token=token
    )
    return _Page(lane, token, following, keys)


def _lane_pages(client: ScanClient, lane: Lane, token: str | None) -> Iterator[_Page]:
    while True:
        page = _list_page(client, lane, token)
        yield page
        if page.next_token is None:
            return
        token = page.next_token


class _Matcher:
    """Which selections of a lane an item matches, and whether this shard owns it."""

    def __init__(self, selections: Sequence[Selection], shard: Shard | None) -> None:
        self.selections = selections
        self.shard = shard

    def match(self, lane: Lane, item: EntryKey | LiveOrderedEntry) -> tuple[int, ...]:
        if isinstance(item, EntryKey) and item.deleted:
            return ()
        scope, key = item.scope, item.key
        value = item.value if isinstance(item, LiveOrderedEntry) else None
        matched = []
        for index in lane.selections:
            selection = self.selections[index]
            if ALL_SCOPES not in selection.scopes and scope not in selection.scopes:
                continue
            if not selection.matches_key(key):
                continue
            if value is not None and not selection.matches_value(value):
                continue
            matched.append(index)
        if not matched:
            return ()
        if self.shard is not None and not self.shard.owns(lane.kind.value, lane.store, scope, key):
            return ()
        return tuple(matched)


# --- the scan ------------------------------------------------------------------------------------


class _Scan:
    def __init__(
        self,
        client: ScanClient,
        selections: Sequence[Selection],
        visitor: ScanVisitor,
        options: ScanOptions,
        observer: ScanObserver | None,
        clock: Callable[[], float],
    ) -> None:
        self.client = client
        self.selections = selections
        self.visitor = visitor
        self.options = options
        self.observer = observer
        self.clock = clock
        self.matcher = _Matcher(selections, options.shard)
        self.books: dict[str, _Book] = {}
        self.temp: tempfile.TemporaryDirectory[str] | None = None
        self.expected: int | None = None
        self.expected_pages: int | None = None
        self._stop = threading.Event()
        self.resumed = False
        self.consistent = True
        fingerprint = scan_fingerprint(selections, options, client.universe_id)
        state = None
        if options.checkpoint is not None and not options.restart:
            state = load_checkpoint(options.checkpoint)
            if state is not None and state.fingerprint != fingerprint:
                raise ConfigError(
                    "this checkpoint belongs to another scan (other rules, selection, shard "
                    "or sample); pass --restart to discard it and start again",
                    Location(str(options.checkpoint)),
                )
        if state is None:
            names = _store_names(client, selections)
            lanes = resolve_lanes(selections, names)
            state = CheckpointState(
                fingerprint=fingerprint,
                started=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                lanes=[_lane_to_json(lane) for lane in lanes],
            )
        else:
            self.resumed = True
            visitor.restore(state.visitor)
        self.state = state
        self.done = set(state.done)  # finished lanes (thousands for DataStore2's stores)
        self.lanes = [_lane_from_json(raw) for raw in state.lanes]
        self.counters = {
            name: state.counters.get(name, 0)
            for name in ("listed", "selected", "visited", "vanished", "pages")
        }
        if options.checkpoint is not None:
            log_path = records_path(options.checkpoint)
        else:
            self.temp = tempfile.TemporaryDirectory(prefix="dsgit-scan-")
            log_path = Path(self.temp.name) / "records.jsonl"
        self.log = RecordLog(log_path, keep_bytes=state.records_bytes, count=state.records)
        self.prior_elapsed = state.elapsed
        self.started = clock()
        self.last_checkpoint = self.started
        self.since_checkpoint = 0
        self.last_progress = 0.0

    # --- bookkeeping ---------------------------------------------------------------------------

    def book(self, lane: Lane) -> _Book:
        book = self.books.get(lane.id)
        if book is None:
            saved = self.state.positions.get(lane.id, LanePosition())
            book = _Book(lane, saved.token, set(saved.visited))
            self.books[lane.id] = book
        return book

    def register(self, page: _Page) -> list[_Candidate]:
        book = self.book(page.lane)
        state = _PageState(page.token, page.next_token, listed=len(page.items))
        found = []
        for item in page.items:
            matched = self.matcher.match(page.lane, item)
            if not matched:
                continue
            state.selected += 1
            pair = (item.scope, item.key)
            if pair in book.skip:
                book.skip.discard(pair)
                state.visited.append(pair)
                continue
            ordered = item if isinstance(item, LiveOrderedEntry) else None
            found.append(_Candidate(page.lane, item.scope, item.key, matched, ordered, state))
        state.remaining = len(found)
        book.pages.append(state)
        if page.next_token is None:
            book.listed_all = True
        self.advance(book)
        return found

    def advance(self, book: _Book) -> None:
        while book.pages and book.pages[0].remaining == 0:
            done = book.pages.popleft()
            book.token = done.next_token
            self.counters["listed"] += done.listed
            self.counters["selected"] += done.selected
            self.counters["pages"] += 1
        if book.listed_all and not book.pages:
            if book.lane.id not in self.done:
                self.done.add(book.lane.id)
                self.state.done.append(book.lane.id)
            self.state.positions.pop(book.lane.id, None)
            book.skip.clear()
            del self.books[book.lane.id]

    # --- visiting -----------------------------------------------------------------------------

    def visit(
        self,
        candidate: _Candidate,
        live: LiveEntry | LiveOrderedEntry | None,
        done: Callable[[], None] | None = None,
    ) -> None:
        """Hand one read entry to the visitor (None: it vanished since the listing)."""
        entry = ScanEntry.from_live(live, candidate.selections) if live is not None else None
        self._record(candidate, entry, done)

    def visit_keys_only(
        self, candidate: _Candidate, done: Callable[[], None] | None = None
    ) -> None:
        address = Address(candidate.lane.kind, candidate.lane.store, candidate.scope, candidate.key)
        value = candidate.ordered.value if candidate.ordered is not None else None
        entry = ScanEntry(address, value, live=candidate.ordered, selections=candidate.selections)
        self._record(candidate, entry, done)

    def _record(
        self, candidate: _Candidate, entry: ScanEntry | None, done: Callable[[], None] | None
    ) -> None:
        # Between the visitor's first effect and the bookkeeping below the state is not
        # consistent: an interrupt there must not be checkpointed (the last checkpoint stands).
        self.consistent = False
        if entry is None:
            self.counters["vanished"] += 1
        else:
            self.visitor.visit(entry, self.log.append)
            self.counters["visited"] += 1
        self.since_checkpoint += 1
        if done is not None:
            done()
        page = candidate.page
        if page is not None:
            page.remaining -= 1
            page.visited.append((candidate.scope, candidate.key))
            book = self.books.get(candidate.lane.id)
            if book is not None:
                self.advance(book)
        self.consistent = True
        self.maybe_checkpoint()

    def read(self, candidate: _Candidate) -> LiveEntry | LiveOrderedEntry | None:
        if candidate.ordered is not None:
            return candidate.ordered
        lane = candidate.lane
        return self.client.get_entry(lane.store, candidate.key, candidate.scope)

    # --- checkpoints and progress ---------------------------------------------------------------

    def elapsed(self) -> float:
        return self.prior_elapsed + (self.clock() - self.started)

    def maybe_checkpoint(self) -> None:
        now = self.clock()
        if self.observer is not None and now - self.last_progress >= 0.25:
            self.last_progress = now
            self.observer.progress(self.stats())
        if self.options.checkpoint is None:
            return
        if (
            self.since_checkpoint >= self.options.every_entries
            or now - self.last_checkpoint >= self.options.every_seconds
        ):
            self.checkpoint()

    def checkpoint(self, *, finished: bool = False) -> None:
        if self.options.checkpoint is None:
            return
        self.log.sync()
        state = self.state
        for lane_id, book in self.books.items():
            state.positions[lane_id] = book.position()
        state.counters = dict(self.counters)
        state.visitor = self.visitor.snapshot()
        state.records = self.log.count
        state.records_bytes = self.log.bytes
        state.elapsed = self.elapsed()
        state.finished = finished
        save_checkpoint(self.options.checkpoint, state)
        self.last_checkpoint = self.clock()
        self.since_checkpoint = 0

    def stats(self) -> ScanStats:
        in_books = sum(page.selected for book in self.books.values() for page in book.pages)
        return ScanStats(
            visited=self.counters["visited"] + self.counters["vanished"],
            listed=self.counters["listed"],
            selected=self.counters["selected"] + in_books,
            vanished=self.counters["vanished"],
            expected=self.expected,
            expected_pages=self.expected_pages,
            elapsed=self.elapsed(),
            resumed=self.resumed,
            budget=self.client.budget,
            reads=self.options.read_values
            and any(lane.kind is StoreKind.STANDARD for lane in self.lanes),
        )

    # --- running ------------------------------------------------------------------------------

    def pending_lanes(self) -> list[Lane]:
        done = self.done
        return [lane for lane in self.lanes if lane.id not in done]

    def pages(self, lanes: Sequence[Lane]) -> Iterator[_Page]:
        def source(lane: Lane) -> Callable[[], Iterable[_Page]]:
            saved = self.state.positions.get(lane.id, LanePosition())
            return lambda: _lane_pages(self.client, lane, saved.token)

        workers = max(1, self.options.list_workers)
        return merge_concurrently([source(lane) for lane in lanes], workers=workers, buffer=4)

    def candidates(self, lanes: Sequence[Lane]) -> Iterator[_Candidate]:
        for page in self.pages(lanes):
            yield from self.register(page)

    def start_count(self, lanes: Sequence[Lane]) -> None:
        """Count the selected entries still to visit, in the background (for the ETA)."""
        if not lanes:
            self.expected, self.expected_pages = self.counters["visited"], 0
            return
        positions = self.state.positions
        skipped = sum(len(positions.get(lane.id, LanePosition()).visited) for lane in lanes)
        base = self.counters["visited"] + self.counters["vanished"]

        def count() -> None:
            total = pages = 0
            try:
                for lane in lanes:
                    saved = self.state.positions.get(lane.id, LanePosition())
                    for page in _lane_pages(self.client, lane, saved.token):
                        if self._stop.is_set():
                            return
                        pages += 1
                        total += sum(1 for item in page.items if self.matcher.match(lane, item))
            except Exception:  # advisory only: the scan itself reports failures
                return
            self.expected = base + total - skipped
            self.expected_pages = pages

        threading.Thread(target=count, name="dsgit-scan-count", daemon=True).start()

    def run(self) -> None:
        try:
            if self.state.finished:
                return
            if self.options.sample is not None:
                self.run_sample(self.options.sample)
            else:
                lanes = self.pending_lanes()
                if self.options.count_ahead:
                    self.start_count(lanes)
                self.run_lanes(lanes)
            if self.observer is not None:
                self.observer.progress(self.stats())
            self.checkpoint(finished=True)
        except BaseException:
            self._stop.set()
            if self.consistent:
                self.checkpoint()
            raise
        finally:
            self._stop.set()

    def workers(self) -> int:
        if self.options.read_workers is not None:
            return self.options.read_workers
        return self.client.budget.concurrency(_READ)

    def run_lanes(self, lanes: Sequence[Lane]) -> None:
        if not self.options.read_values:
            for candidate in self.candidates(lanes):
                self.visit_keys_only(candidate)
            return
        for candidate, live in map_concurrently(
            self.read, self.candidates(lanes), workers=self.workers()
        ):
            self.visit(candidate, live)

    # --- sampling -----------------------------------------------------------------------------

    def run_sample(self, size: int) -> None:
        sample = self.state.sample or {"phase": "list", "items": [], "visited": []}
        if sample["phase"] == "list":
            heap = BottomK(size, [(h, item) for h, item in sample["items"]])
            lanes = self.pending_lanes()
            for page in self.pages(lanes):
                for item in page.items:
                    matched = self.matcher.match(page.lane, item)
                    if not matched:
                        continue
                    lane = page.lane
                    address = str(Address(lane.kind, lane.store, item.scope, item.key))
                    value = item.value if isinstance(item, LiveOrderedEntry) else None
                    row = [lane.id, item.scope, item.key, list(matched), value]
                    heap.offer(sample_hash(address), row)
                book = self.book(page.lane)
                book.pages.append(_PageState(page.token, page.next_token, 0, len(page.items), 0))
                book.listed_all = page.next_token is None
                self.advance(book)
                sample["items"] = [[h, row] for h, row in heap.items()]
                self.state.sample = sample
                self.since_checkpoint += len(page.items)
                self.maybe_checkpoint()
            sample = {"phase": "read", "items": sample["items"], "visited": []}
            self.state.sample = sample
            self.counters["selected"] = len(sample["items"])
        self.expected = len(sample["items"])
        self.expected_pages = 0
        lanes_by_id = {lane.id: lane for lane in self.lanes}
        done = set(sample["visited"])
        wanted = []
        for index, (_hash, row) in enumerate(sample["items"]):
            if index in done:
                continue
            lane_id, scope, key, matched, value = row
            lane = lanes_by_id[lane_id]
            ordered = (
                LiveOrderedEntry(lane.store, scope, key, int(value))
                if lane.kind is StoreKind.ORDERED
                else None
            )
            wanted.append((index, _Candidate(lane, scope, key, tuple(matched), ordered, None)))

        visited: list[int] = sample["visited"]

        def read(pair: tuple[int, _Candidate]) -> LiveEntry | LiveOrderedEntry | None:
            return self.read(pair[1])

        if not self.options.read_values:
            for index, candidate in wanted:
                self.visit_keys_only(candidate, partial(visited.append, index))
            return
        for (index, candidate), live in map_concurrently(read, wanted, workers=self.workers()):
            self.visit(candidate, live, partial(visited.append, index))


def run_scan(
    client: ScanClient,
    selections: Sequence[Selection],
    visitor: ScanVisitor,
    options: ScanOptions | None = None,
    *,
    observer: ScanObserver | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ScanResult:
    """Visit every selected entry once (see the module docstring); resumable from
    ``options.checkpoint``. Errors (a failed listing or read, Ctrl-C) save the checkpoint
    and propagate: nothing is guessed, and the next run goes on from there."""
    options = options or ScanOptions()
    scan = _Scan(client, selections, visitor, options, observer, clock)
    if scan.resumed and observer is not None:
        visited = scan.counters["visited"] + scan.counters["vanished"]
        observer.note(
            f"resuming the scan from {options.checkpoint} ({visited:,} entries already "
            "visited); --restart starts again"
        )
    try:
        scan.run()
    except BaseException:
        scan.log.close()
        if scan.temp is not None:
            scan.temp.cleanup()
        raise
    return ScanResult(
        counters=dict(scan.counters),
        elapsed=scan.elapsed(),
        resumed=scan.resumed,
        lanes=tuple(scan.lanes),
        _log=scan.log,
        _checkpoint=options.checkpoint,
        _temp=scan.temp,
    )
