"""Apply progress with a pace: the budget notice up front, summary lines with rate and ETA."""

from __future__ import annotations

import io

from dsgit.apply.progress import ApplyPace, PlainProgress
from dsgit.apply.result import ChangeResult
from dsgit.config import Budget
from dsgit.ledger.records import ChangeOutcome, EntryState
from dsgit.model.entry import Address
from dsgit.plan.model import Action
from dsgit.remote.budget import Operation


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _result() -> ChangeResult:
    state = EntryState(True)
    address = Address.standard("S", "k")
    return ChangeResult(address, Action.UPDATE, ChangeOutcome.WRITTEN, "", state, state)


def test_a_long_apply_is_announced_and_summarised_with_a_budget_eta() -> None:
    stream, clock = io.StringIO(), Clock()
    pace = ApplyPace("prod", Budget(ccu=0), {Operation.WRITE: 600})
    progress = PlainProgress(stream, pace, interval=5.0, clock=clock)
    progress.start(600, 0)
    for _ in range(15):
        clock.now += 0.4  # 150 writes a minute
        progress.update(_result())
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("note: about 600 writes at the rate budget of environment 'prod'")
    assert "150 writes a minute" in lines[0]
    assert lines[1] == "applying 600 changes"
    summaries = [line for line in lines if line.startswith("progress:")]
    assert summaries == ["progress: 13/600 changes (2%), 2.5/s, about 3m 55s left"]


def test_a_short_apply_has_no_notice_and_singular_wording() -> None:
    stream = io.StringIO()
    progress = PlainProgress(stream, ApplyPace("prod", Budget(ccu=0), {Operation.WRITE: 1}))
    progress.start(1, 0)
    assert stream.getvalue() == "applying 1 change\n"
