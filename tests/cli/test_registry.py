"""The lazy command table in cli/main.py names every command, each from the module defining it."""

from __future__ import annotations

import importlib
import pkgutil

import click
from click.testing import CliRunner

import dsgit.cli
from dsgit.cli.main import COMMAND_MODULES, cli


def test_table_matches_the_modules() -> None:
    defined: dict[str, str] = {}
    for info in pkgutil.iter_modules(dsgit.cli.__path__):
        module = importlib.import_module(f"dsgit.cli.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            assert isinstance(command, click.Command)
            assert command.name not in defined, f"{command.name} defined twice"
            defined[str(command.name)] = info.name
    assert defined == COMMAND_MODULES


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for name in COMMAND_MODULES:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage: " in result.output and name in result.output


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["nope"])
    assert result.exit_code == 2 and "No such command" in result.output
