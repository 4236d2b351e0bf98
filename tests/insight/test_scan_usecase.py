from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dsgit.emulator import Emulator
from dsgit.errors import DsgitError
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


class Flaky(OpenCloudClient):
    """A client whose reads fail after ``budget`` of them: the scan stops part way."""

    def __init__(self, *args: object, reads: int, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.left = reads

    def get_entry(self, *args: object, **kw: object):  # type: ignore[no-untyped-def,override]
        self.left -= 1
        if self.left < 0:
            raise DsgitError("connection lost (test)")
        return super().get_entry(*args, **kw)  # type: ignore[arg-type]


def test_a_killed_scan_resumes_with_the_figures_it_had(tmp_path: Path) -> None:
    from dsgit.insight.render import report_json

    emulator = Emulator()
    seeder = OpenCloudClient(1, transport=emulator.transport())
    for item in player_store(60):
        seeder.create_entry("PlayerStore", item.key, EntryData(item.value, users=item.users))
    now = datetime.now(UTC)
    request = ScanRequest(checkpoints=tmp_path / "scans")
    whole = scan_stores(seeder, ScanRequest(), environment="e", now=now)
    flaky = Flaky(1, transport=emulator.transport(), reads=25, max_workers=1)
    with pytest.raises(DsgitError, match="connection lost"):
        scan_stores(flaky, request, environment="e", now=now)
    saved = list((tmp_path / "scans").glob("insight-*.json"))
    assert [p.name for p in saved] == ["insight-PlayerStore%40global.json"]
    counter = Flaky(1, transport=emulator.transport(), reads=10_000)
    resumed = scan_stores(counter, request, environment="e", now=now)
    # the resumed run read only what the first did not, and the figures are the same
    assert 10_000 - counter.left <= 60 - 20
    body, expected = report_json(resumed), report_json(whole)
    assert body["stores"] == expected["stores"]
    assert list((tmp_path / "scans").glob("insight-*.json")) == []  # finished: removed
