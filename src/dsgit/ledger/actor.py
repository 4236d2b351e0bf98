"""Who an apply is recorded as: an explicit ``DSGIT_ACTOR``, the CI's actor, or the git identity.

Never the operating system's user name: on a shared runner or a laptop that says nothing about
who approved a change to live data. In order:

1. ``DSGIT_ACTOR`` — set it when dsgit runs for someone (a bot, a wrapper script);
2. ``GITHUB_ACTOR`` — in GitHub Actions, the user who triggered the run (the git identity of a
   runner is usually a bot committing the ledger);
3. the git identity of the repository: ``user.name <user.email>``, as git would use it for a
   commit (``GIT_AUTHOR_NAME``/``GIT_AUTHOR_EMAIL`` first, then ``git config``);
4. otherwise ``unknown`` (and :attr:`Actor.source` ``none``), which ``audit log`` shows as such.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

__all__ = ["ACTOR_ENV", "Actor", "git_config", "resolve_actor"]

ACTOR_ENV = "DSGIT_ACTOR"
CI_ACTOR_ENV = "GITHUB_ACTOR"
UNKNOWN = "unknown"


class Actor(str):
    """The actor's name as recorded (a ``str``), with :attr:`source` saying where it came from:
    ``DSGIT_ACTOR``, ``GITHUB_ACTOR``, ``git`` or ``none``."""

    source: str

    def __new__(cls, name: str, source: str) -> Actor:
        made = super().__new__(cls, name)
        made.source = source
        return made


def git_config(root: Path | None, name: str) -> str | None:
    """``git config --get NAME`` in ``root``; None when unset or git is not there."""
    try:
        done = subprocess.run(
            ["git", "config", "--get", name],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip()
    return value if done.returncode == 0 and value else None


def resolve_actor(
    root: Path | None,
    environ: Mapping[str, str] | None = None,
    config: Callable[[Path | None, str], str | None] = git_config,
) -> Actor:
    env = os.environ if environ is None else environ
    explicit = env.get(ACTOR_ENV, "").strip()
    if explicit:
        return Actor(explicit, ACTOR_ENV)
    ci = env.get(CI_ACTOR_ENV, "").strip()
    if ci:
        return Actor(ci, CI_ACTOR_ENV)
    name = env.get("GIT_AUTHOR_NAME", "").strip() or config(root, "user.name")
    email = env.get("GIT_AUTHOR_EMAIL", "").strip() or config(root, "user.email")
    if name and email:
        return Actor(f"{name} <{email}>", "git")
    if name or email:
        return Actor(name or f"<{email}>", "git")
    return Actor(UNKNOWN, "none")
