"""Reading ``migrations/<id>.yaml``: YAML, the file schema, then the migration's own checks.

:func:`migration_problems` serves ``dsgit validate`` (every problem at its line, DS821-DS826);
:func:`load_migration` serves ``dsgit migrate`` (the first problems as one ``ConfigError``).
A migration's id is its file name without ``.yaml`` / ``.yml``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from yaml.nodes import Node

from dsgit.errors import ConfigError, Location
from dsgit.migrate.matching import unresolved_match
from dsgit.migrate.model import Migration
from dsgit.migrate.parse import ID_PATTERN, migration_from_document
from dsgit.model.entry import JSONValue
from dsgit.repo.file_schemas import FileKind, check_file
from dsgit.repo.problems import Problem, first_errors
from dsgit.repo.value_schemas import ValueSchemas
from dsgit.repo.yamlload import locate, parse_yaml

__all__ = [
    "MIGRATIONS_DIR",
    "MigrationFile",
    "list_migrations",
    "load_migration",
    "migration_id",
    "migration_problems",
    "with_lines",
]

MIGRATIONS_DIR = "migrations"
_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class MigrationFile:
    """A loaded migration and the sha256 of its file's bytes (the plan records it)."""

    migration: Migration
    digest: str


def migration_id(path: str) -> str | None:
    """The id of ``migrations/<id>.yaml`` (None for another path, or an unusable name)."""
    folder, _, name = path.rpartition("/")
    if folder != MIGRATIONS_DIR or not name.endswith(_SUFFIXES):
        return None
    stem = name.rsplit(".", 1)[0]
    return stem if ID_PATTERN.match(stem) else None


def name_problem(path: str) -> Problem | None:
    """DS825 for a YAML file under ``migrations/`` that cannot be a migration."""
    if not path.endswith(_SUFFIXES) or migration_id(path) is not None:
        return None
    return Problem(
        path,
        None,
        None,
        "DS825",
        "a migration is migrations/<id>.yaml, <id> of letters, digits, '.', '_' or '-' "
        "(starting with a letter or digit), directly in migrations/",
    )


def migration_problems(
    value: JSONValue, node: Node | None, file: str, schemas: ValueSchemas | None = None
) -> list[Problem]:
    """Schema problems, then (when the shape is right) the migration's own checks."""
    problems = check_file(FileKind.MIGRATION, value, node, file)
    if problems or not isinstance(value, dict):
        return problems
    migration, issues = migration_from_document(migration_id(file) or file, file, value)
    for issue in issues:
        tokens = [str(part) for part in issue.path]
        place = locate(node, tokens)
        line, column = place if place is not None else (None, None)
        problems.append(
            Problem(file, line, column, issue.code, f"`{'.'.join(tokens)}`: {issue.message}")
        )
    if schemas is not None:
        unresolved = unresolved_match(migration, schemas)
        if unresolved is not None:
            place = locate(node, ["select", "match"])
            line, column = place if place is not None else (None, None)
            problems.append(Problem(file, line, column, "DS824", f"`select.match`: {unresolved}"))
    return problems


def list_migrations(root: Path) -> list[str]:
    """The ids of the migration files under ``root`` (sorted)."""
    folder = root / MIGRATIONS_DIR
    if not folder.is_dir():
        return []
    found = set()
    for path in folder.iterdir():
        found_id = migration_id(f"{MIGRATIONS_DIR}/{path.name}")
        if found_id is not None and path.is_file():
            found.add(found_id)
    return sorted(found)


def _path_of(root: Path, wanted: str) -> tuple[Path, str]:
    candidates = [f"{MIGRATIONS_DIR}/{wanted}{suffix}" for suffix in _SUFFIXES]
    present = [name for name in candidates if (root / name).is_file()]
    if not present:
        known = ", ".join(list_migrations(root)) or "none"
        raise ConfigError(
            f"no migration {wanted!r}: expected {candidates[0]} (migrations here: {known})"
        )
    if len(present) > 1:
        raise ConfigError(
            f"migration {wanted!r} is defined twice ({' and '.join(present)}): keep one",
            Location(present[1]),
        )
    return root / present[0], present[0]


def load_migration(root: Path, wanted: str, schemas: ValueSchemas | None = None) -> MigrationFile:
    """The migration ``wanted`` (its id, or the path of its file) of the repository at
    ``root``; ``ConfigError`` naming file, line and field when it is wrong."""
    if wanted.endswith(_SUFFIXES):
        wanted = wanted.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if not ID_PATTERN.match(wanted):
        raise ConfigError(f"{wanted!r} is not a migration id (the file name without .yaml)")
    path, file = _path_of(root, wanted)
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        raise ConfigError(f"cannot read the migration: {reason}", Location(file)) from None
    document, problems = parse_yaml(text, file)
    if document is not None and not problems:
        problems = migration_problems(document.value, document.node, file, schemas)
    error = first_errors(problems)
    if error is not None:
        raise error
    assert document is not None and isinstance(document.value, dict)
    migration, _issues = migration_from_document(wanted, file, document.value)
    migration = with_lines(migration, document.node)
    return MigrationFile(migration, "sha256:" + hashlib.sha256(data).hexdigest())


def with_lines(migration: Migration, node: Node | None) -> Migration:
    """``migration`` knowing the line of each step (diagnostics name it)."""
    lines = {}
    for index in range(len(migration.steps)):
        place = locate(node, ["transform", str(index)])
        if place is not None:
            lines[index + 1] = place[0]
    return replace(migration, lines=lines)
