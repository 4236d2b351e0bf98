"""The ``dsgit`` entry point and the one error boundary that maps errors to exit codes."""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

import click

from dsgit import __version__
from dsgit.cli.context import AppContext
from dsgit.errors import EXIT_ERROR, EXIT_INTERRUPTED, DsgitError

__all__ = ["COMMAND_MODULES", "LazyGroup", "cli", "main"]

EXIT_CODES_HELP = """\b
Exit codes:
  0  success (plan: no changes)
  1  error
  2  plan or drift found changes (plan with --detailed-exitcode; drift always)
  3  refused by policy (missing approvals, blocked diagnostics)
  4  stale plan (digest, expiry or source commit)
  5  conflict (a live entry changed since the plan; nothing written to it)
  6  partial apply (run apply again to resume)
  130 interrupted
"""


# Command name -> module of dsgit.cli defining it (in its COMMANDS). Modules load only when
# their command runs, so `dsgit ls` does not import the planner, the emulator and the crypto.
COMMAND_MODULES: dict[str, str] = {
    "apply": "apply",
    "approvals": "approvals",
    "approve": "approvals",
    "audit": "audit",
    "codegen": "codegen",
    "completion": "completion",
    "doctor": "doctor",
    "drift": "plan",
    "emulator": "emulator",
    "get": "read",
    "github": "github",
    "history": "read",
    "import": "importing",
    "init": "init",
    "keys": "approvals",
    "lock": "lock",
    "ls": "read",
    "migrate": "migrate",
    "notify": "notify",
    "plan": "plan",
    "restore": "undo",
    "retention": "retention",
    "revert": "undo",
    "report": "report",
    "rollback": "undo",
    "scan": "scan",
    "schema": "schema",
    "secrets": "secrets",
    "show": "plan",
    "validate": "validate",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMAND_MODULES.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"dsgit.cli.{module_name}")
        for command in getattr(module, "COMMANDS", ()):
            if command.name == cmd_name:
                return command  # type: ignore[no-any-return]
        return None


@click.group(
    cls=LazyGroup,
    help="Roblox DataStores as code: plan, review, apply, audit and undo.\n\n" + EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="dsgit")
@click.option(
    "-C",
    "--chdir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run as if started in this folder (the repository root or below).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, directory: Path | None, debug: bool) -> None:
    if directory is not None:
        # As `git -C`: every relative path (plan files, key files) is relative to DIR.
        try:
            os.chdir(directory)
        except OSError as exc:
            raise click.UsageError(f"cannot change to {directory}: {exc.strerror}") from None
    ctx.obj = AppContext(cwd=Path.cwd(), debug=debug)


def _wants_json(args: list[str]) -> bool:
    """``--format json`` (or ``--format=json``) anywhere on the command line."""
    for index, arg in enumerate(args):
        if arg == "--format=json" or (
            arg == "--format" and args[index + 1 : index + 2] == ["json"]
        ):
            return True
    return False


def _json_error(message: str, kind: str, code: int) -> None:
    """With ``--format json``, a script reading stdout gets the error (or refusal) as JSON."""
    body = {"error": {"kind": kind, "message": message, "exit_code": code}}
    click.echo(json.dumps(body, sort_keys=True))


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; the only place that turns errors into messages and exit codes."""
    args = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in args
    try:
        code = cli.main(args=argv, prog_name="dsgit", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.UsageError as exc:
        # click exits 2 on usage errors, but 2 means "changes found" here (DESIGN.md §3).
        exc.show()
        if _wants_json(args):
            _json_error(exc.format_message(), "UsageError", EXIT_ERROR)
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except DsgitError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        if _wants_json(args) and not exc.already_reported:
            _json_error(str(exc), type(exc).__name__, exc.exit_code)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {exc}\n(run with --debug for a traceback)",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    sys.exit(code if isinstance(code, int) else 0)
