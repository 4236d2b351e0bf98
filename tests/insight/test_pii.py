from __future__ import annotations

from dsgit.insight.pii import PiiKind, find_pii

from .fixtures import profile


def kinds(value: object, has_users: bool = False) -> set[tuple[str, str]]:
    return {(str(f.kind), f.pointer) for f in find_pii(value, has_users=has_users)}  # type: ignore[arg-type]


def test_emails_and_phones_in_strings() -> None:
    value = {
        "contact": "write to Ana.Silva+rbx@example.co.uk please",
        "support": {"phone": "+44 20 7946 0958"},
        "us": "(555) 123-4567",
        "notes": ["call 555.123.4567"],
    }
    assert kinds(value) == {
        ("email", "/contact"),
        ("phone", "/support/phone"),
        ("phone", "/us"),
        ("phone", "/notes/*"),
    }


def test_no_false_positives_on_game_data() -> None:
    value = {
        "JobId": "6f1c2d7e-5a4b-4c3d-9e8f-0a1b2c3d4e5f",
        "created": "2024-07-22T19:40:35.001520100Z",
        "PlaceId": 17384920011,
        "code": "12345678901",  # bare digits: an id, not a phone
        "handle": "@builderman",
        "version": "1.2.3.4",
    }
    assert kinds(value) == set()


def test_user_ids_count_only_without_users_metadata() -> None:
    value = profile(45348281, 100)
    assert kinds(value, has_users=False) == {("user-id", "/UserIds")}
    assert kinds(value, has_users=True) == set()


def test_user_ids_in_rosters_and_owner_fields() -> None:
    guild = {"name": "Knights", "owner_id": 1, "members": {"45348281": "officer", "2": "member"}}
    assert kinds(guild) == {("user-id", "/owner_id"), ("user-id", "/members")}
    ban = {"reason": "exploiting", "bannedBy": "156", "playerIds": ["1", "2"]}
    assert kinds(ban) == {("user-id", "/bannedBy"), ("user-id", "/playerIds")}
    # a field named like ids but holding no ids is not a finding
    assert kinds({"members": ["alice", "bob"], "UserIds": []}) == set()
    assert PiiKind.USER_ID.value == "user-id"
