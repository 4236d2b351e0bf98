from __future__ import annotations

from pathlib import Path

import pytest

from dsgit.errors import ConfigError
from dsgit.model.entry import EntryData, JSONValue, StoreKind
from dsgit.remote.client import OpenCloudClient
from dsgit.scan import (
    Emit,
    ScanEntry,
    ScanOptions,
    Selection,
    Shard,
    Visitor,
    run_scan,
)
from live_fixtures import emulated, seed_datastore2, seed_profiles


class Keys(Visitor):
    """Emits each entry's address; counts in its snapshot."""

    def __init__(self) -> None:
        self.seen = 0

    def visit(self, entry: ScanEntry, emit: Emit) -> None:
        self.seen += 1
        emit([entry.kind.value, entry.store, entry.scope, entry.key, list(entry.selections)])

    def snapshot(self) -> JSONValue:
        return self.seen

    def restore(self, state: JSONValue) -> None:
        assert isinstance(state, int)
        self.seen = state


def _addresses(result_records: list[JSONValue]) -> list[tuple[str, ...]]:
    return sorted(tuple(str(part) for part in record[:4]) for record in result_records)  # type: ignore[index]


def test_scan_visits_each_selected_entry_once_with_its_metadata() -> None:
    with emulated() as client:
        seed_profiles(client, 30)
        client.update_entry("PlayerStore", "config", EntryData({"v": 1}), allow_missing=True)
        seen: list[ScanEntry] = []

        class Grab(Visitor):
            def visit(self, entry: ScanEntry, emit: Emit) -> None:
                seen.append(entry)

        result = run_scan(client, [Selection(("PlayerStore",), keys="[0-9]*")], Grab())
        assert sorted(int(e.key) for e in seen) == list(range(1, 31))
        first = next(e for e in seen if e.key == "3")
        assert first.users == (3,)
        assert first.revision_time is not None and first.etag
        assert isinstance(first.value, dict) and first.value["UserIds"] == [3]
        assert result.counters["visited"] == 30
        assert result.counters["selected"] == 30
        assert result.counters["listed"] == 31  # "config" listed, not selected
        result.discard()


def test_prefix_and_glob_narrow_the_listing() -> None:
    with emulated() as client:
        for key in ("Player_1", "Player_2", "Guild_1", "Player_x"):
            client.update_entry("S", key, EntryData(1), allow_missing=True)
        visitor = Keys()
        result = run_scan(client, [Selection(("S",), keys="Player_[0-9]")], visitor)
        assert sorted(r[3] for r in result.records()) == ["Player_1", "Player_2"]
        # the glob's literal start filtered the listing: Guild_1 was never listed
        assert result.counters["listed"] == 3
        result.discard()


def test_datastore2_stores_by_glob_standard_and_ordered() -> None:
    with emulated() as client:
        seed_datastore2(client, range(100, 104), saves=3)
        client.update_entry("Other", "1", EntryData(1), allow_missing=True)
        selections = [
            Selection(("DATA/*",)),
            Selection(("DATA/*",), kind=StoreKind.ORDERED, max_value=2),
        ]
        result = run_scan(client, selections, Keys())
        found = _addresses(list(result.records()))
        standard = [f for f in found if f[0] == "standard"]
        ordered = [f for f in found if f[0] == "ordered"]
        assert len(standard) == 12 and {f[1] for f in standard} == {
            f"DATA/{u}" for u in range(100, 104)
        }
        assert sorted(f[3] for f in ordered) == ["1", "1", "1", "1", "2", "2", "2", "2"]
        result.discard()


def test_overlapping_selections_share_a_lane_and_name_what_matched() -> None:
    with emulated() as client:
        for key in ("a1", "a2", "b1"):
            client.update_entry("S", key, EntryData(1), allow_missing=True)
        selections = [Selection(("S",), keys="a*"), Selection(("S",), keys="*1")]
        result = run_scan(client, selections, Keys())
        matched = {r[3]: r[4] for r in result.records()}
        assert matched == {"a1": [0, 1], "a2": [0], "b1": [1]}
        assert result.counters["visited"] == 3
        result.discard()


def test_all_scopes() -> None:
    with emulated() as client:
        client.update_entry("S", "k", EntryData(1), scope="global", allow_missing=True)
        client.update_entry("S", "k", EntryData(2), scope="beta", allow_missing=True)
        result = run_scan(client, [Selection(("S",), scopes=("-",)), Selection(("S",))], Keys())
        assert _addresses(list(result.records())) == [
            ("standard", "S", "beta", "k"),
            ("standard", "S", "global", "k"),
        ]
        result.discard()


def test_shards_partition_the_entries() -> None:
    with emulated() as client:
        seed_profiles(client, 40)
        everything: list[tuple[str, ...]] = []
        sizes = []
        for index in range(1, 5):
            result = run_scan(
                client, [Selection(("PlayerStore",))], Keys(), ScanOptions(shard=Shard(index, 4))
            )
            found = _addresses(list(result.records()))
            sizes.append(len(found))
            everything.extend(found)
            result.discard()
        assert sorted(everything) == sorted(set(everything))
        assert len(everything) == 40
        assert all(size > 0 for size in sizes)


def test_shard_text() -> None:
    assert Shard.parse("2/4") == Shard(2, 4)
    assert isinstance(Shard.parse("2/4"), Shard)  # the scan's shard, with its budget
    for bad in ("0/4", "5/4", "x", "1/0"):
        with pytest.raises(ValueError, match="shard"):
            Shard.parse(bad)
    from dsgit.config import Budget

    assert Shard(1, 4).budget(Budget(ccu=1000, share=0.5)) == Budget(ccu=1000, share=0.125)


def test_sample_is_a_fixed_subset_and_reads_only_it() -> None:
    with emulated() as client:
        seed_profiles(client, 50)
        before = client.meter.snapshot()
        first = run_scan(client, [Selection(("PlayerStore",))], Keys(), ScanOptions(sample=7))
        picked = _addresses(list(first.records()))
        reads = client.meter.snapshot()
        assert len(picked) == 7
        from dsgit.remote.budget import Operation

        assert reads[Operation.READ] - before.get(Operation.READ, 0) == 7
        again = run_scan(client, [Selection(("PlayerStore",))], Keys(), ScanOptions(sample=7))
        assert _addresses(list(again.records())) == picked
        first.discard()
        again.discard()


class Stopper(Keys):
    """Raises after ``limit`` visits, as a kill would stop the scan."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def visit(self, entry: ScanEntry, emit: Emit) -> None:
        if self.seen >= self.limit:
            raise KeyboardInterrupt
        super().visit(entry, emit)


@pytest.mark.parametrize("sample", [None, 20])
def test_interrupted_scan_resumes_and_visits_each_entry_once(
    tmp_path: Path, sample: int | None
) -> None:
    checkpoint = tmp_path / "scan.json"
    with emulated() as client:
        seed_profiles(client, 600)  # three pages of 256
        selections = [Selection(("PlayerStore",))]
        options = ScanOptions(checkpoint=checkpoint, every_entries=25, sample=sample)
        for limit in (90, 130, 333) if sample is None else (5, 9, 14):
            with pytest.raises(KeyboardInterrupt):
                run_scan(client, selections, Stopper(limit), options)
            assert checkpoint.exists()
        visitor = Keys()
        result = run_scan(client, selections, visitor, options)
        assert result.resumed
        found = _addresses(list(result.records()))
        assert len(found) == len(set(found)) == (sample or 600)
        assert visitor.seen == (sample or 600)  # the snapshot was restored with the records
        assert result.counters["visited"] == (sample or 600)
        result.discard()
        assert not checkpoint.exists()


def test_checkpoint_of_another_scan_is_refused(tmp_path: Path) -> None:
    checkpoint = tmp_path / "scan.json"
    with emulated() as client:
        seed_profiles(client, 30)
        with pytest.raises(KeyboardInterrupt):
            run_scan(
                client,
                [Selection(("PlayerStore",))],
                Stopper(5),
                ScanOptions(checkpoint=checkpoint, every_entries=2),
            )
        with pytest.raises(ConfigError, match="another scan"):
            run_scan(
                client,
                [Selection(("PlayerStore",), keys="1*")],
                Keys(),
                ScanOptions(checkpoint=checkpoint),
            )
        fresh = run_scan(
            client,
            [Selection(("PlayerStore",), keys="1*")],
            Keys(),
            ScanOptions(checkpoint=checkpoint, restart=True),
        )
        assert fresh.counters["visited"] == 11  # 1, 10..19
        fresh.discard()


def test_damaged_checkpoint_names_the_file(tmp_path: Path) -> None:
    checkpoint = tmp_path / "scan.json"
    checkpoint.write_text("{not json")
    with emulated() as client, pytest.raises(ConfigError) as caught:
        run_scan(client, [Selection(("S",))], Keys(), ScanOptions(checkpoint=checkpoint))
    assert "scan.json" in str(caught.value.location) and "--restart" in str(caught.value)


def _client_type_check(client: OpenCloudClient) -> None:
    # OpenCloudClient is a ScanClient (checked by mypy on the tests' types)
    from dsgit.scan import ScanClient

    scan_client: ScanClient = client
    del scan_client
