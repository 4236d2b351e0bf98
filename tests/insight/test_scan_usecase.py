from __future__ import annotations

from datetime import UTC, datetime

from dsgit.emulator import Emulator
from dsgit.insight.scan import ScanRequest, quota_bytes, scan_stores
from dsgit.model.entry import EntryData
from dsgit.remote.client import OpenCloudClient

from .fixtures import player_store

DATA_SCOPES = frozenset(
    {
        "universe-datastores.objects:list",
        "universe-datastores.objects:read",
        "universe-datastores.objects:create",
        "universe-datastores.control:list",
    }
)


def test_a_key_without_the_analytics_scope_still_scans() -> None:
    emulator = Emulator(api_keys={"data-only": DATA_SCOPES})
    scan_client = OpenCloudClient(1, api_key="data-only", transport=emulator.transport())
    metric_client = OpenCloudClient(1, api_key="data-only", transport=emulator.transport())
    for item in player_store(25):
        scan_client.create_entry("PlayerStore", item.key, EntryData(item.value, users=item.users))
    report = scan_stores(
        scan_client,
        ScanRequest(),
        environment="live",
        now=datetime.now(UTC),
        storage_metric=metric_client.storage_usage,
    )
    assert [s.store for s in report.stores] == ["PlayerStore"]
    assert report.stores[0].read == 25 and report.stores[0].locks.count == 2
    assert report.storage.metric is None
    assert report.storage.metric_error is not None and "403" in report.storage.metric_error


def test_quota() -> None:
    assert quota_bytes(None) == 500 * 1024 * 1024
    assert quota_bytes(2_000) == 2_500 * 1024 * 1024
