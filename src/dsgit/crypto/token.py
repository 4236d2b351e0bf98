"""The text form of one encrypted value (sops-like):

``ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:<str|int|float|bool|json>,kid:<8 hex>]``

``data`` is the AES-256-GCM ciphertext, ``iv`` the 12-byte nonce, ``tag`` the 16-byte GCM tag,
``type`` the JSON type of the plaintext and ``kid`` the id of the key (see ``keys.key_id``).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Literal, cast

from dsgit.crypto.errors import MalformedToken
from dsgit.model.sealed import is_encrypted

__all__ = ["TYPES", "Token", "ValueType", "format_token", "is_encrypted", "parse_token"]

ValueType = Literal["str", "int", "float", "bool", "json"]
TYPES: tuple[ValueType, ...] = ("str", "int", "float", "bool", "json")

_B64 = r"[A-Za-z0-9+/]*={0,2}"
_TOKEN = re.compile(
    rf"ENC\[AES256_GCM,data:(?P<data>{_B64}),iv:(?P<iv>{_B64}),tag:(?P<tag>{_B64}),"
    rf"type:(?P<type>{'|'.join(TYPES)}),kid:(?P<kid>[0-9a-f]{{8}})\]"
)
IV_SIZE = 12
TAG_SIZE = 16


@dataclass(frozen=True)
class Token:
    """A parsed ``ENC[...]`` value."""

    data: bytes
    iv: bytes
    tag: bytes
    type: ValueType
    kid: str


def format_token(token: Token) -> str:
    def enc(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return (
        f"ENC[AES256_GCM,data:{enc(token.data)},iv:{enc(token.iv)},tag:{enc(token.tag)},"
        f"type:{token.type},kid:{token.kid}]"
    )


def parse_token(text: str, *, address: str | None = None, pointer: str | None = None) -> Token:
    """Parse a token; a malformed one raises :class:`MalformedToken` naming where it sits."""
    match = _TOKEN.fullmatch(text)
    if match is None:
        raise MalformedToken(
            "malformed ENC[...] value (expected ENC[AES256_GCM,data:…,iv:…,tag:…,type:…,kid:…])",
            address=address,
            pointer=pointer,
        )
    try:
        data = base64.b64decode(match["data"], validate=True)
        iv = base64.b64decode(match["iv"], validate=True)
        tag = base64.b64decode(match["tag"], validate=True)
    except (binascii.Error, ValueError):
        raise MalformedToken(
            "malformed ENC[...] value (bad base64)", address=address, pointer=pointer
        ) from None
    if len(iv) != IV_SIZE or len(tag) != TAG_SIZE:
        raise MalformedToken(
            f"malformed ENC[...] value (iv must be {IV_SIZE} bytes and tag {TAG_SIZE})",
            address=address,
            pointer=pointer,
        )
    return Token(data, iv, tag, cast(ValueType, match["type"]), match["kid"])
