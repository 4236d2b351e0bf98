"""The rate-budget notice and the time a run needs at a budget."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsgit.config import Budget
from dsgit.remote.budget import Operation
from dsgit.remote.pace import budget_notice, format_duration, seconds_needed


def test_2000_reads_at_ccu_0_take_over_13_minutes() -> None:
    needed = seconds_needed({Operation.READ: 2000, Operation.LIST: 3}, Budget(ccu=0))
    assert needed == pytest.approx(800.0)  # 150 reads a minute
    assert format_duration(800) == "13m 20s"


def test_the_notice_names_budget_rate_and_how_to_raise_it() -> None:
    notice = budget_notice("prod", Budget(ccu=0, share=0.5), {Operation.READ: 2000})
    assert notice is not None
    assert "about 2,000 reads" in notice and "environment 'prod'" in notice
    assert "150 reads a minute" in notice and "ccu: 0, share: 0.5" in notice
    assert "`budget.ccu`" in notice and "`budget.share`" in notice


def test_no_notice_for_short_runs_or_without_a_budget() -> None:
    assert budget_notice("prod", Budget(ccu=1500, share=0.25), {Operation.READ: 2000}) is None
    assert budget_notice("local", None, {Operation.READ: 10**6}) is None
    assert budget_notice("prod", Budget(), {Operation.READ: 50}) is None  # 20 s


def test_the_slowest_class_is_named() -> None:
    notice = budget_notice("prod", Budget(ccu=0), {Operation.READ: 10, Operation.LIST: 500})
    assert notice is not None and "500 listing requests" in notice


@given(st.floats(min_value=0, max_value=10**6))
def test_durations_are_short_and_never_negative(seconds: float) -> None:
    text = format_duration(seconds)
    assert "-" not in text and len(text) <= 12


@given(st.integers(0, 10**5), st.integers(0, 10**5), st.integers(0, 5000))
def test_more_players_never_make_a_run_longer(reads: int, lists: int, ccu: int) -> None:
    wanted = {Operation.READ: reads, Operation.LIST: lists}
    slow, fast = seconds_needed(wanted, Budget(ccu=ccu)), seconds_needed(wanted, Budget(ccu + 1))
    assert slow is not None and fast is not None and fast <= slow
