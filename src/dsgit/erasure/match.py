"""Where a user is in one live entry, and the entry without them (pure).

:func:`decide` answers, for one rule or template and one entry, whether the entry is erased
(deleted), edited (the user removed, the entry kept) or left alone. Removing a user at a
pointer (``/members``):

- an array there loses every element equal to the id (``261`` or ``"261"``);
- an object there loses the member named by the id (``{"261": {...}}``);
- the id itself there (``/owner``, or ``/members/*/UserId`` through a wildcard) removes its
  record: the array element holding it (``/members/3``) when that element is the id or a flat
  object, else the field only (an element holding arrays or objects may hold other users);
- a pointer holding ``{UserId}`` (``/officers/{UserId}``) names the user's own member: it goes.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

from dsgit.erasure.policy import TOKEN, ErasureAction, ErasureRule, expand
from dsgit.model.entry import EntryData, JSONValue
from dsgit.model.pointers import expand as expand_pointer
from dsgit.model.pointers import format_pointer, parse_pointer, resolve

__all__ = ["Decision", "decide", "is_user", "remove_user"]


@dataclass(frozen=True)
class Decision:
    """``after`` None: delete the entry; else write ``after`` (the user removed)."""

    after: EntryData | None
    why: str


def is_user(node: JSONValue, user: int) -> bool:
    if isinstance(node, bool):
        return False
    if isinstance(node, int):
        return node == user
    if isinstance(node, float):
        return node.is_integer() and int(node) == user
    return isinstance(node, str) and node.strip() == str(user)


def _targets(value: JSONValue, pointers: Sequence[str], user: int) -> list[tuple[str, ...]]:
    """Concrete paths to delete from ``value``."""
    found: list[tuple[str, ...]] = []
    for pattern in pointers:
        for pointer in expand_pointer(value, expand(pattern, user)):
            path = parse_pointer(pointer)
            _, node = resolve(value, pointer)
            if TOKEN in pattern and path:
                found.append(path)  # the pointer names the user: what it points at is theirs
            elif isinstance(node, list):
                found.extend((*path, str(i)) for i, item in enumerate(node) if is_user(item, user))
            elif isinstance(node, dict):
                if str(user) in node:
                    found.append((*path, str(user)))
            elif is_user(node, user) and path:
                found.append(_record_of(value, path))
    return list(dict.fromkeys(found))


def _record_of(value: JSONValue, path: tuple[str, ...]) -> tuple[str, ...]:
    """The array element holding the id at ``path``: itself, or the object it is a field of
    when that object is flat (``{"UserId": 261, "Rank": 2}``, the user's record). An object
    holding arrays or objects (``{"captain": 261, "members": [7, 8]}``) may hold other users'
    data: only the field goes."""
    for cut in (len(path) - 1, len(path) - 2):
        if cut >= 0:
            _, parent = resolve(value, format_pointer(path[:cut]))
            if isinstance(parent, list):
                record = path[: cut + 1]
                if cut == len(path) - 2:
                    _, element = resolve(value, format_pointer(record))
                    if isinstance(element, dict) and any(
                        isinstance(v, (dict, list)) for v in element.values()
                    ):
                        return path
                return record
    return path


def _order(path: tuple[str, ...]) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in path)


def remove_user(value: JSONValue, pointers: Sequence[str], user: int) -> tuple[JSONValue, int]:
    """``value`` without the user at ``pointers`` (a copy), and how many places were removed."""
    targets = _targets(value, pointers, user)
    if not targets:
        return value, 0
    result = copy.deepcopy(value)
    removed = 0
    # Deepest and last first, so array indices still point where they did.
    for path in sorted(targets, key=_order, reverse=True):
        present, parent = resolve(result, format_pointer(path[:-1]))
        if not present:
            continue  # inside something already removed
        last = path[-1]
        if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
            del parent[int(last)]
            removed += 1
        elif isinstance(parent, dict) and last in parent:
            del parent[last]
            removed += 1
    return result, removed


def decide(rule: ErasureRule, data: EntryData, user: int) -> Decision | None:
    """What ``rule`` does to the entry holding ``data`` (selected by its store and keys)."""
    if rule.by_name:
        return Decision(None, f"erasure rule {rule.name}: the entry is named for the user")
    tagged = rule.users_metadata and user in data.users
    value, removed = (
        remove_user(data.value, rule.pointers, user) if rule.pointers else (data.value, 0)
    )
    if not tagged and not removed:
        return None
    if rule.action is ErasureAction.DELETE:
        where = "users metadata" if tagged else f"the value at {', '.join(rule.pointers)}"
        return Decision(None, f"erasure rule {rule.name}: the user is in its {where}")
    users = tuple(u for u in data.users if u != user) if rule.users_metadata else data.users
    parts = []
    if removed:
        parts.append(f"{removed} place{'s' if removed != 1 else ''} in the value")
    if users != data.users:
        parts.append("users metadata")
    return Decision(
        EntryData(value, data.attributes, users),
        f"erasure rule {rule.name}: the user removed from {' and '.join(parts)}",
    )
