from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsgit.crypto import (
    DecryptionFailed,
    EncryptionError,
    Key,
    KeyNotAvailable,
    Keyring,
    MalformedToken,
    decrypt_value,
    encrypt_value,
    generate_key,
    is_encrypted,
    key_id,
)
from dsgit.model.entry import Address
from dsgit.yamlio.equality import json_equal

ADDRESS = Address.standard("PlayerData", "Player_1")
OTHER = Address.standard("PlayerData", "Player_2")
KEY = generate_key()
CANARY = "canary-4f1d-plaintext"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(json_values, st.text(max_size=10))
def test_round_trip(value: object, member: str) -> None:
    pointer = "/" + member.replace("~", "~0").replace("/", "~1")
    token = encrypt_value(value, KEY, ADDRESS, pointer)  # type: ignore[arg-type]
    assert is_encrypted(token)
    assert json_equal(decrypt_value(token, Keyring((Key(KEY),)), ADDRESS, pointer), value)


@pytest.mark.parametrize(
    ("value", "kind"),
    [("s", "str"), (1, "int"), (1.0, "float"), (True, "bool"), (None, "json"), ([], "json")],
)
def test_type_is_recorded(value: object, kind: str) -> None:
    token = encrypt_value(value, KEY, ADDRESS, "/a")  # type: ignore[arg-type]
    assert f",type:{kind}," in token
    assert f",kid:{key_id(KEY)}]" in token
    back = decrypt_value(token, KEY, ADDRESS, "/a")
    assert json_equal(back, value)


def test_same_value_encrypts_differently_each_time() -> None:
    assert encrypt_value(CANARY, KEY, ADDRESS, "/a") != encrypt_value(CANARY, KEY, ADDRESS, "/a")


def _field(token: str, name: str) -> str:
    match = re.search(rf"{name}:([^,\]]*)", token)
    assert match is not None
    return match.group(1)


def _flip(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("part", ["data", "iv", "tag"])
def test_tampering_fails(part: str) -> None:
    token = encrypt_value(CANARY, KEY, ADDRESS, "/secret")
    old = _field(token, part)
    tampered = token.replace(f"{part}:{old}", f"{part}:{_flip(old)}")
    assert tampered != token
    with pytest.raises(DecryptionFailed) as info:
        decrypt_value(tampered, KEY, ADDRESS, "/secret")
    assert CANARY not in str(info.value)
    assert str(ADDRESS) in str(info.value) and "/secret" in str(info.value)


@pytest.mark.parametrize("new_type", ["int", "float", "bool", "json"])
def test_type_tampering_fails(new_type: str) -> None:
    token = encrypt_value("12", KEY, ADDRESS, "/n")
    with pytest.raises(DecryptionFailed):
        decrypt_value(token.replace("type:str", f"type:{new_type}"), KEY, ADDRESS, "/n")


def test_int_relabelled_as_float_fails() -> None:
    token = encrypt_value(12, KEY, ADDRESS, "/n")
    with pytest.raises(DecryptionFailed):
        decrypt_value(token.replace("type:int", "type:float"), KEY, ADDRESS, "/n")


def test_wrong_key_fails() -> None:
    token = encrypt_value(CANARY, KEY, ADDRESS, "/a")
    other = generate_key()
    with pytest.raises(KeyNotAvailable) as info:
        decrypt_value(token, other, ADDRESS, "/a")
    assert CANARY not in str(info.value)
    assert key_id(KEY) in str(info.value)


def test_wrong_key_with_forged_kid_fails() -> None:
    other = generate_key()
    token = encrypt_value(CANARY, KEY, ADDRESS, "/a").replace(key_id(KEY), key_id(other))
    with pytest.raises(DecryptionFailed):
        decrypt_value(token, other, ADDRESS, "/a")


def test_moved_to_another_entry_fails() -> None:
    token = encrypt_value(CANARY, KEY, ADDRESS, "/a")
    with pytest.raises(DecryptionFailed):
        decrypt_value(token, KEY, OTHER, "/a")
    with pytest.raises(DecryptionFailed):
        decrypt_value(token, KEY, Address.ordered("PlayerData", "Player_1"), "/a")
    with pytest.raises(DecryptionFailed):
        decrypt_value(token, KEY, Address.standard("PlayerData", "Player_1", "other"), "/a")


def test_moved_to_another_pointer_fails() -> None:
    token = encrypt_value(CANARY, KEY, ADDRESS, "/a")
    for pointer in ("/b", "", "/a/0", "/A"):
        with pytest.raises(DecryptionFailed):
            decrypt_value(token, KEY, ADDRESS, pointer)


@pytest.mark.parametrize(
    "token",
    [
        "ENC[]",
        "ENC[AES256_GCM,data:abc,iv:,tag:,type:str,kid:00000000]",
        "ENC[AES256_GCM,data:!!,iv:AAAAAAAAAAAAAAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str,kid:00000000]",
        "ENC[AES256_GCM,data:,iv:AAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:str,kid:00000000]",
        "ENC[AES256_GCM,data:,iv:AAAAAAAAAAAAAAAA,tag:AAAAAAAAAAAAAAAAAAAAAA==,type:set,kid:00000000]",
    ],
)
def test_malformed_tokens(token: str) -> None:
    assert is_encrypted(token)
    with pytest.raises(MalformedToken) as info:
        decrypt_value(token, KEY, ADDRESS, "/x")
    assert "/x" in str(info.value)


def test_is_encrypted() -> None:
    assert not is_encrypted("ENC[")
    assert not is_encrypted("plain")
    assert not is_encrypted(1)
    assert not is_encrypted(None)
    assert is_encrypted(encrypt_value(1, KEY, ADDRESS, ""))


def test_non_finite_float_refused() -> None:
    with pytest.raises(EncryptionError):
        encrypt_value(float("nan"), KEY, ADDRESS, "/a")


def test_key_repr_hides_material() -> None:
    key = Key(KEY, "test")
    assert base64.b64encode(KEY).decode() not in repr(key)
    assert KEY.hex() not in repr(key)
    assert repr(KEY) not in repr(Keyring((key,)))


def test_rotation_keyring_decrypts_old_and_new() -> None:
    old, new = generate_key(), generate_key()
    token_old = encrypt_value(CANARY, old, ADDRESS, "/a")
    token_new = encrypt_value(CANARY, new, ADDRESS, "/a")
    ring = Keyring.of([Key(new), Key(old), Key(new)])
    assert ring.kids == (key_id(new), key_id(old))
    assert decrypt_value(token_old, ring, ADDRESS, "/a") == CANARY
    assert decrypt_value(token_new, ring, ADDRESS, "/a") == CANARY
