"""Read progress lines, ETA and the interrupt report, on a fake clock."""

from __future__ import annotations

import io

import pytest

from dsgit.cli.progress import ReadProgress
from dsgit.config import Budget
from dsgit.remote.budget import Operation, RequestClass
from dsgit.remote.pace import RequestMeter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _progress(
    budget: Budget | None, clock: Clock
) -> tuple[ReadProgress, RequestMeter, io.StringIO]:
    meter, stream = RequestMeter(), io.StringIO()
    progress = ReadProgress(
        "plan", "prod", budget, meter, stream=stream, plain=True, interval=3600, clock=clock
    )
    return progress, meter, stream


def test_lines_show_count_rate_and_a_budget_eta() -> None:
    clock = Clock()
    progress, meter, stream = _progress(Budget(ccu=0), clock)
    with progress:
        progress.expect(reads=300, lists=0)
        for _ in range(150):
            meter.count(RequestClass(Operation.READ))
        clock.now += 60
        line = progress.line()
    assert line == "plan: 150 of ~300 requests (50%), 2.5/s, about 1m 00s left"
    assert stream.getvalue().startswith("note: about 300 reads")  # 2 minutes: announced


def test_without_a_budget_the_measured_rate_gives_the_eta() -> None:
    clock = Clock()
    progress, meter, stream = _progress(None, clock)
    with progress:
        progress.expect(reads=40, lists=0)
        for _ in range(10):
            meter.count(RequestClass(Operation.READ))
        clock.now += 10
        assert progress.line() == "plan: 10 of ~40 requests (25%), 1.0/s, about 30 s left"
    assert stream.getvalue() == ""  # no budget, no notice; short runs print nothing


def test_ctrl_c_reports_how_far_the_run_got() -> None:
    clock = Clock()
    progress, meter, stream = _progress(Budget(ccu=20000), clock)
    with pytest.raises(KeyboardInterrupt), progress:
        progress.expect(reads=100, lists=2)
        for _ in range(7):
            meter.count(RequestClass(Operation.READ))
        clock.now += 3
        raise KeyboardInterrupt
    assert stream.getvalue() == (
        "plan: interrupted after 7 of ~102 requests in 3 s; nothing was saved\n"
    )
