"""The Experience Configs side of ``dsgit ls``, ``get`` and ``history`` (``--configs``,
``--config KEY``): render what :mod:`dsgit.remote.configs_browse` reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import click

from dsgit.model.entry import JSONValue
from dsgit.remote.configs_api import ConfigRevision, ConfigsApi, Experiment
from dsgit.remote.configs_browse import (
    ConfigKeyView,
    ConfigListing,
    config_history,
    config_listing,
    read_config_key,
)

__all__ = ["show_history", "show_key", "show_listing"]

_VALUE_WIDTH = 40


def _compact(value: JSONValue, width: int = _VALUE_WIDTH) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= width else text[: width - 1] + "…"


def _experiment_json(experiment: Experiment | None) -> dict[str, Any] | None:
    if experiment is None:
        return None
    return {"id": experiment.id, "name": experiment.name, "started": experiment.started}


def _conditional(view: ConfigKeyView, listing: ConfigListing) -> list[tuple[str, JSONValue]]:
    """The key's conditional values in the repository's evaluation order."""
    order = [rule for rule, _ in listing.published.contents.rules.ordered()]
    rank = {rule: index for index, rule in enumerate(order)}
    variants = view.entry.variants
    return [(rule, variants[rule]) for rule in sorted(variants, key=lambda r: (rank.get(r, 0), r))]


def _key_json(view: ConfigKeyView, listing: ConfigListing) -> dict[str, Any]:
    return {
        "key": view.key,
        "type": view.type,
        "value": view.entry.value,
        "description": view.entry.description,
        "conditional": [
            {"condition": rule, "value": value} for rule, value in _conditional(view, listing)
        ],
        "modified": view.entry.modified,
        "locked_by": _experiment_json(view.locked_by),
        "staged_in_draft": view.staged,
    }


def _listing_json(listing: ConfigListing) -> dict[str, Any]:
    return {
        "repository": listing.repository,
        "config_version": listing.published.version,
        "draft_staged": listing.draft.staged,
        "conditions": [
            {"id": rule, "rule": definition}
            for rule, definition in listing.published.contents.rules.ordered()
        ],
        "entries": [_key_json(view, listing) for view in listing.views()],
    }


def _note(view: ConfigKeyView) -> str:
    notes = []
    if view.locked_by is not None:
        notes.append(f"locked by experiment {view.locked_by.name!r}")
    if view.staged:
        notes.append("changed in the staged draft")
    return "; ".join(notes)


def _rows(listing: ConfigListing) -> Iterator[tuple[str, ...]]:
    yield ("KEY", "TYPE", "VALUE", "CONDITIONAL", "NOTE")
    for view in listing.views():
        count = str(len(view.entry.variants)) if view.entry.variants else "-"
        yield (view.key, view.type, _compact(view.entry.value), count, _note(view))


def _table(rows: list[tuple[str, ...]]) -> Iterator[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for index, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        line = "  ".join([*cells, row[-1]]).rstrip()
        yield click.style(line, bold=True) if index == 0 else line


def _header(listing: ConfigListing) -> str:
    keys, rules = (
        len(listing.published.contents.entries),
        len(listing.published.contents.rules.rules),
    )
    parts = [
        f"{listing.repository}: configVersion {listing.published.version}",
        f"{keys} key{'' if keys == 1 else 's'}",
        f"{rules} condition{'' if rules == 1 else 's'}",
    ]
    if listing.draft.staged:
        changed = len(listing.draft.keys)
        parts.append(f"a draft is staged ({changed} key{'' if changed == 1 else 's'} changed)")
    return ", ".join(parts)


def show_listing(api: ConfigsApi, repository: str, *, as_json: bool) -> Iterator[str]:
    """``dsgit ls --configs``: lines to print."""
    listing = config_listing(api, repository)
    if as_json:
        yield json.dumps(_listing_json(listing), indent=2, ensure_ascii=False)
        return
    yield click.style(_header(listing), dim=True)
    if listing.published.contents.entries:
        yield from _table(list(_rows(listing)))


def show_key(api: ConfigsApi, repository: str, key: str, *, as_json: bool) -> Iterator[str]:
    """``dsgit get --config KEY``: lines to print."""
    view, listing = read_config_key(api, repository, key)
    if as_json:
        payload = {"repository": repository, **_key_json(view, listing)}
        yield json.dumps(payload, indent=2, ensure_ascii=False)
        return
    yield click.style(f"{repository}/{key}", bold=True)
    yield f"type: {view.type}"
    yield f"value: {json.dumps(view.entry.value, ensure_ascii=False)}"
    if view.entry.description:
        yield f"description: {view.entry.description}"
    conditional = _conditional(view, listing)
    if conditional:
        yield "conditional values (in evaluation order):"
        for rule, value in conditional:
            yield f"  {rule}: {json.dumps(value, ensure_ascii=False)}"
    if view.entry.modified:
        yield f"modified: {view.entry.modified}"
    if view.locked_by is not None:
        yield (
            f"locked: experiment {view.locked_by.name!r} ({view.locked_by.id}) is running on "
            "this key"
        )
    if view.staged:
        yield "the staged draft changes this key (publish or discard it in Creator Hub)"


def _revision_json(revision: ConfigRevision) -> dict[str, Any]:
    body: dict[str, Any] = {
        "revisionId": revision.revision_id,
        "version": revision.version,
        "time": revision.time,
        "message": revision.message,
        "publishedBy": revision.published_by,
        "deploymentResult": revision.deployment_result,
        "changes": {
            name: {"before": change.before, "after": change.after}
            for name, change in revision.changes.items()
        },
    }
    if revision.rule_changes or revision.order_change is not None:
        body["conditionalRulesChanges"] = {
            "rules": {
                name: {"before": change.before, "after": change.after}
                for name, change in revision.rule_changes.items()
            },
            "rulesOrder": None
            if revision.order_change is None
            else {"before": revision.order_change.before, "after": revision.order_change.after},
        }
    return body


def show_history(
    api: ConfigsApi,
    repository: str,
    *,
    key: str | None,
    since: datetime | None,
    until: datetime | None,
    as_json: bool,
) -> tuple[list[str], bool]:
    """``dsgit history --configs``: lines to print, and whether any revision was found."""
    revisions = config_history(api, repository, key=key, since=since, until=until)
    if as_json:
        return [json.dumps([_revision_json(r) for r in revisions], indent=2)], bool(revisions)
    rows: list[tuple[str, ...]] = [("VERSION", "TIME", "CHANGES", "MESSAGE")]
    for revision in revisions:
        count = len(revision.changes) + len(revision.rule_changes)
        count += 1 if revision.order_change is not None else 0
        rows.append(
            (
                str(revision.version if revision.version is not None else revision.revision_id),
                revision.time or "-",
                str(count),
                revision.message or "",
            )
        )
    lines = list(_table(rows)) if revisions else []
    if key is not None:
        for revision in revisions:
            lines.append(f"version {revision.version}:")
            for name, change in sorted(revision.changes.items()):
                before = json.dumps(change.before, ensure_ascii=False)
                after = json.dumps(change.after, ensure_ascii=False)
                lines.append(f"  {name}: {before} -> {after}")
    return lines, bool(revisions)
