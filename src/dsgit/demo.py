"""``make demo`` (``python -m dsgit.demo``): the whole dsgit loop on the example repository.

In a fresh folder (a temporary one, removed at the end, or ``--dir``): create the obby-tycoon
example in a git repository, let "game servers" write live data that differs from it, then
validate, plan, apply, plan again, change a file, plan and apply that, roll back to the first
commit, revert the change in git so git and live data agree again (a last plan finds no
changes, and the demo says it converged), and check the audit ledger. Every ``dsgit`` command
is printed as ``$ dsgit ...`` with its real output; the embedded emulator stands in for Roblox
(no network, no key).

Exits 1 as soon as a step's exit code is not the one expected.
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from contextlib import chdir, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import click

from dsgit.errors import EXIT_CHANGES, EXIT_OK, DsgitError
from dsgit.model.entry import Address, EntryData, JSONValue

__all__ = ["DemoFailed", "main", "run_demo"]

EXAMPLE = "obby-tycoon"
GAME = "game"
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "dsgit demo",
    "GIT_AUTHOR_EMAIL": "demo@example.invalid",
    "GIT_COMMITTER_NAME": "dsgit demo",
    "GIT_COMMITTER_EMAIL": "demo@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,  # a user's signing or hook settings must not interfere
}
_ELIDED = "    …"
_SUPPRESSION = """\
suppress:
  - code: DSP002
    reason: Bans live in git; a ban without a file was added by hand and is lifted.
"""


class DemoFailed(DsgitError):
    """A step of the demo did not exit as expected (the message says which)."""


@dataclass
class Demo:
    """Runs and prints the steps; ``subprocess`` runs the installed ``dsgit`` instead of
    calling the CLI in this process."""

    folder: Path
    out: TextIO
    subprocess: bool = False
    step: int = 0
    commands: list[tuple[str, int]] = field(default_factory=list)
    converged: bool = False  # the last plan found git and live data equal

    @property
    def root(self) -> Path:
        return self.folder / GAME

    # --- printing ------------------------------------------------------------------------------
    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def heading(self, title: str) -> None:
        self.step += 1
        self.say()
        self.say(f"== {self.step}. {title} ==")

    def show(self, output: str, only: Sequence[str] = ()) -> None:
        """Print ``output``; with ``only``, just the lines holding one of those strings and the
        last three (the summary), marking where lines were left out."""
        lines = output.rstrip("\n").splitlines()
        if only:
            keep = {i for i, line in enumerate(lines) if any(s in line for s in only)}
            keep |= set(range(max(0, len(lines) - 3), len(lines)))
            shown: list[str] = []
            for index, line in enumerate(lines):
                if index in keep:
                    shown.append(line)
                elif not shown or shown[-1] != _ELIDED:
                    shown.append(_ELIDED)
            lines = shown
        for line in lines:
            self.say(line)

    # --- running -------------------------------------------------------------------------------
    def dsgit(
        self,
        *args: str,
        expect: int = EXIT_OK,
        cwd: Path | None = None,
        only: Sequence[str] = (),
    ) -> str:
        """Run ``dsgit ARGS`` in the repository; print it and its output (``only``: an excerpt,
        see :meth:`show`); check the exit code."""
        where = cwd or self.root
        self.say(f"$ dsgit {shlex.join(args)}")
        if self.subprocess:
            code, output = _run_installed(args, where)
        else:
            code, output = _run_in_process(args, where)
        self.show(output, only)
        self.commands.append((shlex.join(args), code))
        if code != expect:
            raise DemoFailed(f"`dsgit {shlex.join(args)}` exited {code}, expected {expect}")
        return output

    def git(self, *args: str) -> str:
        self.say(f"$ git {shlex.join(args)}")
        env = {**os.environ, **_GIT_ENV}
        done = subprocess.run(
            ["git", *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        self.show(done.stdout + done.stderr)
        if done.returncode != 0:
            raise DemoFailed(f"`git {shlex.join(args)}` exited {done.returncode}")
        return done.stdout


def _run_in_process(args: Sequence[str], cwd: Path) -> tuple[int, str]:
    from dsgit.cli.main import main as dsgit_main

    buffer = io.StringIO()
    code = EXIT_OK
    # chdir, not -C: file arguments (-o plan.json) are relative to the working directory.
    with chdir(cwd), redirect_stdout(buffer), redirect_stderr(buffer):
        try:
            dsgit_main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, buffer.getvalue()


def _run_installed(args: Sequence[str], cwd: Path) -> tuple[int, str]:
    program = shutil.which("dsgit") or str(Path(sys.executable).with_name("dsgit"))
    env = {**os.environ, "NO_COLOR": "1", "DSGIT_ACTOR": os.environ.get("DSGIT_ACTOR", "demo")}
    done = subprocess.run(
        [program, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    return done.returncode, done.stdout


# --- the game servers ----------------------------------------------------------------------------


def _declared(root: Path, address: Address) -> EntryData:
    from dsgit.repo import load_declaration

    data = load_declaration(root).data(address)
    if data is None:
        raise DemoFailed(f"the example does not declare {address}")
    return data


def _with(value: JSONValue, **changes: JSONValue) -> JSONValue:
    assert isinstance(value, dict)
    return {**value, **changes}


def game_server_writes(root: Path) -> list[str]:
    """Write live data as running game servers would; returns what was done, one line each."""
    from dsgit.config import load_project_config
    from dsgit.emulator import Emulator
    from dsgit.remote.testing import emulated_client

    env = load_project_config(root).environment("local")
    assert env.emulator is not None
    env.emulator.parent.mkdir(parents=True, exist_ok=True)
    shop = _declared(root, Address.standard("ShopCatalog", "speed_coil"))
    profile = _declared(root, Address.standard("PlayerStore", "12345"))
    other = _declared(root, Address.standard("PlayerStore", "67890"))
    value = profile.value
    assert isinstance(value, dict) and isinstance(value["Data"], dict)
    played = _with(value, Data=_with(value["Data"], Coins=2410, Stage=29))
    done = []
    with (
        Emulator(db=env.emulator) as emulator,
        emulated_client(emulator, universe_id=env.universe_id) as client,
    ):
        client.create_entry(
            "ShopCatalog", "speed_coil", EntryData(_with(shop.value, price=300), shop.attributes)
        )
        done.append("ShopCatalog/speed_coil: a live-ops script raised the price to 300")
        client.create_entry(
            "Bans",
            "999",
            EntryData(
                {
                    "reason": "spamming",
                    "banned_at": "2025-06-01T12:00:00Z",
                    "expires_at": None,
                    "moderator_note": "added by hand in the admin panel",
                },
                {},
                (999,),
            ),
        )
        done.append("Bans/999: a moderator banned user 999 from the in-game admin panel")
        client.create_entry("PlayerStore", "12345", EntryData(played, {}, profile.users))
        client.create_entry("PlayerStore", "67890", other)
        done.append("PlayerStore/12345, 67890: two players joined; 12345 is still playing")
        client.create_ordered("Leaderboard_Wins", "12345", 190)
        done.append("ordered Leaderboard_Wins/12345: player 12345 has 190 wins")
    return done


# --- the story -----------------------------------------------------------------------------------


def run_demo(folder: Path, out: TextIO, *, use_subprocess: bool = False) -> Demo:
    """Run every step in ``folder`` (which must not hold a ``game`` folder yet)."""
    demo = Demo(folder, out, subprocess=use_subprocess)
    root = demo.root
    if root.exists():
        raise DemoFailed(f"{root} already exists; give an empty --dir")
    folder.mkdir(parents=True, exist_ok=True)

    demo.heading("Create a data repository from the example")
    demo.dsgit("init", GAME, "--example", EXAMPLE, cwd=folder)
    demo.git("init", "--quiet")
    demo.git("add", "--all")
    demo.git("commit", "--quiet", "-m", "obby-tycoon DataStores as code")
    first = demo.git("rev-parse", "--short", "HEAD").strip()

    demo.heading("Meanwhile, game servers write live data")
    for line in game_server_writes(root):
        demo.say(f"  game server: {line}")

    demo.heading("Validate the repository (offline)")
    demo.dsgit("validate")

    demo.heading("Plan: git against live data")
    demo.say("(the hand-added ban is pruned, which blocks the plan until a reviewer allows it)")
    demo.dsgit("plan")

    demo.heading("Allow the prune with a reviewed suppression")
    store_file = root / "datastores" / "Bans" / "_store.yaml"
    store_file.write_text(store_file.read_text(encoding="utf-8") + _SUPPRESSION, "utf-8")
    demo.git("diff")
    demo.git("commit", "--quiet", "-am", "Lift bans that have no file")

    demo.heading("Plan again and save the plan")
    demo.say("(the same plan as in step 4, now with the prune allowed; excerpt)")
    demo.dsgit("plan", "-o", "plan.json", only=("dsgit plan for", "Bans/global/999", "DSP002"))

    demo.heading("Apply exactly that plan")
    demo.dsgit("apply", "plan.json")

    demo.heading("Plan again: nothing left to do")
    demo.dsgit("plan", "--detailed-exitcode", expect=EXIT_OK)

    demo.heading("Change a file: the VIP pass goes on sale")
    item = root / "datastores" / "ShopCatalog" / "global" / "vip_pass.yaml"
    item.write_text(item.read_text(encoding="utf-8").replace("price: 199", "price: 149"), "utf-8")
    demo.git("diff")
    demo.git("commit", "--quiet", "-am", "VIP pass sale")
    demo.dsgit("plan", "-o", "sale.json", "--detailed-exitcode", expect=EXIT_CHANGES)
    demo.dsgit("apply", "sale.json")
    demo.dsgit("get", "ShopCatalog", "vip_pass")

    demo.heading(f"Roll back to the first commit ({first})")
    demo.dsgit("rollback", "--to", first, "-o", "rollback.json")
    demo.dsgit("apply", "rollback.json")
    demo.dsgit("get", "ShopCatalog", "vip_pass")

    demo.heading("Bring git in line with the rollback: git and live data agree")
    demo.git("revert", "--no-edit", "HEAD")
    demo.dsgit("plan", "--detailed-exitcode", expect=EXIT_OK)
    demo.converged = True

    demo.heading("Check the audit ledger")
    demo.dsgit("audit", "verify")
    demo.dsgit("audit", "log")
    return demo


@click.command(
    "demo",
    help="Run the dsgit loop on the example repository against the embedded emulator.",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Work in this folder and keep it (default: a temporary folder, removed at the end).",
)
@click.option(
    "--subprocess",
    "use_subprocess",
    is_flag=True,
    help="Run the installed `dsgit` program for each step instead of calling it in process.",
)
def main(directory: Path | None, use_subprocess: bool) -> None:
    folder = directory or Path(tempfile.mkdtemp(prefix="dsgit-demo-"))
    try:
        demo = run_demo(folder.resolve(), sys.stdout, use_subprocess=use_subprocess)
    except DemoFailed as exc:
        click.echo(f"\ndemo failed: {exc}", err=True)
        raise SystemExit(1) from None
    finally:
        if directory is None:
            shutil.rmtree(folder, ignore_errors=True)
    where = f"in {folder}" if directory is not None else "(temporary folder removed)"
    click.echo(
        f"\nDemo finished: {len(demo.commands)} dsgit commands, each exited as expected {where}."
    )
    if demo.converged:
        click.echo("Converged: git and live data agree (the last `dsgit plan` found no changes).")


if __name__ == "__main__":
    main()
