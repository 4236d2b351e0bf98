"""``dsgit history --diff`` and ``--field``: render what changed between revisions.

The diff itself is :mod:`dsgit.revisions.diff` (pure); this module reads the revisions, masks
with the store's ``sensitive`` and ``encrypted`` pointers, and prints text or JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import click

from dsgit.cli.context import AppContext
from dsgit.config import Environment
from dsgit.errors import DsgitError
from dsgit.plan.model import DiffLine
from dsgit.remote.connect import open_client
from dsgit.render.values import diff_lines, short_json
from dsgit.render.words import plural
from dsgit.revisions.diff import (
    FieldChange,
    RevisionDiff,
    diff_revisions,
    field_history,
    parse_field,
)
from dsgit.revisions.read import read_revisions

__all__ = ["show_history_changes"]


def _line_json(line: DiffLine) -> dict[str, Any]:
    body: dict[str, Any] = {"pointer": line.pointer, "op": line.op}
    if line.op != "add":
        body["old"] = line.old
    if line.op != "remove":
        body["new"] = line.new
    return body


def _diff_json(row: RevisionDiff) -> dict[str, Any]:
    return {
        "revisionId": row.revision_id,
        "revisionCreateTime": row.created,
        "state": row.state,
        "previousRevisionId": row.previous_id,
        "changes": None if row.previous_id is None else [_line_json(x) for x in row.lines],
    }


def _field_json(change: FieldChange) -> dict[str, Any]:
    body: dict[str, Any] = {
        "revisionId": change.revision_id,
        "revisionCreateTime": change.created,
        "op": change.op,
    }
    if change.op in ("remove", "replace"):
        body["old"] = change.old
    if change.op != "remove":
        body["new"] = change.new
    return body


def _diff_text(rows: list[RevisionDiff]) -> Iterator[str]:
    for row in rows:
        state = "" if row.state == "ACTIVE" else f"  {row.state}"
        yield f"revision {row.revision_id}  {row.created}{state}"
        if row.previous_id is None:
            yield "  (the earliest revision kept: nothing before it to compare)"
        elif row.state != "ACTIVE":
            yield "  - entry deleted"
        elif not row.lines:
            yield "  (no change: the same value and metadata written again)"
        else:
            for line in row.lines:
                yield from (f"  {text}" for text in diff_lines(line))
        yield ""


def _field_text(pointer: str, changes: list[FieldChange]) -> Iterator[str]:
    where = pointer or "/"
    for change in changes:
        head = f"revision {change.revision_id}  {change.created}"
        match change.op:
            case "initial":
                yield f"{head}  {where} = {short_json(change.new)}"
            case "add":
                yield f"{head}  {where} added: {short_json(change.new)}"
            case "remove":
                yield f"{head}  {where} removed (was {short_json(change.old)})"
            case "replace":
                yield f"{head}  {where}: {short_json(change.old)} -> {short_json(change.new)}"


def show_history_changes(
    app: AppContext,
    env: Environment,
    address: tuple[str, str, str],
    window: tuple[datetime | None, datetime | None],
    field_pointer: str | None,
    *,
    as_json: bool,
) -> None:
    """Read the revisions of ``address`` (store, key, scope) in ``window`` and print their
    diffs, or only the changes of ``field_pointer``."""
    from dsgit.cli.read import sensitive_patterns

    store, key, scope = address
    field = None
    if field_pointer is not None:
        try:
            field = parse_field(field_pointer)
        except ValueError as exc:
            raise DsgitError(f"--field: {exc}") from None
    # Masking is decided before anything is read: unreadable store settings stop the command.
    patterns = sensitive_patterns(app.root, store, key)
    since, until = window
    with open_client(env) as client:
        found = read_revisions(client, store, key, scope, since=since, until=until)
    if field is None:
        rows = diff_revisions(found.revisions, patterns, first_is_baseline=found.baseline)
        if as_json:
            click.echo(json.dumps([_diff_json(row) for row in rows], indent=2, ensure_ascii=False))
        elif not rows:
            click.echo(f"no revisions of {store}/{scope}/{key} in that period", err=True)
        else:
            for text in _diff_text(rows):
                click.echo(text)
        return
    assert field_pointer is not None
    changes = field_history(found.revisions, field, patterns, first_is_baseline=found.baseline)
    if as_json:
        body = {"field": field_pointer, "changes": [_field_json(c) for c in changes]}
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    elif not changes:
        click.echo(
            f"{field_pointer or '/'} of {store}/{scope}/{key} did not change in that period "
            f"({plural(len(found.revisions), 'revision')} read)",
            err=True,
        )
    else:
        for text in _field_text(field_pointer, changes):
            click.echo(text)
