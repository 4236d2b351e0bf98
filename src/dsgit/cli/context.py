"""State shared by every command: where it runs, debug mode, and lazily loaded project config."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from dsgit.cli.complete import complete_environments
from dsgit.config import Environment, ProjectConfig, find_root, load_project_config

__all__ = ["AppContext", "env_option", "format_option", "pass_app"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class AppContext:
    cwd: Path
    debug: bool = False
    _config: ProjectConfig | None = field(default=None, repr=False)

    @property
    def root(self) -> Path:
        return self.config.root

    @property
    def config(self) -> ProjectConfig:
        if self._config is None:
            self._config = load_project_config(find_root(self.cwd))
        return self._config

    def environment(self, name: str | None) -> Environment:
        return self.config.environment(name)


pass_app = click.make_pass_decorator(AppContext)

env_option = click.option(
    "-e",
    "--env",
    "env_name",
    default=None,
    metavar="NAME",
    shell_complete=complete_environments,
    help="Environment from dsgit.yaml (default: default_environment).",
)


def format_option(*choices: str, default: str = "text") -> Callable[[F], F]:
    """``--format`` with the given choices."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format.",
    )
