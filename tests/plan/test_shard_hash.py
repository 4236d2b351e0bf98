"""The shard hash covers the whole address (kind, store, scope, key), not the key alone."""

from __future__ import annotations

from collections import Counter

from dsgit.model.entry import Address
from dsgit.model.shard import Shard, shard_of


def _datastore2_addresses() -> list[Address]:
    # DataStore2: for each player a `DATA/<id>` ordered store of versions and a standard store
    # whose keys are those versions, `1..n` in every store.
    found = []
    for player in range(200):
        store = f"DATA/{1000 + player}"
        for version in range(1, 11):
            found.append(Address.standard(store, str(version)))
            found.append(Address.ordered(store, str(version)))
    return found


def test_datastore2_shaped_data_spreads_across_four_shards() -> None:
    addresses = _datastore2_addresses()
    shards = [Shard(k, 4) for k in range(1, 5)]
    counts = Counter(next(s.index for s in shards if s.holds(a)) for a in addresses)
    expected = len(addresses) / 4
    assert set(counts) == {1, 2, 3, 4}
    for shard, count in counts.items():
        assert abs(count - expected) <= 0.1 * expected, (shard, count, expected)


def test_every_address_is_in_exactly_one_shard_and_the_parts_all_count() -> None:
    addresses = _datastore2_addresses()
    for address in addresses[:200]:
        assert sum(Shard(k, 4).holds(address) for k in range(1, 5)) == 1
    key_only = {shard_of("standard", "DATA/1", "global", "1", 16)}
    spread = {shard_of("standard", f"DATA/{i}", "global", "1", 16) for i in range(64)}
    assert len(spread) > len(key_only)
    # each part is length-prefixed, so moving a character between parts moves the hash
    assert shard_of("standard", "ab", "global", "c", 2**31) != shard_of(
        "standard", "a", "global", "bc", 2**31
    )
