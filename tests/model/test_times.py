from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dsgit.errors import ConfigError
from dsgit.model.times import parse_user_time

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-31T12:00:00Z", datetime(2026, 1, 31, 12, tzinfo=UTC)),
        ("2026-01-31T13:00:00+01:00", datetime(2026, 1, 31, 12, tzinfo=UTC)),
        ("2026-01-31", datetime(2026, 1, 31, tzinfo=UTC)),
        ("2026-01-31T12:00:00", datetime(2026, 1, 31, 12, tzinfo=UTC)),
        ("30m", NOW - timedelta(minutes=30)),
        ("12h", NOW - timedelta(hours=12)),
        ("7d", NOW - timedelta(days=7)),
        ("2w", NOW - timedelta(weeks=2)),
    ],
)
def test_accepted_spellings(text: str, expected: datetime) -> None:
    assert parse_user_time(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "7 days", "-3d", ""])
def test_bad_times_are_one_clear_error(text: str) -> None:
    with pytest.raises(ConfigError, match="bad time"):
        parse_user_time(text, now=NOW)
