from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dsgit.errors import ConfigError
from dsgit.model.entry import Address, LiveEntry, LiveOrderedEntry
from dsgit.model.sessions import session_lock
from dsgit.repo.yamlload import parse_yaml
from dsgit.retention import load_retention, retention_problems
from dsgit.retention.evaluate import evaluate, same_json
from dsgit.retention.rules import Action, Predicate, RetentionRule
from dsgit.retention.timestamps import read_timestamp
from dsgit.scan import ScanEntry
from live_fixtures import DAY, NOW, profile_service, profile_store

MOMENT = datetime.fromtimestamp(NOW, UTC)


def _entry(value: object, *, revised: datetime | None = None, ordered: bool = False) -> ScanEntry:
    if ordered:
        assert isinstance(value, int)
        return ScanEntry.from_live(LiveOrderedEntry("DATA/1", "global", "3", value), (0,))
    when = (revised or MOMENT).isoformat().replace("+00:00", "Z")
    live = LiveEntry("S", "global", "k", value, {}, (), "e1", "r1", when, when)  # type: ignore[arg-type]
    return ScanEntry.from_live(live, (0,))


def test_session_locks_of_each_library() -> None:
    held = session_lock(profile_store(7, last_update=NOW, locked=True))
    assert held is not None and held.library == "ProfileStore" and held.place_id == 1818
    assert held.job_id == "job-0007-a1b2"
    assert "last saved 1 days ago" not in held.describe(NOW + DAY)
    assert "last saved 24 h ago" in held.describe(NOW + DAY)
    service = session_lock(profile_service(7, last_update=NOW, locked=True))
    assert service is not None and service.library == "ProfileService"
    assert session_lock(profile_store(7, last_update=NOW, locked=False)) is None
    assert session_lock(profile_service(7, last_update=NOW, locked=False)) is None
    # DataStore2 blobs and other values never hold one
    assert session_lock({"coins": 10, "inventory": []}) is None
    assert session_lock([1, 2]) is None
    assert session_lock({"MetaData": {"ActiveSession": None}}) is None
    assert session_lock({"MetaData": {"ActiveSession": {"PlaceId": 1, "JobId": "j"}}}) is not None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1_700_000_000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        (1_700_000_000_000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("1700000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("2024-07-22T19:40:35.001520100Z", datetime(2024, 7, 22, 19, 40, 35, 1520, tzinfo=UTC)),
        ("2024-07-22T21:40:35+02:00", datetime(2024, 7, 22, 19, 40, 35, tzinfo=UTC)),
        ("yesterday", None),
        (True, None),
        (None, None),
        ({"t": 1}, None),
    ],
)
def test_timestamps_in_three_forms(raw: object, expected: datetime | None) -> None:
    assert read_timestamp(raw) == expected  # type: ignore[arg-type]


def _rule(**fields: object) -> RetentionRule:
    return RetentionRule(name="r", store="S", **fields)  # type: ignore[arg-type]


def test_age_by_timestamp_in_the_value() -> None:
    rule = _rule(
        older_than=timedelta(days=730), older_than_text="730d", timestamp="/MetaData/LastUpdate"
    )
    old = _entry(profile_store(1, last_update=NOW - 800 * DAY, locked=False))
    young = _entry(profile_store(1, last_update=NOW - 10 * DAY, locked=False))
    verdict = evaluate(rule, old, MOMENT)
    assert verdict.chosen and "800 days old (older than 730d)" in verdict.reason
    assert "retention rule r" in verdict.reason
    assert not evaluate(rule, young, MOMENT).chosen
    missing = evaluate(rule, _entry({"Data": {}}), MOMENT)
    assert not missing.chosen and missing.no_time


def test_age_of_the_last_revision() -> None:
    rule = _rule(older_than=timedelta(days=30), older_than_text="30d")
    assert evaluate(rule, _entry(1, revised=MOMENT - timedelta(days=31)), MOMENT).chosen
    assert not evaluate(rule, _entry(1, revised=MOMENT - timedelta(days=29)), MOMENT).chosen


def test_value_predicates() -> None:
    value = {"Data": {"Level": 3, "Banned": False, "Tag": "alt"}, "n": 1}
    cases = [
        (Predicate("/Data/Level", "less_than", 5), True),
        (Predicate("/Data/Level", "greater_or_equal", 3.0), True),
        (Predicate("/Data/Level", "greater_than", 3), False),
        (Predicate("/Data/Level", "less_than", "5"), False),  # types differ: false
        (Predicate("/Data/Banned", "equals", False), True),
        (Predicate("/Data/Banned", "equals", 0), False),  # false is not 0
        (Predicate("/n", "equals", 1.0), True),
        (Predicate("/Data/Tag", "in", ["alt", "bot"]), True),
        (Predicate("/Data/Gone", "exists", False), True),
        (Predicate("/Data/Tag", "exists", True), True),
        (Predicate("/Data/Gone", "not_equals", 1), True),
        (Predicate("/Data/Gone", "equals", None), False),
    ]
    for predicate, expected in cases:
        assert evaluate(_rule(where=(predicate,)), _entry(value), MOMENT).chosen is expected, (
            predicate
        )
    both = (Predicate("/Data/Level", "less_than", 5), Predicate("/Data/Tag", "equals", "main"))
    assert not evaluate(_rule(where=both), _entry(value), MOMENT).chosen
    assert same_json({"a": [1, 2.0]}, {"a": [1.0, 2]}) and not same_json(True, 1)


def test_delete_below_for_ordered_stores() -> None:
    rule = RetentionRule(
        name="old-backups", store="DATA/*", kind="ordered", action=Action.DELETE_BELOW, below=3
    )  # type: ignore[arg-type]
    assert evaluate(rule, _entry(2, ordered=True), MOMENT).chosen
    assert "value 2 below 3" in evaluate(rule, _entry(2, ordered=True), MOMENT).reason
    assert not evaluate(rule, _entry(3, ordered=True), MOMENT).chosen
    assert rule.selection().max_value == 2  # the listing asks only for values <= 2


def _problems(text: str) -> list[tuple[str, int | None, str]]:
    document, found = parse_yaml(text, "policies/retention.yaml")
    assert document is not None and not found
    return [(p.code, p.line, p.message) for p in retention_problems(document.value, document.node)]


def test_policy_problems_name_line_and_field() -> None:
    text = """version: 1
rules:
  - name: a
    store: S
    older_than: 30 days
    action: delete
  - name: a
    store: S
    action: delete
  - name: b
    store: DATA/*
    action: delete_below
    below: 3
  - name: c
    store: O
    kind: ordered
    older_than: 7d
    action: delete
    colour: red
"""
    found = _problems(text)
    assert ("DS801", 5, "`rules.0.older_than`: a duration such as 12h, 30d or 104w") in found
    assert ("DS802", 19, "unknown field `colour` in `rules.3`") in found
    fixed = text.replace("30 days", "30d").replace("    colour: red\n", "")
    again = _problems(fixed)
    assert [(code, line) for code, line, _ in again] == [
        ("DS803", 7),
        ("DS804", 9),
        ("DS805", 12),
        ("DS805", 17),
    ]
    assert any("needs a condition" in message for _, _, message in again)
    assert any(
        "`rules.3.older_than`" in message and "timestamp" in message for _, _, message in again
    )


def test_load_retention(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies/retention.yaml").write_text(
        "version: 1\nrules:\n  - name: inactive\n    store: PlayerStore\n    keys: '*'\n"
        "    older_than: 730d\n    timestamp: /MetaData/LastUpdate\n    action: delete\n"
        "    max_deletes: 100000\n"
    )
    policy = load_retention(tmp_path)
    (rule,) = policy.rules
    assert rule.older_than == timedelta(days=730) and rule.max_deletes == 100000 and rule.line == 3
    assert policy.digest.startswith("sha256:")
    (tmp_path / "policies/retention.yaml").write_text(
        "version: 1\nrules:\n  - name: x\n    store: S\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_retention(tmp_path)
    assert caught.value.location is not None and caught.value.location.line == 3
    assert "DS801" in str(caught.value) and "action" in str(caught.value)
    assert load_retention(tmp_path / "none").rules == ()


def test_address_of_scan_entries() -> None:
    assert _entry(1).address == Address.standard("S", "k")


def test_a_zero_negative_or_offsetless_timestamp_is_no_usable_time() -> None:
    from dsgit.retention.timestamps import read_timestamp

    for unusable in (0, 0.0, "0", -1, -1_700_000_000, "2024-01-01T00:00:00"):
        assert read_timestamp(unusable) is None, unusable
    assert read_timestamp("2024-01-01T00:00:00Z") is not None
    assert read_timestamp("2024-01-01T00:00:00+02:00") is not None
    assert read_timestamp(1_700_000_000) is not None
