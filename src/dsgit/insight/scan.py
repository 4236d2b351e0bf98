"""``dsgit scan``: the figures of live stores, on the live scan (:mod:`dsgit.scan`).

Each store is one run of the scan engine (so its key count, sample and progress are its own):
the listing counts the keys, the entries read (all, or ``--sample N`` of them chosen while
listing) feed a :class:`~dsgit.insight.figures.StoreFigures`. The store's schema and sensitive
pointers come from its ``_store.yaml`` when the repository declares it. Meanwhile one query of
the Analytics Query API gives the storage Roblox measures; a key without
``universe.analytics:read`` (or an API that refuses) leaves that figure out with the reason.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from dsgit.errors import DsgitError
from dsgit.insight.figures import KeyRules, Settings, StoreFigures, StoreSummary
from dsgit.insight.stats import margin_of_error
from dsgit.model.declaration import Declaration, StorePolicy
from dsgit.model.entry import RESERVED_STORE, JSONValue, LiveEntry, StoreKind
from dsgit.plan.masking import PointerPatterns
from dsgit.remote.analytics_ops import StorageUsage
from dsgit.remote.client import OpenCloudClient
from dsgit.repo.value_schemas import ValueSchemas
from dsgit.scan import (
    ScanEntry,
    ScanObserver,
    ScanOptions,
    Selection,
    Shard,
    Visitor,
    run_scan,
)
from dsgit.scan.visitor import Emit

__all__ = [
    "MB",
    "ScanReport",
    "ScanRequest",
    "Storage",
    "checkpoint_path",
    "quota_bytes",
    "resolve_stores",
    "scan_stores",
]

MB = 1024 * 1024
BASE_QUOTA_MB = 500  # 500 MB + 1 MB per lifetime user (opencloud/README.md, "Limits")


@dataclass(frozen=True)
class ScanRequest:
    """What to scan and how: stores (names or globs; empty: every standard store), scope
    (``-`` for all), ``sample`` entries per store, the age after which a key is stale."""

    stores: tuple[str, ...] = ()
    scope: str = "global"
    sample: int | None = None
    stale_days: int = 365
    shard: Shard | None = None
    lifetime_users: int | None = None
    checkpoints: Path | None = None  # folder of per-store checkpoints: a killed scan resumes
    restart: bool = False  # discard those checkpoints and start again


@dataclass(frozen=True)
class Storage:
    """Storage against the quota: what the scan read (uncompressed JSON, scaled up from a
    sample) and what the Analytics Query API measures (compressed, as Roblox bills)."""

    scanned_bytes: int
    quota_bytes: int
    lifetime_users: int | None
    metric: StorageUsage | None
    metric_error: str | None


@dataclass(frozen=True)
class ScanReport:
    environment: str
    universe_id: int
    time: datetime
    sample: int | None
    stale_days: int
    stores: tuple[StoreSummary, ...]
    storage: Storage
    shard: str | None = None

    def confidence(self, summary: StoreSummary) -> float:
        """The ± margin (95 %) of any share this store's figures state."""
        return margin_of_error(summary.read, summary.keys) if summary.sampled else 0.0


def quota_bytes(lifetime_users: int | None) -> int:
    """500 MB + 1 MB × lifetime users (at least 500 MB when the count is not given)."""
    return (BASE_QUOTA_MB + (lifetime_users or 0)) * MB


def resolve_stores(client: OpenCloudClient, patterns: Sequence[str]) -> list[str]:
    """Store names: the given ones (globs matched against the listing), or every store."""
    if patterns and not any(any(c in p for c in "*?[") for p in patterns):
        return list(dict.fromkeys(patterns))
    listed = [info.id for info in client.list_data_stores() if info.id != RESERVED_STORE]
    if not patterns:
        return listed
    chosen = [name for name in listed if any(fnmatch.fnmatchcase(name, p) for p in patterns)]
    if not chosen:
        raise DsgitError(f"no data store matches {', '.join(patterns)}")
    return chosen


class _Feed(Visitor):
    """Hands each standard entry the scan reads to the store's figures."""

    def __init__(self, figures: StoreFigures) -> None:
        self.figures = figures

    def visit(self, entry: ScanEntry, emit: Emit) -> None:
        if isinstance(entry.live, LiveEntry):
            self.figures.add(entry.live)

    def snapshot(self) -> JSONValue:
        return self.figures.to_state()

    def restore(self, state: JSONValue) -> None:
        if isinstance(state, dict):
            self.figures.restore(state)


def checkpoint_path(folder: Path, store: str, scope: str) -> Path:
    """``insight-<store>@<scope>.json``, the names percent-encoded to one safe file name."""
    name = quote(f"{store}@{scope}", safe="")
    return folder / f"insight-{name}.json"


def _policy(declaration: Declaration | None, store: str) -> StorePolicy | None:
    if declaration is None:
        return None
    declared = declaration.stores.get((StoreKind.STANDARD, store))
    return declared.policy if declared is not None else None


def _figures(
    store: str,
    scope: str,
    settings: Settings,
    declaration: Declaration | None,
    schemas: ValueSchemas | None,
) -> StoreFigures:
    policy = _policy(declaration, store)
    if policy is None:
        return StoreFigures(store, scope, settings)
    declared = policy

    def rules(key: str) -> KeyRules:
        chosen = declared.for_key(key) if declared.overrides else declared
        validator = None
        if chosen.schema is not None and schemas is not None:
            validator = schemas.validator(chosen.schema)
        return KeyRules(validator, PointerPatterns((*chosen.sensitive, *chosen.encrypted)))

    schema = policy.schema
    if any("schema" in override.settings for override in policy.overrides):
        schema = f"{policy.schema or 'none'} (and per-key overrides)"
    return StoreFigures(store, scope, settings, schema=schema, rules=rules)


class _Measure:
    """The storage metric, queried in a thread while the stores are scanned (the Analytics
    Query API answers in its own time), on a client of its own: a key without the analytics
    scope stops that client's run (HTTP 403), never the scan's."""

    def __init__(self, query: Callable[[], StorageUsage | None] | None) -> None:
        self.metric: StorageUsage | None = None
        self.error: str | None = None
        self._thread: threading.Thread | None = None
        if query is not None:
            self._thread = threading.Thread(target=self._run, args=(query,), daemon=True)
            self._thread.start()

    def _run(self, query: Callable[[], StorageUsage | None]) -> None:
        try:
            self.metric = query()
        except DsgitError as exc:
            self.error = str(exc)
        except Exception as exc:  # an unexpected failure of one figure must not fail the scan
            self.error = f"{type(exc).__name__}: {exc}"

    def result(self) -> tuple[StorageUsage | None, str | None]:
        if self._thread is not None:
            self._thread.join()
        return self.metric, self.error


def scan_stores(
    client: OpenCloudClient,
    request: ScanRequest,
    *,
    environment: str,
    now: datetime,
    declaration: Declaration | None = None,
    observer: Callable[[str], ScanObserver | None] | None = None,
    storage_metric: Callable[[], StorageUsage | None] | None = None,
) -> ScanReport:
    """Scan every requested store and measure the storage (see the module docstring);
    ``storage_metric`` queries the Analytics Query API (on another client than ``client``)."""
    measure = _Measure(storage_metric)
    schemas = ValueSchemas.from_documents(declaration.schemas) if declaration else None
    settings = Settings(now, stale_days=request.stale_days)
    summaries = []
    for store in resolve_stores(client, request.stores):
        figures = _figures(store, request.scope, settings, declaration, schemas)
        checkpoint = None
        if request.checkpoints is not None:
            checkpoint = checkpoint_path(request.checkpoints, store, request.scope)
        result = run_scan(
            client,
            [Selection((store,), scopes=(request.scope,))],
            _Feed(figures),
            ScanOptions(
                shard=request.shard,
                sample=request.sample,
                checkpoint=checkpoint,
                restart=request.restart,
                identity={"insight": 1, "stale_days": request.stale_days},
            ),
            observer=observer(store) if observer is not None else None,
        )
        try:
            counters = result.counters
            figures.keys = counters["listed"] if request.sample else counters["selected"]
            figures.missing = counters["vanished"]
            figures.sampled = request.sample is not None and figures.read < figures.keys
        finally:
            result.discard()
        summaries.append(figures.summary())
    scanned = sum(summary.estimated_bytes for summary in summaries)
    metric, error = measure.result()
    return ScanReport(
        environment=environment,
        universe_id=client.universe_id,
        time=now,
        sample=request.sample,
        stale_days=request.stale_days,
        stores=tuple(summaries),
        storage=Storage(
            scanned, quota_bytes(request.lifetime_users), request.lifetime_users, metric, error
        ),
        shard=str(request.shard) if request.shard is not None else None,
    )
