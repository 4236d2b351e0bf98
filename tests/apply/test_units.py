from __future__ import annotations

import io
import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from dsgit.apply.journal import Journal
from dsgit.apply.progress import NullProgress, PlainProgress, RichProgress, choose_progress
from dsgit.apply.result import ChangeResult
from dsgit.apply.run import prepare_steps
from dsgit.apply.secrets import resolve_placeholders
from dsgit.errors import PolicyRefused, StalePlan
from dsgit.ledger import ChangeOutcome, EntryState
from dsgit.model.entry import Address, EntryData
from dsgit.plan.digest import sensitive_placeholder
from dsgit.plan.io import with_digest
from support import declaration_of

from .conftest import World

ADDRESS = Address.standard("S", "k")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def result(outcome: ChangeOutcome | None = ChangeOutcome.WRITTEN) -> ChangeResult:
    state = EntryState(True)
    return ChangeResult(ADDRESS, "update", outcome, "", state, state)  # type: ignore[arg-type]


def test_progress_is_plain_in_ci_or_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(choose_progress(io.StringIO()), PlainProgress)
    assert isinstance(choose_progress(Terminal()), RichProgress)
    monkeypatch.setenv("CI", "true")
    assert isinstance(choose_progress(Terminal()), PlainProgress)
    assert isinstance(choose_progress(Terminal(), quiet=True), NullProgress)


def test_plain_progress_lines() -> None:
    stream = io.StringIO()
    progress = PlainProgress(stream)
    progress.start(2, 1)
    progress.update(result())
    progress.update(result(None))  # pending: not a line
    progress.note("note")
    assert stream.getvalue().splitlines() == [
        "applying 2 changes (1 done by an earlier run)",
        "[2/2] update S/global/k ok",
        "note",
    ]


def test_rich_progress_prints_conflicts() -> None:
    stream = Terminal()
    progress = RichProgress(stream)
    progress.start(2, 0)
    progress.update(replace(result(ChangeOutcome.CONFLICT), message="changed since the plan"))
    progress.update(result())
    progress.close()
    assert "conflict: S/global/k: changed since the plan" in stream.getvalue()


def test_journal_group_commit_keeps_every_line(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")

    def writer(n: int) -> None:
        for i in range(50):
            journal.write({"t": "intent", "a": f"S/global/k{n}-{i}"})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    journal.close()
    lines = (tmp_path / "j.jsonl").read_text().splitlines()
    assert len({json.loads(line)["a"] for line in lines}) == 400
    with Journal(tmp_path / "j.jsonl") as again:
        assert len(again.state.intents) == 400


def test_corrupt_journal_is_named(tmp_path: Path) -> None:
    from dsgit.errors import ConfigError

    path = tmp_path / "j.jsonl"
    path.write_text('{"t":"begin","apply_id":"a","holder":"h","time":"t"}\nnot json\n{}\n')
    with pytest.raises(ConfigError, match=r"j.jsonl:2"):
        Journal(path)
    Journal(path.with_name("other.jsonl")).close()  # the failed open released its lock


def test_placeholders_resolve_only_to_the_reviewed_value() -> None:
    planned = EntryData({"token": sensitive_placeholder("s3cret"), "url": "x"})
    declared = EntryData({"token": "s3cret", "url": "x"})
    assert resolve_placeholders(planned, declared, ADDRESS) == declared
    with pytest.raises(StalePlan, match="changed since the plan"):
        resolve_placeholders(planned, EntryData({"token": "other", "url": "x"}), ADDRESS)
    with pytest.raises(StalePlan, match="no longer declared"):
        resolve_placeholders(planned, EntryData({"url": "x"}), ADDRESS)
    with pytest.raises(StalePlan, match="no longer has the entry"):
        resolve_placeholders(planned, None, ADDRESS)
    nested = EntryData([{"a": sensitive_placeholder([1, 2])}])
    assert resolve_placeholders(nested, EntryData([{"a": [1, 2]}]), ADDRESS).value == [
        {"a": [1, 2]}
    ]


def test_a_plan_touching_the_reserved_store_is_refused(world: World) -> None:
    declaration = declaration_of({ADDRESS: EntryData(1)})
    plan = world.plan(declaration)
    (change,) = plan.changes
    forged = with_digest(
        replace(plan, changes=(replace(change, address=Address.standard("_dsgit", "lock")),))
    )
    with pytest.raises(PolicyRefused, match="reserved store"):
        prepare_steps(forged, declaration, None)
