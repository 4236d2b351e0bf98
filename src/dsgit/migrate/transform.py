"""The transform engine: one old value in, its :class:`Outcome` out. Pure (no I/O).

:func:`migrate_value` checks the selection's schema (through the ``matches`` callable the
planner gives it), runs the steps on a copy, and says what became of the value:

- :class:`Migrated`: the new value, and whether running the migration again on it would change
  it once more (``rerun_problem``: the migration is not idempotent for that entry);
- :class:`Unchanged`: the steps produced an equal value (already migrated);
- :class:`NotMatched`: the value fails the selection's schema, or a JSON Patch ``test``
  operation failed (RFC 6902 makes ``test`` a precondition): the entry is left alone;
- :class:`Failed`: a step cannot be carried out (a patch removes what is not there, a string is
  no number...): the entry is not migrated and the plan says why.

Equality is the planner's Luau-aware one (:func:`dsgit.plan.values.values_equal`): ``1`` and
``1.0`` are one number, and an empty ``[]`` equals ``{}``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeAlias, assert_never

import jsonpatch

from dsgit.migrate.convert import ConversionError, convert_value
from dsgit.migrate.model import Convert, Default, Migration, Move, Patch, Rename, Step
from dsgit.model.entry import JSONValue
from dsgit.model.pointers import WILDCARD, expand, format_pointer, parse_pointer, resolve
from dsgit.plan.values import values_equal

__all__ = [
    "Failed",
    "Matcher",
    "Migrated",
    "NotMatched",
    "Outcome",
    "StepError",
    "Unchanged",
    "migrate_value",
]

# None when the value matches the selection's schema, else why it does not.
Matcher = Callable[[JSONValue], str | None]


@dataclass(frozen=True)
class Migrated:
    value: JSONValue
    rerun_problem: str | None = None


@dataclass(frozen=True)
class Unchanged:
    pass


@dataclass(frozen=True)
class NotMatched:
    reason: str


@dataclass(frozen=True)
class Failed:
    step: int  # 1-based, as the file lists them
    message: str


Outcome: TypeAlias = Migrated | Unchanged | NotMatched | Failed


class StepError(ValueError):
    """A step cannot be carried out on this value (the message names the pointer)."""


class _TestFailed(Exception):
    """A JSON Patch ``test`` operation failed: the value is not one this migration is for."""


# --- navigation on a mutable copy ---------------------------------------------------------------
# The value lives in ``box[0]`` so that a step may replace the whole value.


def _node_at(box: list[JSONValue], segments: Sequence[str]) -> tuple[bool, JSONValue]:
    return resolve(box[0], format_pointer(list(segments)))


def _container(box: list[JSONValue], segments: Sequence[str], *, create: bool) -> JSONValue:
    """The object or array at ``segments`` (created as objects when ``create``); None when
    absent and not created. An empty array on the way becomes an object when a member name
    follows it (an empty Luau table comes back as ``[]`` or ``{}``)."""
    holder: JSONValue = box
    slot: str | int = 0
    for depth, segment in enumerate(segments):
        node = holder[slot]  # type: ignore[index]
        if create and isinstance(node, list) and not node and not segment.isdigit():
            node = {}
            holder[slot] = node  # type: ignore[index]
        if isinstance(node, dict):
            if segment not in node:
                if not create:
                    return None
                node[segment] = {}
            holder, slot = node, segment
        elif isinstance(node, list):
            if not segment.isdigit() or int(segment) >= len(node):
                if not create:
                    return None
                where = format_pointer(list(segments[: depth + 1]))
                raise StepError(f"{where} is past the end of an array")
            holder, slot = node, int(segment)
        else:
            if not create:
                return None
            where = format_pointer(list(segments[:depth])) or "the value"
            raise StepError(f"{where} is not an object, so {segment!r} cannot be set in it")
    node = holder[slot]  # type: ignore[index]
    if isinstance(node, list) and not node and create:
        node = {}
        holder[slot] = node  # type: ignore[index]
    return node


def _parents(box: list[JSONValue], pattern: str) -> Iterator[tuple[str, JSONValue, str]]:
    """``(parent pointer, parent node, member)`` for every parent the pattern reaches."""
    segments = parse_pointer(pattern)
    parent_pattern, member = format_pointer(list(segments[:-1])), segments[-1]
    for pointer in expand(box[0], parent_pattern):
        node = _container(box, parse_pointer(pointer), create=False)
        if node is not None:
            yield pointer, node, member


# --- steps ----------------------------------------------------------------------------------


def _rename(box: list[JSONValue], step: Rename) -> None:
    for pointer, parent, member in _parents(box, step.path):
        if not isinstance(parent, dict):
            if isinstance(parent, list) and parent:  # an empty one is an empty Luau table
                raise StepError(f"{pointer or 'the value'} is an array: members cannot be renamed")
            continue
        if member not in parent or member == step.to:
            continue
        if step.to in parent:
            raise StepError(
                f"both {pointer}/{member} and {pointer}/{step.to} exist: rename would overwrite"
            )
        # keep the member's place among its siblings (diffs and saved files read better)
        items = [(step.to if name == member else name, item) for name, item in parent.items()]
        parent.clear()
        parent.update(items)


def _move(box: list[JSONValue], step: Move) -> None:
    source, target = parse_pointer(step.source), parse_pointer(step.target)
    present, value = _node_at(box, source)
    if not present:
        return  # moved already (or never there)
    if target[: len(source)] == source:
        raise StepError(f"cannot move {step.source} into itself ({step.target})")
    there, _ = _node_at(box, target)
    if there:
        raise StepError(f"both {step.source} and {step.target} exist: move would overwrite")
    parent = _container(box, source[:-1], create=False)
    if isinstance(parent, dict):
        del parent[source[-1]]
    elif isinstance(parent, list):
        del parent[int(source[-1])]
    _put(box, target, value, step.target)


def _put(box: list[JSONValue], target: Sequence[str], value: JSONValue, shown: str) -> None:
    parent = _container(box, target[:-1], create=True)
    if isinstance(parent, dict):
        parent[target[-1]] = value
    elif isinstance(parent, list):
        raise StepError(f"{shown}: its parent is an array (give an object member)")
    else:
        raise StepError(f"{shown}: its parent is not an object")


def _default(box: list[JSONValue], step: Default) -> None:
    segments = parse_pointer(step.path)
    if WILDCARD not in segments[:-1]:
        present, _ = _node_at(box, segments)
        if not present:
            _put(box, segments, copy.deepcopy(step.value), step.path)
        return
    for _pointer, parent, member in _parents(box, step.path):
        if isinstance(parent, dict) and member not in parent:
            parent[member] = copy.deepcopy(step.value)


def _convert(box: list[JSONValue], step: Convert) -> None:
    for pointer in expand(box[0], step.path):
        segments = parse_pointer(pointer)
        _, old = _node_at(box, segments)
        if old is None:
            continue  # Luau nil: nothing to convert
        try:
            new = convert_value(old, step.to)
        except ConversionError as exc:
            raise StepError(f"{pointer or '/'}: {exc}") from None
        if not segments:
            box[0] = new
            continue
        parent = _container(box, segments[:-1], create=False)
        if isinstance(parent, dict):
            parent[segments[-1]] = new
        elif isinstance(parent, list):
            parent[int(segments[-1])] = new


def _patch(box: list[JSONValue], step: Patch) -> None:
    operations = [dict(operation) for operation in step.operations]
    try:
        box[0] = jsonpatch.apply_patch(box[0], operations, in_place=True)
    except jsonpatch.JsonPatchTestFailed as exc:
        raise _TestFailed(str(exc)) from None
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
        raise StepError(f"JSON Patch: {exc}") from None


def _run(box: list[JSONValue], step: Step) -> None:
    match step:
        case Rename():
            _rename(box, step)
        case Move():
            _move(box, step)
        case Default():
            _default(box, step)
        case Convert():
            _convert(box, step)
        case Patch():
            _patch(box, step)
        case _:
            assert_never(step)


def _outcome(steps: Sequence[Step], value: JSONValue) -> tuple[JSONValue, Outcome | None]:
    box: list[JSONValue] = [copy.deepcopy(value)]
    for index, step in enumerate(steps, start=1):
        try:
            _run(box, step)
        except _TestFailed as exc:
            return None, NotMatched(f"step {index}: JSON Patch test failed ({exc})")
        except StepError as exc:
            return None, Failed(index, str(exc))
    return box[0], None


def migrate_value(migration: Migration, value: JSONValue, matches: Matcher | None) -> Outcome:
    """What the migration does to one old value (see the module docstring)."""
    if matches is not None:
        reason = matches(value)
        if reason is not None:
            return NotMatched(reason)
    new, stopped = _outcome(migration.steps, value)
    if stopped is not None:
        return stopped
    if values_equal(new, value):
        return Unchanged()
    return Migrated(new, _rerun_problem(migration, new, matches))


def _rerun_problem(migration: Migration, new: JSONValue, matches: Matcher | None) -> str | None:
    """Why a second run would touch ``new`` again (None: it would plan nothing for it)."""
    if matches is not None and matches(new) is not None:
        return None  # a migrated value no longer matches the selection: never selected again
    again, stopped = _outcome(migration.steps, new)
    match stopped:
        case None:
            if values_equal(again, new):
                return None
            return "running the migration again would change the migrated value once more"
        case NotMatched():
            return None  # a JSON Patch test now fails: the entry is left alone next time
        case Failed(step=step, message=message):
            return f"running the migration again would fail at step {step} ({message})"
        case _:
            return "running the migration again would not leave the migrated value alone"
