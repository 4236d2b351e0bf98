"""Roblox's documented limits on names, values and metadata, checked on every write.

Each check raises :class:`ApiError` 400 with the v1 ``datastoreErrorCode`` Roblox uses for it, so
the same check serves v1 and v2. Lengths are counted in characters (Python ``len``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from dsgit.emulator import json_text
from dsgit.emulator.api_error import invalid

__all__ = [
    "MAX_ATTRIBUTES_CHARS",
    "MAX_ATTRIBUTE_KEY_CHARS",
    "MAX_ATTRIBUTE_VALUE_CHARS",
    "MAX_NAME_CHARS",
    "MAX_ORDERED_KEY_CHARS",
    "MAX_USERS",
    "MAX_VALUE_CHARS",
    "check_key",
    "check_scope",
    "check_store_name",
    "encode_attributes",
    "encode_value",
    "ordered_value",
    "users_from_header",
    "users_from_paths",
]

MAX_NAME_CHARS = 50
MAX_ORDERED_KEY_CHARS = 63  # "a 1-63 character string" (Create Ordered Data Store Entry)
MAX_VALUE_CHARS = 4_194_304
MAX_ATTRIBUTES_CHARS = 300
MAX_ATTRIBUTE_KEY_CHARS = 50
MAX_ATTRIBUTE_VALUE_CHARS = 250
MAX_USERS = 4
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_USER_PATH = re.compile(r"^users/([0-9]{1,19})$")


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def check_store_name(name: str) -> str:
    if not name or len(name) > MAX_NAME_CHARS:
        raise invalid(
            f"data store name must be 1-{MAX_NAME_CHARS} characters, got {len(name)}",
            "InvalidDataStoreName",
        )
    return name


def check_scope(scope: str) -> str:
    if not scope or len(scope) > MAX_NAME_CHARS:
        raise invalid(
            f"scope must be 1-{MAX_NAME_CHARS} characters, got {len(scope)}",
            "InvalidDataStoreScope",
        )
    return scope


def check_key(key: str, limit: int = MAX_NAME_CHARS) -> str:
    if not key:
        raise invalid("entry key must not be empty", "InvalidEntryKey")
    if len(key) > limit:
        raise invalid(
            f"entry key must be at most {limit} characters, got {len(key)}", "InvalidEntryKey"
        )
    return key


def encode_value(value: Any) -> str:
    """The value as stored: compact JSON, at most 4,194,304 characters."""
    if value is None:
        raise invalid("value is required and must not be null", "ContentNotJson")
    try:
        text = _compact(value)
    except (ValueError, RecursionError) as exc:
        raise invalid(f"value is not valid JSON: {exc}", "ContentNotJson") from None
    if len(text) > MAX_VALUE_CHARS:
        raise invalid(
            f"value is {len(text)} characters once JSON-encoded; the limit is {MAX_VALUE_CHARS}",
            "ContentTooBig",
        )
    return text


def encode_attributes(attributes: Any) -> str:
    """User-defined metadata as stored (compact JSON object, ``{}`` when empty)."""
    if attributes is None:
        return "{}"
    if not isinstance(attributes, dict):
        raise invalid("attributes must be a JSON object", "InvalidAttributes")
    for name, item in attributes.items():
        if len(name) > MAX_ATTRIBUTE_KEY_CHARS:
            raise invalid(
                f"attribute name {name[:60]!r} is longer than {MAX_ATTRIBUTE_KEY_CHARS} characters",
                "InvalidAttributes",
            )
        size = len(item) if isinstance(item, str) else len(_compact(item))
        if size > MAX_ATTRIBUTE_VALUE_CHARS:
            raise invalid(
                f"attribute {name!r} has a value over {MAX_ATTRIBUTE_VALUE_CHARS} characters",
                "InvalidAttributes",
            )
    text = _compact(attributes)
    if len(text) > MAX_ATTRIBUTES_CHARS:
        raise invalid(
            f"attributes are {len(text)} characters serialized; the limit is "
            f"{MAX_ATTRIBUTES_CHARS}",
            "InvalidAttributes",
        )
    return text


def _check_users(users: list[int]) -> tuple[int, ...]:
    if len(users) > MAX_USERS:
        raise invalid(f"at most {MAX_USERS} users per entry, got {len(users)}", "InvalidUserIds")
    return tuple(users)


def users_from_paths(users: Any) -> tuple[int, ...]:
    """v2 ``users``: a list of ``users/<id>`` strings (absent means none)."""
    if users is None:
        return ()
    if not isinstance(users, list):
        raise invalid("users must be a list of users/<id> strings", "InvalidUserIds")
    ids: list[int] = []
    for item in users:
        match = _USER_PATH.match(item) if isinstance(item, str) else None
        if match is None:
            raise invalid(f"user {item!r} is not of the form users/<id>", "InvalidUserIds")
        ids.append(int(match.group(1)))
    return _check_users(ids)


def users_from_header(text: str | None) -> tuple[int, ...]:
    """v1 ``roblox-entry-userids``: ``[1, 2]`` or ``1,2`` (absent means none)."""
    if text is None or not text.strip():
        return ()
    raw = text.strip()
    if raw.startswith("["):
        try:
            items = json_text.loads(raw)
        except ValueError:
            raise invalid("roblox-entry-userids is not a JSON list", "InvalidUserIds") from None
    else:
        items = [part.strip() for part in raw.split(",")]
    ids: list[int] = []
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, bool):
            raise invalid("user ids must be integers", "InvalidUserIds")
        if isinstance(item, int) and item >= 0:
            ids.append(item)
        elif isinstance(item, str) and item.isascii() and item.isdigit():
            ids.append(int(item))
        else:
            raise invalid(f"user id {item!r} is not an integer", "InvalidUserIds")
    return _check_users(ids)


def ordered_value(value: Any, field: str = "value") -> int:
    """An ordered data store value: a number, rounded to the nearest integer, within int64."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(f"{field} must be a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise invalid(f"{field} must be finite")
        value = round(value)
    number = int(value)
    if not INT64_MIN <= number <= INT64_MAX:
        raise invalid(f"{field} {number} exceeds the int64 range")
    return number
