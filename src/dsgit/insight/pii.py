"""Personal data inside values: e-mail addresses, phone numbers, and user ids in an entry that
carries no ``users`` metadata (so Roblox's erasure tooling cannot find it, DESIGN §9).

Findings name the entry and the JSON pointer, never the value: a report about personal data
must not become a copy of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from dsgit.insight.walk import WILDCARD, escape, is_id_like, nodes
from dsgit.model.entry import JSONValue

__all__ = ["Finding", "PiiKind", "find_pii"]


class PiiKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    USER_ID = "user-id"


@dataclass(frozen=True)
class Finding:
    kind: PiiKind
    pointer: str


_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
)
# International (+ and 10-15 digits, separators allowed) or North-American style with
# separators: (555) 123-4567, 555-123-4567, 555.123.4567. Bare digit runs are ids, not phones.
_PHONE = re.compile(r"(?<![\w+])(?:\+\d[\d ().-]{8,18}\d|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})(?![\w])")
# Fields that hold Roblox user ids in the libraries games use (ProfileService's UserIds,
# rosters, owners, ban records).
_USER_FIELD = re.compile(
    r"^(?:user_?ids?|players?_?ids?|owner_?(?:user_?)?ids?|members|member_?ids?|"
    r"banned_?by|moderator_?id|friend_?ids?|author_?id|creator_?id)$",
    re.IGNORECASE,
)
_USER_ID = re.compile(r"^[1-9]\d{0,18}$")


def _phone_digits_ok(text: str) -> bool:
    digits = sum(char.isdigit() for char in text)
    return 10 <= digits <= 15


def _strings(value: JSONValue) -> Iterator[tuple[str, str]]:
    for pointer, node in nodes(value):
        if isinstance(node, str):
            yield pointer, node


def _is_user_id(node: JSONValue) -> bool:
    if isinstance(node, bool):
        return False
    if isinstance(node, int):
        return node > 0
    return isinstance(node, str) and _USER_ID.match(node) is not None


def _user_id_fields(value: JSONValue, pointer: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            segment = WILDCARD if is_id_like(key) else escape(key)
            here = f"{pointer}/{segment}"
            if _USER_FIELD.match(key.replace("-", "_")) and _holds_user_ids(child):
                yield here
            else:
                yield from _user_id_fields(child, here)
    elif isinstance(value, list):
        for child in value:
            yield from _user_id_fields(child, f"{pointer}/*")


def _holds_user_ids(node: JSONValue) -> bool:
    if _is_user_id(node):
        return True
    if isinstance(node, list):
        return bool(node) and all(_is_user_id(item) for item in node)
    if isinstance(node, dict):  # a roster keyed by user id
        return bool(node) and all(_USER_ID.match(key) for key in node)
    return False


def find_pii(value: JSONValue, *, has_users: bool) -> list[Finding]:
    """Distinct findings in one value; user ids count only when ``has_users`` is False."""
    found: dict[tuple[PiiKind, str], Finding] = {}
    for pointer, text in _strings(value):
        if _EMAIL.search(text):
            found.setdefault((PiiKind.EMAIL, pointer), Finding(PiiKind.EMAIL, pointer))
        match = _PHONE.search(text)
        if match and _phone_digits_ok(match.group()):
            found.setdefault((PiiKind.PHONE, pointer), Finding(PiiKind.PHONE, pointer))
    if not has_users:
        for pointer in _user_id_fields(value):
            found.setdefault((PiiKind.USER_ID, pointer), Finding(PiiKind.USER_ID, pointer))
    return list(found.values())
