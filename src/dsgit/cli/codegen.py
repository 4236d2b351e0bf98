"""``dsgit codegen luau``: typed Luau modules for game code from the stores' JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dsgit.cli.context import AppContext, format_option, pass_app
from dsgit.errors import ValidationFailed

__all__ = ["COMMANDS", "codegen"]


def _module_name(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    from dsgit.codegen.identifiers import is_identifier

    if not is_identifier(value) or value == "init":
        raise click.BadParameter(f"{value!r} is not a Luau identifier (letters, digits, _)")
    return value


@click.group("codegen", short_help="Generate code for game servers (Luau types).")
def codegen() -> None:
    """Generate code that game servers require from the repository's declarations."""


@codegen.command(
    "luau",
    short_help="Write Luau types of every store's value schema.",
    epilog="\b\nExit codes:\n  0  written, or (--check) up to date\n"
    "  1  --check found stale, missing or extra files; or the repository has an error",
)
@click.option(
    "--out",
    "out",
    required=True,
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into (e.g. src/shared of a Rojo project); the modules go in "
    "DIR/<module>/.",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 listing the files that are stale, missing or extra "
    "(for CI and the pre-commit hook).",
)
@click.option(
    "--module",
    "module",
    default="DsgitTypes",
    show_default=True,
    metavar="NAME",
    callback=_module_name,
    help="Name of the generated folder (the ModuleScript game code requires).",
)
@format_option("text", "json")
@pass_app
def luau(app: AppContext, out: Path, check: bool, module: str, output_format: str) -> None:
    """Write DIR/<module>/init.luau (the store names as constants and every store's value
    type) and one DIR/<module>/<Store>.luau per standard store with a value schema (its
    exported types and name), from the JSON Schemas the stores' `_store.yaml` name.

    The output is deterministic: the same repository gives the same bytes, so the folder can
    be committed and checked with --check. Files dsgit generated earlier for stores that are
    gone are deleted; other files in the folder are left alone. See docs/codegen.md."""
    from dsgit.codegen.writer import run_luau

    target = out if out.is_absolute() else app.cwd / out
    run = run_luau(app.root, target, module, check=check)
    state = run.state
    if output_format == "json":
        body = {
            "out": str(out),
            "module": module,
            "check": check,
            "up_to_date": state.up_to_date,
            "files": sorted(run.modules.files),
            "unchanged": list(state.unchanged),
            "stale": list(state.stale),
            "missing": list(state.missing),
            "extra": list(state.extra),
            "stores": [
                {
                    "store": item.store,
                    "file": item.file,
                    "schemas": list(item.schemas),
                    "types": list(item.types),
                }
                for item in run.modules.stores
            ],
            "ordered_stores": list(run.modules.ordered),
            "stores_without_schema": list(run.modules.without_schema),
        }
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        verb = ("stale", "missing", "extra") if check else ("updated", "created", "deleted")
        for label, paths in zip(verb, (state.stale, state.missing, state.extra), strict=True):
            for path in paths:
                click.echo(f"{label}: {(out / path).as_posix()}")
        count = len(run.modules.files)
        if state.up_to_date:
            click.echo(f"{count} Luau files in {(out / module).as_posix()} are up to date.")
        elif not check:
            changed = len(state.stale) + len(state.missing) + len(state.extra)
            click.echo(f"Wrote {(out / module).as_posix()}: {changed} of {count} files changed.")
    if check and not state.up_to_date:
        changed = len(state.stale) + len(state.missing) + len(state.extra)
        raise ValidationFailed(
            f"{changed} generated Luau file{'s are' if changed != 1 else ' is'} out of date: "
            f"run `dsgit codegen luau --out {out.as_posix()}`"
            + (f" --module {module}" if module != "DsgitTypes" else "")
        )


COMMANDS = [codegen]
