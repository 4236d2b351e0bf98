"""Invariant: however appends from several checkouts of one environment interleave, the union of
their files (what git merges in any order) is one linear chain; each checkout alone is intact,
lacking only records (missing), and deleting any one record is reported as missing, never as
tampering."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dsgit.emulator import Emulator
from dsgit.ledger import ChangeOutcome, ChangeRecord, EntryState, Ledger, verify_ledger
from dsgit.ledger.head import UniverseHead
from dsgit.remote.testing import emulated_client

ENV = "prod"

steps = st.lists(
    st.tuples(st.integers(0, 2), st.integers(1, 3)),  # (checkout, records in the batch)
    min_size=1,
    max_size=8,
)


def change(n: int, apply_id: str) -> ChangeRecord:
    return ChangeRecord(
        apply_id=apply_id,
        address=f"S/global/k{n}",
        action="update",
        outcome=ChangeOutcome.WRITTEN,
        before=EntryState(True),
        after=EntryState(True),
    )


@settings(max_examples=25, deadline=None)
@given(steps, st.randoms(use_true_random=False))
def test_any_interleaving_merges_into_one_chain(plan: list[tuple[int, int]], rng: object) -> None:
    import random

    assert isinstance(rng, random.Random)
    with (
        tempfile.TemporaryDirectory() as folder,
        emulated_client(Emulator(db=":memory:"), universe_id=1) as api,
    ):
        base = Path(folder)
        checkouts = [base / f"c{i}" for i in range(3)]
        total = 0
        for number, (who, count) in enumerate(plan):
            apply_id = f"A{number:03d}"
            Ledger.of_universe(checkouts[who], ENV, api).append(
                [change(total + i, apply_id) for i in range(count)], actor=f"c{who}"
            )
            total += count
        head, _ = UniverseHead(api, ENV).read()
        assert head is not None and head.seq == total - 1

        for checkout in checkouts:
            alone = verify_ledger(checkout, environment=ENV, live_head=head)
            assert alone.intact, [str(p) for p in alone.problems]
            lacking = sum(g.last - g.first + 1 for g in alone.missing)
            assert alone.records + lacking == total

        merged = base / "merged"
        for checkout in checkouts:  # the union of the files, as any merge order yields
            if (checkout / "audit").exists():
                shutil.copytree(checkout / "audit", merged / "audit", dirs_exist_ok=True)
        report = verify_ledger(merged, environment=ENV, live_head=head)
        assert report.ok, [str(p) for p in report.problems]
        assert [r.seq for r in Ledger(merged, environment=ENV).records()] == list(range(total))

        files = sorted((merged / "audit/ledger" / ENV).glob("*.jsonl"))
        victim = rng.choice(files)
        lines = victim.read_text().splitlines()
        index = rng.randrange(len(lines))
        victim.write_text("".join(t + "\n" for i, t in enumerate(lines) if i != index))
        damaged = verify_ledger(merged, environment=ENV, live_head=head)
        assert damaged.intact and [(g.last - g.first) for g in damaged.missing] == [0]
