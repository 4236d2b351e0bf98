"""Update a round-trip document in place to hold new JSON values, with minimal edits.

Unchanged nodes are left exactly as they were (quoting, comments, flow or block style); a
changed scalar is replaced where it stands, so its end-of-line comment stays; object members
keep their order, removed members are deleted and new ones are inserted after the member that
precedes them in the new value; arrays are updated item by item, then grown or shrunk at the end.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, ScalarString

from dsgit.model.entry import JSONValue
from dsgit.yamlio.document import dump_document, from_plain, needs_escapes, to_plain
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
        replacement = from_plain(new)
        if isinstance(new, str) and isinstance(old, ScalarString) and needs_escapes(new):
            # ruamel would give the new text the old node's style (literal, folded, single
            # quotes), none of which can hold a control character or a line separator.
            replacement = DoubleQuotedScalarString(new)
        parent[key] = replacement
        _keep_comment_gap(parent, key, old, parent[key])
    return True


def _eol_comment(parent: Any, key: Any) -> Any:
    """The comment token after ``parent[key]``'s value on its line, or None."""
    slots = parent.ca.items.get(key) if hasattr(parent, "ca") else None
    if not slots:
        return None
    return slots[2] if isinstance(parent, CommentedMap) else slots[0]


def _value_column(parent: Any, key: Any) -> int | None:
    position = parent.lc.data.get(key) if hasattr(parent, "lc") else None
    if not position:
        return None
    return int(position[3] if isinstance(parent, CommentedMap) else position[1])


def _width(node: Any) -> int | None:
    """How wide ``node`` is written as a scalar on one line (None for anything else)."""
    if isinstance(node, CommentedMap | CommentedSeq):
        return None
    lines = dump_document(node).splitlines()
    return len(lines[0]) if lines and (len(lines) == 1 or lines[1] == "...") else None


def _keep_comment_gap(parent: Any, key: Any, old: Any, new: Any) -> None:
    """Keep the spaces between a replaced scalar and its end-of-line comment: ruamel would keep
    the comment's old column (a long gap after a shorter value, one space after a longer one)."""
    comment = _eol_comment(parent, key)
    column = _value_column(parent, key)
    old_width, new_width = _width(old), _width(new)
    if comment is None or column is None or old_width is None or new_width is None:
        return
    gap = max(1, comment.column - column - old_width)
    comment.column = column + new_width + gap


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
