"""``dsgit import --configs`` of ``DataStoresConfig``: the published ``user_data_templates`` ->
``policies/erasure.yaml`` (docs/erasure.md).

The templates are written exactly as Roblox holds them, in order, as the file's
``user_data_templates``; the rest of an existing file (``version``, ``rules``, ``auto_apply``,
comments, key order) is kept, edited in place with ``yamlio.merge`` so importing twice changes
nothing. A repository without published templates leaves the file alone (import adopts, it
never deletes). Templates Roblox holds that ``dsgit validate`` would refuse (a miscased token,
an ordered whole-store template, ...) are written all the same, so the file shows what is live,
and each is named in a note.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from ruamel.yaml.comments import CommentedMap

from dsgit.erasure.policy import TEMPLATES_KEY, TEMPLATES_REPOSITORY
from dsgit.erasure.policy_file import ERASURE_FILE, erasure_problems
from dsgit.errors import ConfigError, Location
from dsgit.importer.layout import schema_header
from dsgit.importer.report import FileAction
from dsgit.importer.run import _action, _line_endings, _read, _safe_path, _write
from dsgit.model.entry import JSONValue
from dsgit.remote.configs_api import ConfigsApi
from dsgit.repo.yamlload import parse_yaml
from dsgit.yamlio.document import dump_document, from_plain, load_document
from dsgit.yamlio.merge import set_member

__all__ = ["TemplatesImport", "erasure_file_text", "import_templates", "import_templates_too"]

_FILE = PurePosixPath(ERASURE_FILE)


@dataclass(frozen=True)
class TemplatesImport:
    """What importing ``DataStoresConfig``'s templates did (or would do, with ``dry_run``);
    ``templates`` is None when the repository publishes none."""

    action: FileAction
    version: int
    templates: int | None
    dry_run: bool
    draft_staged: bool
    notes: tuple[str, ...] = ()
    repository: str = TEMPLATES_REPOSITORY
    path: str = ERASURE_FILE

    def to_json(self) -> dict[str, object]:
        return {
            "repository": self.repository,
            "file": self.path,
            "action": self.action.value,
            "config_version": self.version,
            "templates": self.templates,
            "dry_run": self.dry_run,
            "draft_staged": self.draft_staged,
        }


def erasure_file_text(existing: str | None, templates: list[JSONValue], header: str) -> str | None:
    """``policies/erasure.yaml`` holding ``templates`` as its ``user_data_templates`` (None
    when ``existing`` already does); a new file is ``version: 1`` and the templates."""
    if existing is None:
        fresh = CommentedMap()
        fresh["version"] = 1
        fresh[TEMPLATES_KEY] = from_plain(templates)
        return dump_document(fresh, header)
    document = load_document(existing, ERASURE_FILE)
    if not isinstance(document, CommentedMap):
        raise ConfigError(
            "expected a mapping (version, user_data_templates, rules)", Location(ERASURE_FILE)
        )
    if TEMPLATES_KEY in document:
        changed = set_member(document, TEMPLATES_KEY, templates)
    else:
        keys = list(document)
        position = keys.index("version") + 1 if "version" in keys else 0
        document.insert(position, TEMPLATES_KEY, from_plain(templates))
        changed = True
    return dump_document(document) if changed else None


def _problems(text: str) -> list[str]:
    """What ``dsgit validate`` will say of the file written (as notes)."""
    document, problems = parse_yaml(text, ERASURE_FILE)
    if document is not None and not problems:
        problems = erasure_problems(document.value, document.node)
    return [
        f"validate will {'refuse' if p.is_error else 'warn'}: "
        f"{p.file}:{p.line or 0}: {p.code} {p.message}"
        for p in problems
    ]


def import_templates(api: ConfigsApi, root: Path, *, dry_run: bool = False) -> TemplatesImport:
    """Read the published ``DataStoresConfig`` and write (unless ``dry_run``) its templates
    into ``policies/erasure.yaml``."""
    path = _safe_path(root, _FILE)
    published = api.read_published(TEMPLATES_REPOSITORY)
    staged = api.read_draft(TEMPLATES_REPOSITORY).staged
    existing = _read(path, _FILE)
    notes: list[str] = []
    if staged:
        notes.append(
            f"{TEMPLATES_REPOSITORY} has a staged draft (from Creator Hub or another tool): "
            "import read the published templates only"
        )
    others = sorted(key for key in published.contents.entries if key != TEMPLATES_KEY)
    if others:
        notes.append(
            f"{TEMPLATES_REPOSITORY} also holds {', '.join(others)}: not dsgit's, not imported "
            "(a publish keeps them as they are)"
        )
    entry = published.contents.entries.get(TEMPLATES_KEY)
    if entry is None:
        notes.append(
            f"{TEMPLATES_REPOSITORY} publishes no {TEMPLATES_KEY}: {ERASURE_FILE} left as it is"
        )
        return TemplatesImport(
            FileAction.UNCHANGED, published.version, None, dry_run, staged, tuple(notes)
        )
    templates = entry.value
    if not isinstance(templates, list):
        raise ConfigError(
            f"{TEMPLATES_REPOSITORY}'s {TEMPLATES_KEY} is not a JSON list of templates "
            f"(it is {type(templates).__name__}): fix it in Creator Hub, or declare the "
            f"templates in {ERASURE_FILE} and plan",
            Location(ERASURE_FILE, field=TEMPLATES_KEY),
        )
    if entry.variants:
        notes.append(
            f"{TEMPLATES_KEY} has conditional values in {TEMPLATES_REPOSITORY}; imported the "
            "default only (a publish removes them)"
        )
    header = schema_header("erasure", root, _FILE)
    text = _line_endings(path, erasure_file_text(existing, list(templates), header))
    written = text if text is not None else existing
    if written is not None:
        notes.extend(_problems(written))
    if text is not None and not dry_run:
        _write(root, ERASURE_FILE, text)
    return TemplatesImport(
        _action(existing, text), published.version, len(templates), dry_run, staged, tuple(notes)
    )


def import_templates_too(
    api: ConfigsApi, root: Path, *, dry_run: bool = False, others: tuple[str, ...] = ()
) -> TemplatesImport | None:
    """Plain ``dsgit import --configs``'s second step (after ``InExperienceConfig``): the
    templates, as :func:`import_templates` imports them, when the repository has
    ``policies/erasure.yaml`` or the universe publishes templates; None when it has neither
    (nothing to import, nothing to say). ``others``: the other environments of ``dsgit.yaml``,
    named in a note when the file changes (its templates are published to all of them)."""
    had_file = _safe_path(root, _FILE).exists()
    done = import_templates(api, root, dry_run=dry_run)
    if done.templates is None and not had_file:
        return None
    if others and done.action is not FileAction.UNCHANGED:
        note = (
            f"{ERASURE_FILE}'s templates are published to every environment: "
            f"`dsgit plan -e {others[0]}` shows what this import changes in "
            f"{', '.join(others)}"
        )
        done = replace(done, notes=(*done.notes, note))
    return done
