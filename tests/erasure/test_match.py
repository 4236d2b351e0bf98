"""Removing a user from a value at pointers, and a rule's decision (pure)."""

from __future__ import annotations

from dsgit.erasure.match import decide, remove_user
from dsgit.erasure.policy import ErasureAction, ErasureRule
from dsgit.model.entry import EntryData

U = 261


def test_an_array_of_ids_loses_the_user_as_number_or_string() -> None:
    value = {"members": [U, 262, str(U), 263], "name": "Knights"}
    assert remove_user(value, ["/members"], U) == ({"members": [262, 263], "name": "Knights"}, 2)
    assert value["members"] == [U, 262, str(U), 263]  # the input is not modified


def test_an_object_keyed_by_id_loses_the_member() -> None:
    value = {"members": {str(U): {"rank": 3}, "262": {"rank": 1}}}
    assert remove_user(value, ["/members"], U) == ({"members": {"262": {"rank": 1}}}, 1)


def test_a_record_holding_the_id_through_a_wildcard_goes_whole() -> None:
    value = {"log": [{"UserId": 262, "x": 1}, {"UserId": U, "x": 2}, {"UserId": U, "x": 3}]}
    assert remove_user(value, ["/log/*/UserId"], U) == ({"log": [{"UserId": 262, "x": 1}]}, 2)


def test_a_field_holding_the_id_goes_and_a_token_pointer_names_the_user() -> None:
    assert remove_user({"owner": U, "n": 1}, ["/owner"], U) == ({"n": 1}, 1)
    assert remove_user({"owner": 262}, ["/owner"], U) == ({"owner": 262}, 0)
    value = {"officers": {str(U): True, "9": True}}
    assert remove_user(value, ["/officers/{UserId}"], U) == ({"officers": {"9": True}}, 1)


def test_true_is_not_user_1() -> None:
    assert remove_user({"m": [True, 1]}, ["/m"], 1) == ({"m": [True]}, 1)


def test_decisions() -> None:
    roster = ErasureRule("r", "Guilds", ErasureAction.REMOVE, pointers=("/members",))
    tagged = ErasureRule("t", "*", ErasureAction.DELETE, users_metadata=True)
    untag = ErasureRule("u", "*", ErasureAction.REMOVE, users_metadata=True)
    named = ErasureRule("n", "DATA/{UserId}", ErasureAction.DELETE)
    data = EntryData({"members": [U, 5]}, {}, (U, 5))
    removed = decide(roster, data, U)
    assert removed is not None and removed.after == EntryData({"members": [5]}, {}, (U, 5))
    assert decide(roster, EntryData({"members": [5]}), U) is None
    deleted = decide(tagged, data, U)
    assert deleted is not None and deleted.after is None
    assert decide(tagged, EntryData(1, {}, (5,)), U) is None
    untagged = decide(untag, data, U)
    assert untagged is not None and untagged.after == EntryData({"members": [U, 5]}, {}, (5,))
    by_name = decide(named, EntryData(1), U)
    assert by_name is not None and by_name.after is None


def test_a_record_holding_other_data_loses_only_the_field() -> None:
    """A team whose captain is the user keeps its members (other users' data)."""
    value = {"teams": [{"captain": 12, "members": [7, 8, 9]}, {"captain": 5, "members": [12]}]}
    after, removed = remove_user(value, ["/teams/*/captain"], 12)
    assert after == {"teams": [{"members": [7, 8, 9]}, {"captain": 5, "members": [12]}]}
    assert removed == 1
