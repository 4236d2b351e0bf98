"""Update a round-trip document in place to hold new JSON values, with minimal edits.

Unchanged nodes are left exactly as they were (quoting, comments, flow or block style); a
changed scalar is replaced where it stands, so its end-of-line comment stays; object members
keep their order, removed members are deleted and new ones are inserted after the member that
precedes them in the new value; arrays are updated item by item, then grown or shrunk at the end.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from dsgit.model.entry import JSONValue
from dsgit.yamlio.document import from_plain, to_plain
from dsgit.yamlio.equality import json_equal

__all__ = ["set_member", "sync_mapping"]


def set_member(parent: Any, key: Any, new: JSONValue) -> bool:
    """Make ``parent[key]`` (an existing member or item) hold ``new``; True if it changed."""
    old = parent[key]
    if json_equal(to_plain(old), new):
        return False
    if isinstance(old, CommentedMap) and isinstance(new, dict):
        sync_mapping(old, new)
    elif isinstance(old, CommentedSeq) and isinstance(new, list):
        _sync_sequence(old, new)
    else:
        parent[key] = from_plain(new)
    return True


def sync_mapping(node: CommentedMap, new: dict[str, JSONValue]) -> bool:
    """Make the mapping ``node`` hold exactly the members of ``new``; True if it changed."""
    changed = False
    for key in [key for key in node if key not in new]:
        del node[key]
        changed = True
    previous: str | None = None
    for key, value in new.items():
        if key in node:
            changed |= set_member(node, key, value)
        else:
            position = 0 if previous is None else list(node).index(previous) + 1
            node.insert(position, key, from_plain(value))
            changed = True
        previous = key
    return changed


def _sync_sequence(node: CommentedSeq, new: list[JSONValue]) -> None:
    common = min(len(node), len(new))
    for index in range(common):
        set_member(node, index, new[index])
    while len(node) > len(new):
        node.pop()
    for value in new[common:]:
        node.append(from_plain(value))
