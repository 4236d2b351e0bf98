"""An erasure masks the local apply journals (apply/journal_purge.py): the erased addresses and
their pre-images leave ``.dsgit/journal/``, and a rerun of any plan still finds what it did."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsgit.apply.journal import JOURNAL_DIR, Journal, erased_key
from dsgit.apply.journal_purge import redact_journals
from dsgit.apply.run import ApplyOptions, apply_plan
from support import read_live

from .test_erase import OTHER, USER, World, seeded_world, std

DIGEST = "sha256:" + "ab" * 32
ERASED = f"PlayerStore/global/{USER}"
KEPT = f"PlayerStore/global/{OTHER}"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from seeded_world(tmp_path)


def _journal(root: Path, lines: list[dict[str, object]]) -> Path:
    path = root / JOURNAL_DIR / (DIGEST.removeprefix("sha256:") + ".jsonl")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _begin() -> dict[str, object]:
    return {"t": "begin", "apply_id": "a-1", "holder": "h", "plan_digest": DIGEST, "time": "t"}


def _intent(address: str, **extra: object) -> dict[str, object]:
    user = int(address.rsplit("/", 1)[1])
    body = {"apply_id": "a-1", "address": address, "value": {"UserIds": [user]}}
    return {"t": "intent", "a": address, "preimage": body, "time": "t", **extra}


def _done(address: str) -> dict[str, object]:
    state = {"exists": True, "etag": "e", "revision_id": "r", "value_digest": "sha256:00"}
    return {
        "t": "done",
        "a": address,
        "outcome": "written",
        "before": state,
        "after": dict(state, value_digest="sha256:11"),
        "message": f"wrote {address}",
        "time": "t",
    }


def test_a_finished_journal_keeps_no_erased_address_and_still_answers_for_it(
    tmp_path: Path,
) -> None:
    end = {"t": "end", "status": "complete", "time": "t"}
    lines = [_begin(), _intent(ERASED, value=7), _done(ERASED), _intent(KEPT), _done(KEPT), end]
    path = _journal(tmp_path, lines)
    report = redact_journals(tmp_path, addresses={ERASED})
    assert report.lines == 2 and report.files == [f"{JOURNAL_DIR}/{path.name}"]
    text = path.read_text()
    assert str(USER) not in text.replace(KEPT, "")  # only the other player's lines name ids
    masked = [json.loads(line) for line in text.splitlines() if '"erased"' in line]
    assert {m["a"] for m in masked} == {erased_key(DIGEST, ERASED)}
    assert all("preimage" not in m and "value" not in m and not m.get("message") for m in masked)
    assert KEPT in text and '"value_digest":"sha256:00"' not in text.split(KEPT)[0]
    with Journal(path, DIGEST) as journal:
        state = journal.state
        assert ERASED in state.done and state.done[ERASED]["outcome"] == "written"
        assert state.done.get(ERASED) is not None and KEPT in state.done
        assert not state.pending
    assert redact_journals(tmp_path, addresses={ERASED}).lines == 0  # once is enough


def test_an_unfinished_journal_keeps_what_resuming_needs_under_the_masked_address(
    tmp_path: Path,
) -> None:
    path = _journal(tmp_path, [_begin(), _intent(ERASED, rev="r-1", value=7)])
    assert redact_journals(tmp_path, addresses={ERASED}).lines == 1
    assert str(USER) not in path.read_text()
    with Journal(path, DIGEST) as journal:
        intent = journal.state.pending.get(ERASED)
        assert intent is not None and intent["value"] == 7 and "preimage" not in intent
        assert ERASED not in journal.state.done


def test_an_erasure_masks_every_journal_and_no_rerun_brings_the_user_back(
    world: World,
) -> None:
    first, deps, _ = world.apply_coins()
    erasure = world.plan()
    world.apply(erasure)
    journals = sorted((world.root / JOURNAL_DIR).glob("*.jsonl"))
    assert len(journals) == 2
    for path in journals:
        assert str(USER) not in path.read_text(), path.name
    assert str(OTHER) in journals[0].read_text() + journals[1].read_text()
    before = world.revisions(std("PlayerStore", str(USER)))
    # The older plan's rerun finds its completions (masked) and writes nothing: the erased
    # profile is not created again from the plan it once applied.
    again = apply_plan(first, deps, ApplyOptions(workers=2))
    assert str(again.status) == "complete"
    assert read_live(world.client, std("PlayerStore", str(USER))) is None
    assert world.revisions(std("PlayerStore", str(USER))) == before
    # The erasure's own rerun finishes as done, also without a write.
    world.apply(erasure)
    assert read_live(world.client, std("PlayerStore", str(OTHER))) is not None
    for path in sorted((world.root / JOURNAL_DIR).glob("*.jsonl")):
        assert str(USER) not in path.read_text(), path.name


@pytest.mark.parametrize("killed_in", ["journals", "unlink"])
def test_an_erasure_killed_during_its_local_purge_still_leaves_nothing_to_write_back(
    world: World, monkeypatch: pytest.MonkeyPatch, killed_in: str
) -> None:
    """The user's profile was deleted by Roblox's own template run, so the erasure plan only
    lists its pre-image (not a change). Killed while masking the journals, or after that while
    removing the files, the rerun must still mask every journal copy: else a rerun of the
    older plan writes the purged pre-image back (and a revert can restore it)."""
    import dsgit.erasure.local_purge as local_purge
    import dsgit.erasure.preimage_scan as preimage_scan

    older, deps, _ = world.apply_coins()
    assert _preimages_of_user(world.root)
    world.client.delete_entry("PlayerStore", str(USER))
    erasure = world.plan()
    assert ERASED not in [str(c.address) for c in erasure.changes]

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    if killed_in == "journals":
        monkeypatch.setattr(local_purge, "redact_journals", killed)
    else:  # one file gone, then killed
        real_unlink = Path.unlink

        def unlink_once(path: Path, missing_ok: bool = False) -> None:
            real_unlink(path, missing_ok=missing_ok)
            if preimage_scan.PREIMAGE_DIR in path.as_posix():
                raise KeyboardInterrupt

        monkeypatch.setattr(Path, "unlink", unlink_once)
    with pytest.raises(KeyboardInterrupt):
        world.apply(erasure)
    monkeypatch.undo()
    world.apply(erasure)  # the rerun finishes the purge
    assert not _preimages_of_user(world.root)
    apply_plan(older, deps, ApplyOptions(workers=2))  # a rerun of the older plan
    assert not _preimages_of_user(world.root)


def _preimages_of_user(root: Path) -> list[Path]:
    return [p for p in (root / "audit" / "preimages").rglob("*.json") if str(USER) in p.name]
