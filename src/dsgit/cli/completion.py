"""``dsgit completion bash|zsh|fish``: the script that makes a shell complete dsgit.

The script is click's own (``click.shell_completion``): on Tab the shell runs ``dsgit`` again
with ``_DSGIT_COMPLETE`` set, and dsgit answers with the commands, options and values
(environments, plan files, stores: ``dsgit.cli.complete``) that fit the word being typed.
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

__all__ = ["COMMANDS", "COMPLETE_VAR", "SHELLS", "completion", "completion_script"]

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_DSGIT_COMPLETE"  # click's default for the program name `dsgit`

_INSTALL = {
    "bash": 'eval "$(dsgit completion bash)"   # in ~/.bashrc (bash 4.4 or later)',
    "zsh": 'eval "$(dsgit completion zsh)"    # in ~/.zshrc, after compinit',
    "fish": "dsgit completion fish > ~/.config/fish/completions/dsgit.fish",
}


def completion_script(shell: str) -> str:
    """The completion script of ``shell`` for the ``dsgit`` command."""
    from dsgit.cli.main import cli

    completion_class = get_completion_class(shell)
    if completion_class is None:  # click.Choice already refused it
        raise click.UsageError(f"no completion for shell {shell!r}")
    return completion_class(cli, {}, "dsgit", COMPLETE_VAR).source()


@click.command(
    "completion",
    short_help="Print the shell completion script (bash, zsh, fish).",
    epilog="\b\nInstall:\n" + "\n".join(f"  {line}" for line in _INSTALL.values()),
)
@click.argument("shell", metavar="SHELL", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the script that makes SHELL (bash, zsh or fish) complete dsgit's commands,
    options, environment names (-e/--env), plan files (PLAN), stores, keys and addresses
    (STORE, KEY, --target, --exclude) and apply ids (revert APPLY).

    Load it from the shell's startup file (see Install below); it runs `dsgit` on each Tab,
    which reads only the repository's files, never live data or the network."""
    click.echo(completion_script(shell), nl=False)


COMMANDS = [completion]
