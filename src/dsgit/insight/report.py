"""``dsgit report``: gather what the HTML report shows (drift, the scan, ledger activity).

Drift is found first, then the stores are scanned (the storage metric meanwhile, on a client
of its own: see :mod:`.scan`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from dsgit.errors import DsgitError
from dsgit.insight.html import DriftRow, LedgerDay, ReportData
from dsgit.insight.scan import ScanRequest, scan_stores
from dsgit.ledger.query import AppliedRun, list_applies
from dsgit.model.declaration import Declaration
from dsgit.remote.analytics_ops import StorageUsage
from dsgit.remote.client import OpenCloudClient
from dsgit.scan import ScanObserver

__all__ = ["gather_report", "ledger_days"]

_COMPLETE = "complete"


def ledger_days(runs: tuple[AppliedRun, ...], environment: str) -> tuple[LedgerDay, ...]:
    """Per UTC day (of the apply's start), the applies to ``environment`` and their changes."""
    days: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for run in runs:
        if run.environment != environment:
            continue
        row = days[run.started[:10]]
        row[0] += 1
        row[1] += len(run.changes)
        row[2] += run.status != _COMPLETE
    return tuple(LedgerDay(day, *days[day]) for day in sorted(days))


def _drift(
    root: Path, declaration: Declaration, client: OpenCloudClient, environment: str
) -> tuple[tuple[DriftRow, ...] | None, str | None]:
    from dsgit.crypto import load_keyring
    from dsgit.planning.usecase import PlanRequest, find_drift

    try:
        found = find_drift(
            declaration,
            client,
            PlanRequest(environment, client.universe_id),
            keyring=load_keyring(root),
        )
    except DsgitError as exc:
        return None, f"drift could not be computed: {exc}"
    rows = tuple(
        DriftRow(
            item.kind, item.change.address.store, item.change.address.scope, item.change.address.key
        )
        for item in found.items
    )
    note = None
    if found.errors:
        note = f"{len(found.errors):,} entries could not be compared (see `dsgit drift`)"
    return rows, note


def gather_report(
    root: Path,
    client: OpenCloudClient,
    request: ScanRequest,
    *,
    environment: str,
    now: datetime,
    declaration: Declaration,
    drift: bool = True,
    observer: Callable[[str], ScanObserver | None] | None = None,
    storage_metric: Callable[[], StorageUsage | None] | None = None,
) -> ReportData:
    rows, note = _drift(root, declaration, client, environment) if drift else (None, None)
    if not drift:
        note = "not computed (--no-drift)"
    scan = scan_stores(
        client,
        request,
        environment=environment,
        now=now,
        declaration=declaration,
        observer=observer,
        storage_metric=storage_metric,
    )
    return ReportData(scan, ledger_days(list_applies(root), environment), rows, note, now)
