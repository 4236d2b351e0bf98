"""``dsgit import --configs``: the published configs repository -> ``configs/<repository>.yaml``.

What is imported: every published key's value, its type (from the value), description and
conditional values, and the repository's conditions (rules verbatim, in evaluation order).
An existing file is edited in place (``yamlio.merge``): comments, key order, `publish`,
`max_keys`, each key's `schema` and `environments` are kept, and a file already holding the
live repository is not rewritten, so importing twice changes nothing. Keys the file declares
that are not published are kept (import adopts, it never deletes) and reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ruamel.yaml.comments import CommentedMap

from dsgit.errors import ConfigError, Location
from dsgit.importer.environments import place_value
from dsgit.importer.layout import schema_header
from dsgit.importer.report import FileAction
from dsgit.importer.run import _action, _line_endings, _read, _safe_path, _write
from dsgit.model.configs import CONFIGS_DIR, ConfigType, type_of
from dsgit.model.entry import JSONValue
from dsgit.remote.configs_api import ConfigEntry, ConfigsApi, PublishedConfig
from dsgit.repo.configs_file import ERASURE_ONLY
from dsgit.yamlio.document import dump_document, from_plain, load_document, to_plain
from dsgit.yamlio.equality import json_equal
from dsgit.yamlio.merge import set_member

__all__ = ["ConfigsImport", "configs_file_text", "import_configs"]

_ENVIRONMENTS = "environments"


@dataclass(frozen=True)
class ConfigsImport:
    """What ``import --configs`` did (or would do, with ``dry_run``)."""

    repository: str
    path: str
    action: FileAction
    version: int
    keys: int
    conditions: int
    dry_run: bool
    kept: tuple[str, ...] = ()  # keys in the file that are not published
    draft_staged: bool = False
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "file": self.path,
            "action": self.action.value,
            "config_version": self.version,
            "keys": self.keys,
            "conditions": self.conditions,
            "dry_run": self.dry_run,
            "kept_unpublished": len(self.kept),
            "draft_staged": self.draft_staged,
        }


def _type(value: JSONValue, declared: Any) -> str:
    live = type_of(value)
    if declared is not None and str(declared) == (live.value if live else None):
        return str(declared)
    return (live or ConfigType.JSON).value


def _entry(entry: ConfigEntry, order: Mapping[str, int]) -> dict[str, JSONValue]:
    item: dict[str, JSONValue] = {"type": _type(entry.value, None), "value": entry.value}
    if entry.description:
        item["description"] = entry.description
    if entry.variants:
        item["conditional"] = _conditional(entry, order)
    return item


def _conditional(entry: ConfigEntry, order: Mapping[str, int]) -> dict[str, JSONValue]:
    ranked = sorted(entry.variants, key=lambda rule: (order.get(rule, len(order)), rule))
    return {rule: entry.variants[rule] for rule in ranked}


def _conditions(published: PublishedConfig) -> list[JSONValue]:
    rules = published.contents.rules.ordered()
    return [{"id": rule, "rule": definition} for rule, definition in rules]


def _set_or_drop(document: CommentedMap, name: str, value: JSONValue | None, after: str) -> bool:
    if value is None:
        if name in document:
            del document[name]
            return True
        return False
    if name in document:
        return set_member(document, name, value)
    keys = list(document)
    document.insert(keys.index(after) + 1 if after in keys else len(keys), name, from_plain(value))
    return True


@dataclass(frozen=True)
class _Placement:
    """The environment imported and the others the file serves (none: the file is its own)."""

    environment: str = ""
    others: tuple[str, ...] = ()


def _patches(node: CommentedMap) -> dict[str, JSONValue]:
    section = to_plain(node.get(_ENVIRONMENTS))
    return dict(section) if isinstance(section, dict) else {}


def _sync_patches(node: CommentedMap, names: tuple[str, ...], wanted: Mapping[str, Any]) -> bool:
    """Make the key's ``environments:`` patches of ``names`` the ``wanted`` ones (absent: no
    patch); the section goes when it is empty."""
    if not isinstance(node.get(_ENVIRONMENTS), CommentedMap):
        if not any(name in wanted for name in names):
            return False
        _set_or_drop(node, _ENVIRONMENTS, {}, "conditional")
    section: CommentedMap = node[_ENVIRONMENTS]
    changed = False
    for name in names:
        if name in wanted:
            changed |= _set_or_drop(section, name, wanted[name], name)
        elif name in section:
            del section[name]
            changed = True
    if not section:
        del node[_ENVIRONMENTS]
    return changed


def _sync_entry(
    node: CommentedMap,
    entry: ConfigEntry,
    order: Mapping[str, int],
    placement: _Placement,
    filename: str,
    where: str,
    notes: list[str],
) -> bool:
    """Make the key hold ``entry`` as ``placement.environment`` sees it; with other
    environments the declared value stays while one of them sees it as it is (ENV's
    difference becomes its merge patch), and description and conditional values are shared."""
    value: JSONValue = entry.value
    changed = False
    if placement.others:
        placed = place_value(
            to_plain(node.get("value")),
            _patches(node),
            placement.environment,
            placement.others,
            entry.value,
            lambda name: Location(filename, field=f"{where}.{_ENVIRONMENTS}.{name}"),
        )
        changed |= _sync_patches(node, (placement.environment, *placement.others), placed.patches)
        value = placed.declared
    changed |= set_member(node, "type", _type(value, to_plain(node.get("type"))))
    changed |= _set_or_drop(node, "value", value, "type")
    conditional = _conditional(entry, order) if entry.variants else None
    for name, live in (("description", entry.description or None), ("conditional", conditional)):
        if not placement.others:
            changed |= _set_or_drop(node, name, live, "value")
        elif not json_equal(to_plain(node.get(name)), live):
            notes.append(
                f"{where}: {placement.environment}'s {name} differs from the file's, which "
                f"{', '.join(placement.others)} share; kept (a per-environment patch covers "
                "value only)"
            )
    return changed


def configs_file_text(
    existing: str | None,
    repository: str,
    published: PublishedConfig,
    *,
    filename: str,
    header: str | None = None,
    environment: str = "",
    others: tuple[str, ...] = (),
) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """The file holding ``published`` as ``environment`` sees it (None when ``existing``
    already does), the keys of ``existing`` that are not published (kept), and notes.

    With ``others`` (the other environments of ``dsgit.yaml``) an existing file serves them
    too: each key's value is placed as entry files' are (``place_value``), and the
    conditions, descriptions and conditional values, which have no per-environment form,
    stay as the file has them, a difference being a note."""
    placement = _Placement(environment, others)
    notes: list[str] = []
    contents = published.contents
    order = {rule: index for index, (rule, _) in enumerate(contents.rules.ordered())}
    if existing is None:
        fresh = CommentedMap()
        fresh["repository"] = repository
        fresh["publish"] = from_plain({"strategy": "Immediate"})
        fresh["conditions"] = from_plain(_conditions(published))
        fresh["entries"] = from_plain(
            {key: _entry(entry, order) for key, entry in sorted(contents.entries.items())}
        )
        return dump_document(fresh, header or schema_header("configs")), (), ()
    document = load_document(existing, filename)
    if not isinstance(document, CommentedMap):
        raise ConfigError(
            "expected a mapping (repository, entries); fix or remove the file", Location(filename)
        )
    changed = False
    if "repository" in document:
        changed |= set_member(document, "repository", repository)
    else:
        document.insert(0, "repository", repository)
        changed = True
    if not others:
        changed |= _set_or_drop(document, "conditions", _conditions(published), "publish")
    elif not json_equal(to_plain(document.get("conditions")), _conditions(published)):
        notes.append(
            f"{environment}'s conditions differ from the file's, which {', '.join(others)} "
            "share; kept"
        )
    if not isinstance(document.get("entries"), CommentedMap):
        document["entries"] = CommentedMap()
        changed = True
    entries: CommentedMap = document["entries"]
    kept = tuple(key for key in entries if key not in contents.entries)
    previous: str | None = None
    for key, entry in sorted(contents.entries.items()):
        node = entries.get(key)
        if isinstance(node, CommentedMap):
            where = f"entries.{key}"
            changed |= _sync_entry(node, entry, order, placement, filename, where, notes)
        else:
            keys = list(entries)
            position = keys.index(previous) + 1 if previous in keys else len(keys)
            if key in entries:
                del entries[key]
            entries.insert(position, key, from_plain(_entry(entry, order)))
            changed = True
        previous = key
    return (dump_document(document) if changed else None), kept, tuple(notes)


def import_configs(
    api: ConfigsApi,
    root: Path,
    repository: str = "InExperienceConfig",
    *,
    dry_run: bool = False,
    environment: str = "",
    others: tuple[str, ...] = (),
) -> ConfigsImport:
    """Read the published ``repository`` and write (unless ``dry_run``) its file, as
    ``environment`` sees it when the file also serves ``others`` (see
    :func:`configs_file_text`)."""
    if repository == ERASURE_ONLY:
        # its templates go to policies/erasure.yaml: dsgit.importer.templates
        raise ConfigError(
            f"{ERASURE_ONLY} is managed through policies/erasure.yaml, not configs/",
            Location(f"{CONFIGS_DIR}/{repository}.yaml"),
        )
    relative = PurePosixPath(CONFIGS_DIR, f"{repository}.yaml")
    path = _safe_path(root, relative)
    published = api.read_published(repository)
    staged = api.read_draft(repository).staged
    existing = _read(path, relative)
    header = schema_header("configs", root, relative)
    text, kept, placed = configs_file_text(
        existing,
        repository,
        published,
        filename=relative.as_posix(),
        header=header,
        environment=environment,
        others=others,
    )
    text = _line_endings(path, text)
    if text is not None and not dry_run:
        _write(root, relative.as_posix(), text)
    notes = list(placed)
    if staged:
        notes.append(
            f"{repository} has a staged draft (from Creator Hub, Studio or another tool): "
            "import read the published values only"
        )
    if kept:
        notes.append(
            f"{len(kept)} key(s) in {relative.as_posix()} are not published; kept "
            "(import never deletes): plan would publish them"
        )
    return ConfigsImport(
        repository=repository,
        path=relative.as_posix(),
        action=_action(existing, text),
        version=published.version,
        keys=len(published.contents.entries),
        conditions=len(published.contents.rules.rules),
        dry_run=dry_run,
        kept=kept,
        draft_staged=staged,
        notes=tuple(notes),
    )
