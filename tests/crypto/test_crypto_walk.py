from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsgit.crypto import (
    DecryptionFailed,
    Key,
    Keyring,
    decrypt_all,
    decrypt_paths,
    encrypt_paths,
    expand,
    find_encrypted,
    generate_key,
    is_encrypted,
    key_id,
    parse_pointer,
    plaintext_paths,
    reencrypt_all,
)
from dsgit.model.entry import Address
from dsgit.model.pointers import format_pointer

ADDRESS = Address.standard("Config", "secrets")
KEY = Key(generate_key())
RING = Keyring((KEY,))
CANARY = "canary-9ad2-hunter2"

VALUE = {
    "name": "shop",
    "webhook": {"url": CANARY, "token": CANARY + "-2"},
    "players": [{"id": 1, "email": CANARY + "@x"}, {"id": 2, "email": "b@x"}, {"id": 3}],
    "a/b": {"~c": 5},
}


def test_pointer_parsing_and_escapes() -> None:
    assert parse_pointer("") == ()
    assert parse_pointer("/a~1b/~0c") == ("a/b", "~c")
    assert format_pointer(["a/b", "~c"]) == "/a~1b/~0c"
    with pytest.raises(ValueError):
        parse_pointer("a")


def test_expand_wildcards_and_missing_paths() -> None:
    assert expand(VALUE, "/players/*/email") == ["/players/0/email", "/players/1/email"]
    assert expand(VALUE, "/webhook/*") == ["/webhook/url", "/webhook/token"]
    assert expand(VALUE, "/missing/x") == []
    assert expand(VALUE, "/players/01") == []
    assert expand(VALUE, "/players/3") == []
    assert expand(VALUE, "/a~1b/~0c") == ["/a~1b/~0c"]
    assert expand(VALUE, "") == [""]


def test_encrypt_then_decrypt_paths() -> None:
    patterns = ["/webhook/token", "/players/*/email", "/a~1b/~0c", "/nope"]
    sealed = encrypt_paths(VALUE, patterns, KEY, ADDRESS)
    assert CANARY + "-2" not in repr(sealed)
    assert CANARY + "@x" not in repr(sealed)
    assert sealed["name"] == "shop"  # type: ignore[index,call-overload]
    assert sealed["webhook"]["url"] == CANARY  # type: ignore[index,call-overload]
    assert find_encrypted(sealed) == [
        "/webhook/token",
        "/players/0/email",
        "/players/1/email",
        "/a~1b/~0c",
    ]
    assert plaintext_paths(sealed, patterns) == []
    assert plaintext_paths(VALUE, patterns) == [
        "/webhook/token",
        "/a~1b/~0c",
        "/players/0/email",
        "/players/1/email",
    ]
    assert decrypt_paths(sealed, patterns, RING, ADDRESS) == VALUE
    assert decrypt_all(sealed, RING, ADDRESS) == VALUE
    # the input is never modified
    assert VALUE["webhook"]["token"] == CANARY + "-2"  # type: ignore[index]


def test_encrypting_twice_keeps_tokens() -> None:
    once = encrypt_paths(VALUE, ["/webhook"], KEY, ADDRESS)
    assert encrypt_paths(once, ["/webhook", "/webhook/url"], KEY, ADDRESS) == once


def test_shallow_pattern_wins() -> None:
    sealed = encrypt_paths(VALUE, ["/webhook/url", "/webhook"], KEY, ADDRESS)
    assert is_encrypted(sealed["webhook"])  # type: ignore[index,call-overload]
    assert decrypt_paths(sealed, ["/webhook/url", "/webhook"], RING, ADDRESS) == VALUE


def test_whole_value_pointer() -> None:
    sealed = encrypt_paths(VALUE, [""], KEY, ADDRESS)
    assert is_encrypted(sealed)
    assert decrypt_all(sealed, RING, ADDRESS) == VALUE


def test_previous_tokens_are_reused_only_when_equal() -> None:
    sealed = encrypt_paths(VALUE, ["/webhook/*"], KEY, ADDRESS)
    again = encrypt_paths(VALUE, ["/webhook/*"], KEY, ADDRESS, previous=sealed, keyring=RING)
    assert again == sealed
    changed = {**VALUE, "webhook": {"url": "new", "token": CANARY + "-2"}}
    third = encrypt_paths(changed, ["/webhook/*"], KEY, ADDRESS, previous=sealed, keyring=RING)
    assert third["webhook"]["token"] == sealed["webhook"]["token"]  # type: ignore[index,call-overload]
    assert third["webhook"]["url"] != sealed["webhook"]["url"]  # type: ignore[index,call-overload]
    assert decrypt_all(third, RING, ADDRESS) == changed


def test_token_swapped_between_pointers_fails() -> None:
    sealed = encrypt_paths(VALUE, ["/webhook/*"], KEY, ADDRESS)
    webhook = sealed["webhook"]  # type: ignore[index,call-overload]
    swapped = {**sealed, "webhook": {"url": webhook["token"], "token": webhook["url"]}}  # type: ignore[dict-item]
    with pytest.raises(DecryptionFailed) as info:
        decrypt_all(swapped, RING, ADDRESS)
    assert CANARY not in str(info.value)


def test_reencrypt_all_rotates() -> None:
    new = Key(generate_key())
    sealed = encrypt_paths(VALUE, ["/webhook/*", "/players/*/email"], KEY, ADDRESS)
    both = Keyring((new, KEY))
    rotated, count = reencrypt_all(sealed, both, new, ADDRESS)
    assert count == 4
    assert key_id(KEY.material) not in repr(rotated)
    assert decrypt_all(rotated, Keyring((new,)), ADDRESS) == VALUE
    again, count_again = reencrypt_all(rotated, both, new, ADDRESS)
    assert (again, count_again) == (rotated, 0)


json_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
json_values = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=100, deadline=None)
@given(json_values, st.lists(st.sampled_from(["", "/*", "/*/*", "/a", "/0/a", "/*/0"]), max_size=3))
def test_encrypt_paths_round_trip(value: object, patterns: list[str]) -> None:
    sealed = encrypt_paths(value, patterns, KEY, ADDRESS)  # type: ignore[arg-type]
    assert plaintext_paths(sealed, patterns) == []
    assert decrypt_paths(sealed, patterns, RING, ADDRESS) == value
    assert decrypt_all(sealed, RING, ADDRESS) == value
