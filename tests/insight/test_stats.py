from __future__ import annotations

import math

import pytest

from dsgit.insight.stats import (
    SIZE_BUCKETS,
    Reservoir,
    SizeHistogram,
    bucket_label,
    human_size,
    margin_of_error,
    quantile,
    robust_outliers,
    spread,
)


def test_reservoir_is_uniform_and_deterministic() -> None:
    first: Reservoir[int] = Reservoir(100, seed="PlayerStore")
    second: Reservoir[int] = Reservoir(100, seed="PlayerStore")
    for number in range(10_000):
        first.add(number, str(number))
        second.add(number, str(number))
    assert first.items == second.items
    assert first.seen == 10_000 and len(first.items) == 100
    # a uniform sample of 0..9999 has a mean near 5000 (within 5 standard errors)
    mean = sum(first.items) / 100
    assert abs(mean - 4999.5) < 5 * 2887 / math.sqrt(100)


def test_reservoir_keeps_everything_below_capacity() -> None:
    sample: Reservoir[str] = Reservoir(5)
    for key in "abc":
        sample.add(key, key)
    assert sorted(sample.items) == ["a", "b", "c"]


def test_reservoir_does_not_depend_on_arrival_order() -> None:
    forward: Reservoir[int] = Reservoir(10, seed="s")
    backward: Reservoir[int] = Reservoir(10, seed="s")
    for number in range(500):
        forward.add(number, str(number))
    for number in reversed(range(500)):
        backward.add(number, str(number))
    assert forward.items == backward.items
    with pytest.raises(ValueError):
        Reservoir(0)


def test_quantile_interpolates() -> None:
    assert quantile([1, 2, 3, 4], 0.5) == 2.5
    assert quantile([7], 0.99) == 7
    with pytest.raises(ValueError):
        quantile([], 0.5)


def test_size_histogram_buckets_and_totals() -> None:
    sizes = SizeHistogram(seed="s")
    for size in (10, 63, 64, 1000, 4_000_000):
        sizes.add(size)
    assert sizes.counts[0] == 2 and sizes.counts[1] == 1 and sizes.counts[2] == 1
    assert sizes.counts[-1] == 1  # at 90 % of 4 MB or more
    assert (sizes.count, sizes.total) == (5, 4_001_137)
    assert (sizes.smallest, sizes.largest) == (10, 4_000_000)
    assert sizes.quantiles()["p50"] == 64
    assert SizeHistogram().quantiles() == {}
    assert bucket_label(0) == "0 B–64 B"
    assert bucket_label(len(SIZE_BUCKETS)).startswith("≥ 3.6 MB")
    assert human_size(1536) == "1.5 KB"


def test_outliers_find_the_hoarder_and_only_him() -> None:
    coins = [100.0 + (i * 37) % 600 for i in range(200)] + [9_000_000.0]
    candidates = [("1007", 9_000_000.0), ("1042", 699.0)]
    found = robust_outliers(coins, candidates)
    assert [item.key for item in found] == ["1007"]
    assert found[0].score > 1000


def test_one_huge_value_cannot_hide_itself() -> None:
    # a mean/stddev test would be fooled by the outlier inflating the deviation
    values = [10.0] * 30 + [11.0] * 30 + [10_000.0]
    assert [o.key for o in robust_outliers(values, [("k", 10_000.0)])] == ["k"]


def test_outliers_need_enough_values_and_a_spread() -> None:
    assert robust_outliers([1.0, 2.0, 1000.0], [("k", 1000.0)]) == []
    assert robust_outliers([5.0] * 50, [("k", 5.0)]) == []
    basis = spread([5.0] * 49 + [6.0])
    assert basis is not None and basis.mad > 0  # mean absolute deviation stands in


def test_margin_of_error() -> None:
    assert margin_of_error(1000, 1000) == 0.0
    assert margin_of_error(0, 10) == 1.0
    # the textbook figure: n = 1000 of a huge population -> ±3.1 %
    assert margin_of_error(1000, 10**9) == pytest.approx(0.031, abs=0.0005)
    # finite population correction: 1000 of 100,000 is slightly tighter
    assert margin_of_error(1000, 100_000) < margin_of_error(1000, 10**9)
