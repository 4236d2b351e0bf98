"""Which commit a working tree is at, whether it is dirty, and reading a commit's tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dsgit.errors import ConfigError
from dsgit.model.layout import DATASTORES_DIR, ORDERED_DIR, OTHER_YAML_DIRS, PROJECT_FILE
from dsgit.repo.source import GitSource

__all__ = ["DECLARATION_PATHS", "commit_source", "worktree_state"]

# What the declaration is read from. Other files (audit/ written by apply, plan files, README)
# do not make a plan's source "dirty".
DECLARATION_PATHS = (PROJECT_FILE, DATASTORES_DIR, ORDERED_DIR, "schemas", *OTHER_YAML_DIRS)


def _open(root: Path) -> Any | None:
    import git

    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def _prefix(repo: Any, root: Path) -> str:
    top = Path(repo.working_tree_dir).resolve()
    return root.resolve().relative_to(top).as_posix().removeprefix(".")


def worktree_state(root: Path) -> tuple[str | None, bool]:
    """``(HEAD commit, dirty)`` of the repository holding ``root``; ``(None, True)`` outside git.

    Dirty means a declaration file under ``root`` (``DECLARATION_PATHS``) differs from HEAD,
    untracked files included.
    """
    repo = _open(root)
    if repo is None or repo.working_tree_dir is None:
        return None, True
    try:
        commit = repo.head.commit.hexsha
    except ValueError:  # no commit yet
        return None, True
    prefix = _prefix(repo, root).strip("/")
    paths = [f"{prefix}/{path}" if prefix else path for path in DECLARATION_PATHS]
    status = repo.git.status("--porcelain", "--untracked-files=all", "--", *paths)
    return commit, bool(status.strip())


def commit_source(root: Path, commit: str) -> tuple[GitSource, str]:
    """The files of ``commit`` (any revision git understands) and its full hash."""
    import git

    repo = _open(root)
    if repo is None or repo.working_tree_dir is None:
        raise ConfigError(f"{root} is not inside a git repository")
    try:
        resolved = repo.commit(commit)
    except (git.BadName, ValueError, git.GitCommandError):
        raise ConfigError(f"unknown commit {commit!r}") from None
    return GitSource(repo, resolved.hexsha, _prefix(repo, root)), resolved.hexsha
