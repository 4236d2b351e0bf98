"""``dsgit scan`` output: JSON (``--format json``, every figure) and text for a terminal.

Neither ever holds a value of an entry: sizes, counts, keys, pointers and, for numeric
outliers, the number itself (never under a sensitive pointer: those are masked before).
"""

from __future__ import annotations

from typing import Any

from dsgit.insight.figures import Examples, StoreSummary
from dsgit.insight.scan import ScanReport
from dsgit.insight.stats import SIZE_BUCKETS, bucket_label, human_size
from dsgit.model.limits import MAX_VALUE_CHARS

__all__ = ["report_json", "report_text", "summary_json"]


def _examples(found: Examples) -> dict[str, Any]:
    return {"count": found.count, "examples": list(found.keys)}


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 3)


def summary_json(summary: StoreSummary, margin: float) -> dict[str, Any]:
    sizes = summary.sizes
    return {
        "store": summary.store,
        "scope": summary.scope,
        "keys": summary.keys,
        "read": summary.read,
        "sampled": summary.sampled,
        "margin_of_error": round(margin, 4),
        "vanished": summary.missing,
        "with_users_metadata": summary.with_users,
        "sizes": {
            "total": sizes.total,
            "estimated_total": summary.estimated_bytes,
            "min": sizes.smallest,
            "max": sizes.largest,
            "mean": round(sizes.mean, 1) if sizes.mean is not None else None,
            **{name: round(value, 1) for name, value in sizes.quantiles().items()},
            "histogram": [
                {"bucket": bucket_label(index), "below": bound, "count": count}
                for index, (bound, count) in enumerate(
                    zip((*SIZE_BUCKETS, None), sizes.counts, strict=True)
                )
            ],
        },
        "near_limit": {
            "limit": MAX_VALUE_CHARS,
            "count": summary.near_limit_count,
            "keys": [{"key": key, "size": size} for key, size in summary.near_limit],
        },
        "stale": {
            **_examples(summary.stale),
            "oldest": [{"key": key, "revisionCreateTime": t} for key, t in summary.oldest],
        },
        "schema": summary.schema,
        "conformance": None
        if summary.conforming is None
        else {
            "conforming": summary.conforming,
            "share": round(summary.conformance or 0.0, 4),
            "violations": [
                {"pointer": pointer, "keyword": keyword, "expected": expected} | _examples(found)
                for (pointer, keyword, expected), found in summary.violations.items()
            ],
        },
        "outliers": [
            {
                "pointer": field.pointer,
                "values": field.values,
                "outliers": [
                    {"key": o.key, "value": _number(o.value), "score": round(o.score, 1)}
                    for o in field.outliers
                ],
            }
            for field in summary.outliers
        ],
        "pii": [
            {"kind": kind, "pointer": pointer} | _examples(found)
            for (kind, pointer), found in summary.pii.items()
        ],
        "session_locks": _examples(summary.locks),
        "last_writes": dict(summary.last_writes),
    }


def report_json(report: ScanReport) -> dict[str, Any]:
    storage = report.storage
    return {
        "environment": report.environment,
        "universe_id": report.universe_id,
        "time": report.time.isoformat().replace("+00:00", "Z"),
        "sample": report.sample,
        "confidence": 0.95,
        "shard": report.shard,
        "stale_days": report.stale_days,
        "storage": {
            "scanned_bytes": storage.scanned_bytes,
            "quota_bytes": storage.quota_bytes,
            "lifetime_users": storage.lifetime_users,
            "metric": None
            if storage.metric is None
            else {
                "name": "DataStoreStorageUsageBytes",
                "bytes": storage.metric.bytes,
                "time": storage.metric.time,
                "share_of_quota": round(storage.metric.bytes / storage.quota_bytes, 6),
            },
            "metric_error": storage.metric_error,
        },
        "stores": [summary_json(s, report.confidence(s)) for s in report.stores],
    }


def _keys(found: Examples) -> str:
    more = found.count - len(found.keys)
    return ", ".join(found.keys) + (f" and {more:,} more" if more > 0 else "")


def _store_text(report: ScanReport, summary: StoreSummary) -> list[str]:
    sizes = summary.sizes
    lines = [f"{summary.store} (scope {summary.scope})"]
    if summary.sampled:
        margin = report.confidence(summary)
        lines.append(
            f"  keys        {summary.keys:,} (sample of {summary.read:,}: shares ±{margin:.1%} "
            "at 95 % confidence)"
        )
    else:
        lines.append(f"  keys        {summary.keys:,} (all read)")
    if sizes.count:
        quantiles = sizes.quantiles()
        lines.append(
            f"  sizes       median {human_size(quantiles['p50'])}, p99 "
            f"{human_size(quantiles['p99'])}, largest {human_size(sizes.largest or 0)}; "
            f"≈{human_size(summary.estimated_bytes)} in all"
        )
        bars = [f"{bucket_label(i)}: {count:,}" for i, count in enumerate(sizes.counts) if count]
        lines.append(f"  histogram   {'; '.join(bars)}")
    if summary.near_limit_count:
        keys = ", ".join(f"{k} ({human_size(s)})" for k, s in summary.near_limit[:5])
        lines.append(f"  near 4 MB   {summary.near_limit_count:,}: {keys}")
    if summary.conforming is not None:
        share = summary.conformance or 0.0
        lines.append(f"  schema      {summary.schema}: {share:.1%} conform")
        for (pointer, keyword, expected), found in list(summary.violations.items())[:10]:
            lines.append(
                f"    {pointer or '/'}  {expected} ({keyword}): {found.count:,} — {_keys(found)}"
            )
    for field in summary.outliers:
        shown = ", ".join(f"{o.key}={_number(o.value):,}" for o in field.outliers)
        lines.append(f"  outliers    {field.pointer}: {shown}")
    if summary.stale.count:
        lines.append(
            f"  stale       {summary.stale.count:,} not written for {report.stale_days} days: "
            f"{_keys(summary.stale)}"
        )
    for (kind, pointer), found in summary.pii.items():
        lines.append(f"  PII         {kind} at {pointer}: {found.count:,} — {_keys(found)}")
    if summary.locks.count:
        lines.append(
            f"  locked      {summary.locks.count:,} held by a game server: {_keys(summary.locks)}"
        )
    return lines


def report_text(report: ScanReport) -> str:
    lines = [f"universe {report.universe_id} ({report.environment})", ""]
    for summary in report.stores:
        lines.extend(_store_text(report, summary))
        lines.append("")
    storage = report.storage
    quota = human_size(storage.quota_bytes)
    basis = (
        f"{storage.lifetime_users:,} lifetime users"
        if storage.lifetime_users is not None
        else "at least; pass --lifetime-users for the exact quota"
    )
    lines.append(f"storage     quota {quota} ({basis})")
    lines.append(
        f"  scanned   ≈{human_size(storage.scanned_bytes)} of JSON in the stores scanned "
        f"({storage.scanned_bytes / storage.quota_bytes:.2%} of the quota, uncompressed)"
    )
    if storage.metric is not None:
        lines.append(
            f"  measured  {human_size(storage.metric.bytes)} by DataStoreStorageUsageBytes at "
            f"{storage.metric.time} ({storage.metric.bytes / storage.quota_bytes:.2%} of the quota)"
        )
    elif storage.metric_error:
        lines.append(f"  measured  unavailable: {storage.metric_error}")
    else:
        lines.append("  measured  no data point yet")
    return "\n".join(lines) + "\n"
