"""The data repository: reading, checking and scaffolding it (DESIGN.md §1).

- :func:`load_declaration` / :func:`load_declaration_at` read the working tree or one commit
  into a :class:`~dsgit.model.declaration.Declaration`, raising
  :class:`~dsgit.errors.ConfigError` (file:line:col and code) on the first error;
- :func:`validate_repository` returns every problem instead (``dsgit validate``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dsgit.crypto import Keyring
from dsgit.errors import ConfigError
from dsgit.model.declaration import Declaration
from dsgit.repo.entry_schemas import stale_entry_schemas
from dsgit.repo.git_state import commit_source, worktree_state
from dsgit.repo.loader import RepositoryReading, read_repository
from dsgit.repo.problems import CODES, Problem, Severity
from dsgit.repo.source import WorktreeSource
from dsgit.repo.value_schemas import ValueSchemas

__all__ = [
    "CODES",
    "Problem",
    "RepositoryReading",
    "Severity",
    "ValueSchemas",
    "load_declaration",
    "load_declaration_at",
    "load_repository",
    "read_worktree",
    "validate_repository",
]


def read_worktree(root: Path, *, keyring: Keyring | None = None) -> RepositoryReading:
    """Read the working tree under ``root``: the declaration and every problem."""
    commit, dirty = worktree_state(root)
    return read_repository(WorktreeSource(root), keyring=keyring, commit=commit, dirty=dirty)


def _first_error(reading: RepositoryReading, label: str) -> Declaration:
    errors = reading.errors
    if errors:
        more = f" (and {len(errors) - 1} more: run `dsgit validate`)" if len(errors) > 1 else ""
        error = errors[0]
        raise ConfigError(
            f"{error.code} {error.message}{more}",
            error.to_error(label).location,
        )
    return reading.declaration


def load_repository(root: Path) -> RepositoryReading:
    """The working tree under ``root`` with its configs files, raising on the first error."""
    reading = read_worktree(root)
    _first_error(reading, "")
    return reading


def load_declaration(root: Path) -> Declaration:
    """The declaration in the working tree under ``root``."""
    return _first_error(read_worktree(root), "")


def load_declaration_at(root: Path, commit: str) -> Declaration:
    """The declaration as it was at ``commit``, read from git objects (no checkout)."""
    source, full = commit_source(root, commit)
    reading = read_repository(source, commit=full, dirty=False)
    return _first_error(reading, f"{full[:12]}:")


def validate_repository(root: Path, *, keyring: Keyring | None = None) -> RepositoryReading:
    """Every problem of the working tree (with ``keyring``, encrypted values are verified).

    Only files are read: the git state (``declaration.source.commit``) is not looked up.
    Generated entry schemas out of step with the stores are DS110 warnings.
    """
    reading = read_repository(WorktreeSource(root), keyring=keyring)
    stale = stale_entry_schemas(root, reading.declaration)
    if not stale:
        return reading
    problems = tuple(sorted((*reading.problems, *stale), key=_problem_order))
    return replace(reading, problems=problems)


def _problem_order(problem: Problem) -> tuple[str, int, int, str, str]:
    return (problem.file, problem.line or 0, problem.column or 0, problem.code, problem.message)
