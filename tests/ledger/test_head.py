"""The chain head in the universe: appends extend it, move it by compare-and-swap, recover."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dsgit.emulator import Emulator
from dsgit.errors import LedgerError, TransportError
from dsgit.ledger import ChangeOutcome, ChangeRecord, EntryState, Ledger, verify_ledger
from dsgit.ledger.head import HEAD_SCOPE, ChainHead, HeadMoved, UniverseHead, head_key
from dsgit.ledger.layout import batch_path
from dsgit.model.entry import RESERVED_STORE, EntryData
from dsgit.remote.client import OpenCloudClient
from dsgit.remote.testing import emulated_client

ENV = "prod"


def change(address: str, apply_id: str) -> ChangeRecord:
    return ChangeRecord(
        apply_id=apply_id,
        address=address,
        action="update",
        outcome=ChangeOutcome.WRITTEN,
        before=EntryState(True, "e1", "r1"),
        after=EntryState(True, "e2", "r2"),
    )


@pytest.fixture
def api() -> Iterator[OpenCloudClient]:
    client = emulated_client(Emulator(db=":memory:"), universe_id=1)
    try:
        yield client
    finally:
        client.close()


def test_the_head_is_kept_beside_the_lock_and_lists_recent_batches(
    tmp_path: Path, api: OpenCloudClient
) -> None:
    book = Ledger.of_universe(tmp_path, ENV, api)
    book.append([change("S/global/a", "A1"), change("S/global/b", "A1")], actor="ci")
    book.append([change("S/global/c", "A2")], actor="ci")
    live = api.get_entry(RESERVED_STORE, head_key(ENV), HEAD_SCOPE)
    assert live is not None and isinstance(live.value, dict)
    assert live.value["seq"] == 2 and live.value["environment"] == ENV
    head, _ = UniverseHead(api, ENV).read()
    assert head is not None
    assert [(b.first, b.last, b.name) for b in head.batches] == [(0, 1, "A1"), (2, 2, "A2")]
    assert verify_ledger(tmp_path, environment=ENV, live_head=head).ok


def test_long_environment_names_get_a_short_key() -> None:
    assert head_key("prod") == "ledger-head.prod"
    long = head_key("x" * 80)
    assert len(long) <= 50 and long.startswith("ledger-head.~")


class _RacingHead:
    """A head store where another append lands between our read and our first advance."""

    def __init__(self, inner: UniverseHead, other: Ledger) -> None:
        self.inner, self.other, self.raced = inner, other, False

    def read(self) -> tuple[ChainHead | None, str | None]:
        return self.inner.read()

    def advance(self, new: ChainHead, token: str | None) -> None:
        if not self.raced:
            self.raced = True
            self.other.append([change("S/global/other", "B1")], actor="other")
        self.inner.advance(new, token)


def test_an_append_that_loses_the_race_follows_the_winner(
    tmp_path: Path, api: OpenCloudClient
) -> None:
    elsewhere = tmp_path / "elsewhere"
    other = Ledger.of_universe(elsewhere, ENV, api)
    mine = Ledger(
        tmp_path / "here", environment=ENV, head=_RacingHead(UniverseHead(api, ENV), other)
    )
    (record,) = mine.append([change("S/global/mine", "A1")], actor="me")
    assert record.seq == 1  # seq 0 is the other append's, which won
    lines = batch_path(tmp_path / "here", ENV, "A1").read_text().splitlines()
    assert len(lines) == 1  # the losing attempt's line was taken back out
    head, _ = UniverseHead(api, ENV).read()
    assert head is not None and head.hash == record.hash


class _Unreachable:
    """A head store whose advance fails as a dropped connection would."""

    def __init__(self, inner: UniverseHead) -> None:
        self.inner = inner

    def read(self) -> tuple[ChainHead | None, str | None]:
        return self.inner.read()

    def advance(self, new: ChainHead, token: str | None) -> None:
        raise TransportError("PATCH", "/ledger-head", "connection reset")


def test_records_written_but_not_published_are_published_by_the_next_append(
    tmp_path: Path, api: OpenCloudClient
) -> None:
    Ledger.of_universe(tmp_path, ENV, api).append([change("S/global/a", "A1")], actor="ci")
    broken = Ledger(tmp_path, environment=ENV, head=_Unreachable(UniverseHead(api, ENV)))
    with pytest.raises(LedgerError, match="the next append from this checkout publishes"):
        broken.append([change("S/global/b", "A2")], actor="ci")
    head, _ = UniverseHead(api, ENV).read()
    assert head is not None and head.seq == 0  # A2 is on disk, the universe does not know it
    (record,) = Ledger.of_universe(tmp_path, ENV, api).append(
        [change("S/global/c", "A3")], actor="ci"
    )
    assert record.seq == 2
    head, _ = UniverseHead(api, ENV).read()
    assert head is not None and head.seq == 2
    assert [b.name for b in head.batches] == ["A1", "A2", "A3"]
    assert verify_ledger(tmp_path, environment=ENV, live_head=head).ok


def test_publish_alone_moves_the_head_over_unpublished_records(
    tmp_path: Path, api: OpenCloudClient
) -> None:
    broken = Ledger(tmp_path, environment=ENV, head=_Unreachable(UniverseHead(api, ENV)))
    with pytest.raises(LedgerError, match="the next append from this checkout publishes"):
        broken.append([change("S/global/b", "A1")], actor="ci")
    Ledger.of_universe(tmp_path, ENV, api).publish()
    head, _ = UniverseHead(api, ENV).read()
    assert head is not None and head.seq == 0 and head.batches[0].name == "A1"


def test_unpublished_records_the_universe_moved_past_refuse_the_append(
    tmp_path: Path, api: OpenCloudClient
) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    broken = Ledger(here, environment=ENV, head=_Unreachable(UniverseHead(api, ENV)))
    with pytest.raises(LedgerError, match="the next append from this checkout publishes"):
        broken.append([change("S/global/b", "A1")], actor="ci")
    Ledger.of_universe(there, ENV, api).append([change("S/global/x", "B1")], actor="ci")
    Ledger.of_universe(there, ENV, api).append([change("S/global/y", "B2")], actor="ci")
    with pytest.raises(LedgerError, match=r"A1.jsonl: its records end at seq 0.*never published"):
        Ledger.of_universe(here, ENV, api).check_appendable()


def test_a_universe_whose_head_is_not_in_this_chain_refuses(
    tmp_path: Path, api: OpenCloudClient
) -> None:
    book = Ledger.of_universe(tmp_path, ENV, api)
    book.append([change("S/global/a", "A1"), change("S/global/b", "A1")], actor="ci")
    live = api.get_entry(RESERVED_STORE, head_key(ENV), HEAD_SCOPE)
    assert live is not None and isinstance(live.value, dict)
    forged = dict(live.value, seq=0, hash="sha256:" + "9" * 64, batches=[])
    api.update_entry(RESERVED_STORE, head_key(ENV), EntryData(forged), HEAD_SCOPE)
    with pytest.raises(LedgerError, match="is not in this checkout's chain"):
        book.append([change("S/global/c", "A2")], actor="ci")
    assert len(batch_path(tmp_path, ENV, "A1").read_text().splitlines()) == 2


def test_a_head_that_is_not_dsgits_is_refused(tmp_path: Path, api: OpenCloudClient) -> None:
    api.create_entry(RESERVED_STORE, head_key(ENV), EntryData({"hello": 1}), HEAD_SCOPE)
    with pytest.raises(LedgerError, match="not readable"):
        Ledger.of_universe(tmp_path, ENV, api).append([change("S/global/a", "A1")], actor="x")


def test_advancing_a_stale_token_is_head_moved(api: OpenCloudClient) -> None:
    store = UniverseHead(api, ENV)
    first = ChainHead(ENV, 0, "sha256:" + "1" * 64, "t")
    store.advance(first, None)
    with pytest.raises(HeadMoved):
        store.advance(first, None)  # created meanwhile
    _, token = store.read()
    store.advance(ChainHead(ENV, 1, "sha256:" + "2" * 64, "t"), token)
    with pytest.raises(HeadMoved):
        store.advance(ChainHead(ENV, 2, "sha256:" + "3" * 64, "t"), token)


def test_a_ledger_without_an_environment_publishes_to_the_one_its_records_name(
    tmp_path: Path, api: OpenCloudClient
) -> None:
    from dsgit.ledger import ApprovalRecord

    book = Ledger(tmp_path, head=UniverseHead(api, ENV))
    approval = ApprovalRecord("sha256:" + "a" * 64, ENV, 1, "alice", "signature", "sha256:c")
    (record,) = book.append([approval], actor="ci")
    head, _ = UniverseHead(api, ENV).read()
    assert head is not None and head.hash == record.hash


class _Unreadable:
    """A head store that cannot be read (the universe is unreachable)."""

    def read(self) -> tuple[ChainHead | None, str | None]:
        raise TransportError("GET", "/ledger-head", "connection refused")

    def advance(self, new: ChainHead, token: str | None) -> None:
        raise AssertionError("never moved when it could not be read")


def test_an_unreadable_head_appends_nothing_and_says_so(tmp_path: Path) -> None:
    book = Ledger(tmp_path, environment=ENV, head=_Unreadable())
    with pytest.raises(LedgerError, match=r"could not be read from its universe \(GET"):
        book.append([change("S/global/a", "A1")], actor="ci")
    assert (
        not batch_path(tmp_path, ENV, "A1").exists()
        or not batch_path(tmp_path, ENV, "A1").read_text()
    )
