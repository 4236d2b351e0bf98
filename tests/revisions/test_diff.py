"""The pure revision differ on a ProfileStore profile's saves and a shop catalog's edits."""

from __future__ import annotations

import json

import pytest

from dsgit.model.entry import EntryData
from dsgit.plan.masking import PointerPatterns
from dsgit.revisions.diff import Revision, diff_revisions, field_history, parse_field
from revisions.fixtures import CANARY_CODE, CANARY_EMAIL, catalog, profile_revisions

MASKS = PointerPatterns(["/Data/Email", "/Data/RedeemCode"])


def _revisions(datas: list[EntryData | None]) -> list[Revision]:
    return [
        Revision(f"r{i}", f"2026-12-0{i + 1}T10:00:00Z", "ACTIVE" if d else "DELETED", d)
        for i, d in enumerate(datas)
    ]


def test_profile_saves_diff_by_pointer_and_mask_sensitive_fields() -> None:
    rows = diff_revisions(_revisions(list(profile_revisions())), MASKS)
    assert [row.previous_id for row in rows] == [None, "r0", "r1", "r2"]
    assert rows[0].lines == ()
    second = {
        (line.pointer, line.op, json.dumps(line.old), json.dumps(line.new))
        for line in rows[1].lines
    }
    assert second == {
        ("/Data/Coins", "replace", "0", "250"),
        ("/Data/Inventory/0", "add", "null", '"Sword"'),
    }
    third = [(line.pointer, line.op) for line in rows[2].lines]
    assert third == [("/MetaData/ActiveSession", "remove")]  # the session was released
    fourth = [(line.pointer, line.op, line.old, line.new) for line in rows[3].lines]
    assert fourth == [("/Data/Email", "replace", "(sensitive)", "(sensitive)")]
    assert CANARY_EMAIL not in repr(rows) and CANARY_CODE not in repr(rows)
    assert "canary-player-new" not in repr(rows)


def test_metadata_changes_are_diffed_too() -> None:
    revisions = _revisions(
        [EntryData({"a": 1}, {"Tag": "x"}, (1,)), EntryData({"a": 1}, {"Tag": "y"}, (1, 2))]
    )
    lines = diff_revisions(revisions, PointerPatterns(()))[1].lines
    assert [(line.pointer, line.old, line.new) for line in lines] == [
        ("@attributes/Tag", "x", "y"),
        ("@users", [1], [1, 2]),
    ]


def test_a_deletion_and_a_recreation() -> None:
    rows = diff_revisions(
        _revisions([EntryData(catalog(100)), None, EntryData(catalog(120))]), MASKS
    )
    assert [(line.pointer, line.op) for line in rows[1].lines] == [("", "remove")]
    assert rows[1].state == "DELETED"
    assert [(line.pointer, line.op) for line in rows[2].lines] == [("", "add")]


def test_baseline_revision_has_no_row_but_feeds_the_first_diff() -> None:
    revisions = _revisions([EntryData(catalog(100)), EntryData(catalog(120))])
    rows = diff_revisions(revisions, MASKS, first_is_baseline=True)
    assert [row.revision_id for row in rows] == ["r1"]
    assert [(x.pointer, x.old, x.new) for x in rows[0].lines] == [("/items/sword/price", 100, 120)]


def test_field_history_of_a_catalog_price() -> None:
    datas = [
        catalog(100),
        catalog(100, {"axe": {"name": "Axe", "price": 1}}),
        catalog(150),
        catalog(150),
    ]
    revisions = _revisions([EntryData(d) for d in datas] + [None, EntryData(catalog(90))])
    changes = field_history(revisions, parse_field("/items/sword/price"), MASKS)
    assert [(c.revision_id, c.op, c.old, c.new) for c in changes] == [
        ("r0", "initial", None, 100),
        ("r2", "replace", 100, 150),
        ("r4", "remove", 150, None),
        ("r5", "add", None, 90),
    ]
    axe = field_history(revisions, parse_field("/items/axe"), MASKS)
    assert [(c.revision_id, c.op) for c in axe] == [("r1", "add"), ("r2", "remove")]


def test_field_history_masks_a_sensitive_field_and_its_parents() -> None:
    revisions = _revisions(list(profile_revisions()))
    email = field_history(revisions, parse_field("/Data/Email"), MASKS)
    assert [(c.revision_id, c.op, c.old, c.new) for c in email] == [
        ("r0", "initial", None, "(sensitive)"),
        ("r3", "replace", "(sensitive)", "(sensitive)"),  # it changed; what to is not shown
    ]
    data = field_history(revisions, parse_field("/Data"), MASKS)
    assert data[0].new["Email"] == "(sensitive)" and data[0].new["Coins"] == 0  # type: ignore[index]
    assert CANARY_EMAIL not in repr(data) and CANARY_CODE not in repr(data)
    coins = field_history(revisions, parse_field("/Data/Coins"), MASKS, first_is_baseline=True)
    assert [(c.revision_id, c.old, c.new) for c in coins] == [("r1", 0, 250)]


def test_field_pointers_into_metadata_and_array_items() -> None:
    revisions = _revisions(
        [EntryData([1, 2], {"Tag": "a"}, (1,)), EntryData([1, 3], {"Tag": "a"}, (1, 2))]
    )
    users = field_history(revisions, parse_field("@users"), PointerPatterns(()))
    assert [(c.op, c.old, c.new) for c in users] == [
        ("initial", None, [1]),
        ("replace", [1], [1, 2]),
    ]
    item = field_history(revisions, parse_field("/1"), PointerPatterns(()))
    assert [(c.op, c.new) for c in item] == [("initial", 2), ("replace", 3)]
    assert field_history(revisions, parse_field("/01"), PointerPatterns(())) == []
    tag = field_history(revisions, parse_field("@attributes/Tag"), PointerPatterns(()))
    assert [(c.op, c.new) for c in tag] == [("initial", "a")]


@pytest.mark.parametrize("pointer", ["Data", "@metadata", "@attributesTag"])
def test_bad_field_pointers_are_refused(pointer: str) -> None:
    with pytest.raises(ValueError):
        parse_field(pointer)
