"""``dsgit report``: one self-contained HTML file (no script, no network, inline SVG).

Sections: the storage against the quota, per store the size histogram and the findings,
conformance per store, last writes over time, ledger activity, and drift. Every chart's
numbers are in a table too, so the page reads without pictures; everything that came from
live data or the repository (store names, keys, pointers) is escaped, since values and keys
may hold HTML. No value is ever shown: keys, pointers, counts and sizes only (numeric
outliers show the number, never under a sensitive pointer).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from dsgit.insight.figures import Examples, StoreSummary
from dsgit.insight.scan import ScanReport
from dsgit.insight.stats import bucket_label, bucket_short, human_size
from dsgit.insight.svg import bar_chart, share_bars

__all__ = ["DriftRow", "LedgerDay", "ReportData", "render_html"]

_DAYS_SHOWN = 90


@dataclass(frozen=True)
class LedgerDay:
    """Applies recorded in the ledger on one UTC day, and the changes they wrote."""

    day: str
    applies: int
    changes: int
    incomplete: int  # applies whose last run did not complete (conflict, partial, interrupted)


@dataclass(frozen=True)
class DriftRow:
    kind: str  # changed, missing, unmanaged
    store: str
    scope: str
    key: str


@dataclass(frozen=True)
class ReportData:
    scan: ScanReport
    ledger: tuple[LedgerDay, ...]
    drift: tuple[DriftRow, ...] | None  # None: not computed
    drift_note: str | None
    generated: datetime


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222;
max-width:70rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ccc}
h3{font-size:1.05rem;margin-top:1.4rem}
table{border-collapse:collapse;margin:.6rem 0 1rem}th,td{border:1px solid #ccc;padding:.25rem
.6rem;text-align:left;vertical-align:top}th{background:#f3f3f3}td.n{text-align:right}
figure.chart{margin:.5rem 0}code{background:#f6f6f6;padding:0 .2rem}.muted{color:#666}
.warn{color:#a33}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _table(
    head: Sequence[str],
    rows: Iterable[Sequence[object]],
    numeric: set[int],
    empty: str = "none",
) -> str:
    cells = "".join(f"<th>{_e(name)}</th>" for name in head)
    body = []
    for row in rows:
        body.append(
            "<tr>"
            + "".join(
                f'<td class="n">{_e(cell)}</td>' if index in numeric else f"<td>{_e(cell)}</td>"
                for index, cell in enumerate(row)
            )
            + "</tr>"
        )
    if not body:
        return f'<p class="muted">{_e(empty)}</p>'
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _keys(found: Examples) -> str:
    more = found.count - len(found.keys)
    return ", ".join(found.keys) + (f" (+{more:,} more)" if more > 0 else "")


def _storage(scan: ScanReport) -> str:
    storage = scan.storage
    rows: list[tuple[str, str, str]] = [
        ("quota", human_size(storage.quota_bytes), _quota_basis(storage.lifetime_users)),
        (
            "scanned stores (JSON, uncompressed)",
            human_size(storage.scanned_bytes),
            f"{storage.scanned_bytes / storage.quota_bytes:.2%} of the quota",
        ),
    ]
    if storage.metric is not None:
        rows.append(
            (
                "DataStoreStorageUsageBytes",
                human_size(storage.metric.bytes),
                f"{storage.metric.bytes / storage.quota_bytes:.2%} of the quota, at "
                f"{storage.metric.time}",
            )
        )
    else:
        rows.append(("DataStoreStorageUsageBytes", "–", storage.metric_error or "no data yet"))
    return "<h2>Storage</h2>" + _table(("what", "size", "note"), rows, set())


def _quota_basis(lifetime_users: int | None) -> str:
    if lifetime_users is None:
        return "500 MB + 1 MB per lifetime user (count not given: the floor)"
    return f"500 MB + 1 MB × {lifetime_users:,} lifetime users"


def _store_section(scan: ScanReport, summary: StoreSummary) -> str:
    sizes = summary.sizes
    sample = (
        f"sample of {summary.read:,} of {summary.keys:,} keys; shares ±"
        f"{scan.confidence(summary):.1%} at 95 % confidence"
        if summary.sampled
        else f"all {summary.keys:,} keys read"
    )
    parts = [
        f"<h3>{_e(summary.store)} <span class='muted'>(scope {_e(summary.scope)}; "
        f"{_e(sample)})</span></h3>"
    ]
    labels = [bucket_label(i) for i in range(len(sizes.counts))]
    short = [bucket_short(i) for i in range(len(sizes.counts))]
    parts.append(
        bar_chart(f"Value sizes: {summary.store}", short, sizes.counts, highlight_last=True)
    )
    parts.append(
        _table(
            ("size", "entries"),
            [(label, count) for label, count in zip(labels, sizes.counts, strict=True) if count],
            {1},
        )
    )
    findings: list[tuple[str, str, str]] = []
    for key, size in summary.near_limit:
        findings.append(("near the 4 MB limit", key, human_size(size)))
    if summary.conforming is not None:
        for (pointer, _keyword, expected), found in summary.violations.items():
            findings.append(
                (f"schema: {pointer or '/'} {expected}", _keys(found), f"{found.count:,}")
            )
    for field in summary.outliers:
        for outlier in field.outliers:
            findings.append(
                (
                    f"outlier at {field.pointer}",
                    outlier.key,
                    f"{outlier.value:,.0f} (z {outlier.score:.0f})",
                )
            )
    if summary.stale.count:
        findings.append(
            (f"stale (> {scan.stale_days} days)", _keys(summary.stale), f"{summary.stale.count:,}")
        )
    for (kind, pointer), found in summary.pii.items():
        findings.append((f"PII: {kind} at {pointer}", _keys(found), f"{found.count:,}"))
    if summary.locks.count:
        findings.append(
            (
                "session lock (game server holds it)",
                _keys(summary.locks),
                f"{summary.locks.count:,}",
            )
        )
    parts.append(_table(("finding", "keys", "how many"), findings, set(), "no findings"))
    return "".join(parts)


def _conformance(scan: ScanReport) -> str:
    rows = [(s.store, s.conformance) for s in scan.stores if s.conformance is not None]
    if not rows:
        return "<h2>Conformance</h2><p class='muted'>no scanned store declares a schema</p>"
    chart = share_bars("Values that match their store's schema", [(n, v or 0.0) for n, v in rows])
    table = _table(
        ("store", "schema", "conforming", "read", "share"),
        [
            (s.store, s.schema, s.conforming, s.read, f"{s.conformance:.1%}")
            for s in scan.stores
            if s.conformance is not None
        ],
        {2, 3},
    )
    return f"<h2>Conformance</h2>{chart}{table}"


def _writes(scan: ScanReport) -> str:
    days: Counter[str] = Counter()
    for summary in scan.stores:
        days.update(summary.last_writes)
    shown = sorted(days)[-_DAYS_SHOWN:]
    chart = bar_chart("Entries by the day of their last revision", shown, [days[d] for d in shown])
    table = _table(("day", "entries last written"), [(d, days[d]) for d in reversed(shown)], {1})
    return f"<h2>Revisions over time</h2>{chart}{table}"


def _ledger(days: Sequence[LedgerDay]) -> str:
    if not days:
        return "<h2>Ledger activity</h2><p class='muted'>no apply recorded in audit/ledger</p>"
    shown = list(days)[-_DAYS_SHOWN:]
    chart = bar_chart("Changes applied per day", [d.day for d in shown], [d.changes for d in shown])
    table = _table(
        ("day", "applies", "changes", "not complete"),
        [(d.day, d.applies, d.changes, d.incomplete) for d in reversed(shown)],
        {1, 2, 3},
    )
    return f"<h2>Ledger activity</h2>{chart}{table}"


def _drift(rows: Sequence[DriftRow] | None, note: str | None) -> str:
    if rows is None:
        return f"<h2>Drift</h2><p class='muted'>{_e(note or 'not computed')}</p>"
    per_store: Counter[str] = Counter(row.store for row in rows)
    parts = ["<h2>Drift</h2>"]
    if note:
        parts.append(f"<p class='warn'>{_e(note)}</p>")
    if rows:
        stores = sorted(per_store)
        parts.append(
            bar_chart("Live differences from git per store", stores, [per_store[s] for s in stores])
        )
    parts.append(
        _table(
            ("kind", "store", "scope", "key"),
            [(r.kind, r.store, r.scope, r.key) for r in rows],
            set(),
            "no drift: the live entries match git",
        )
    )
    return "".join(parts)


def render_html(data: ReportData) -> str:
    scan = data.scan
    title = f"dsgit report: universe {scan.universe_id} ({scan.environment})"
    overview = _table(
        ("store", "keys", "read", "total size", "conformance", "findings"),
        [
            (
                s.store,
                s.keys,
                s.read,
                human_size(s.estimated_bytes),
                "–" if s.conformance is None else f"{s.conformance:.1%}",
                _finding_count(s),
            )
            for s in scan.stores
        ],
        {1, 2, 5},
    )
    body = [
        f"<h1>{_e(title)}</h1>",
        f"<p class='muted'>generated {_e(data.generated.isoformat(timespec='seconds'))}; "
        f"scan of {len(scan.stores):,} stores"
        + (f", sample of {scan.sample:,} entries per store" if scan.sample else "")
        + "</p>",
        "<h2>Stores</h2>",
        overview,
        _storage(scan),
        "<h2>Value sizes and findings per store</h2>",
        *(_store_section(scan, summary) for summary in scan.stores),
        _conformance(scan),
        _writes(scan),
        _ledger(data.ledger),
        _drift(data.drift, data.drift_note),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def _finding_count(summary: StoreSummary) -> int:
    return (
        summary.near_limit_count
        + sum(found.count for found in summary.violations.values())
        + sum(len(field.outliers) for field in summary.outliers)
        + summary.stale.count
        + sum(found.count for found in summary.pii.values())
        + summary.locks.count
    )
