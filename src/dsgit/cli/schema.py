"""``dsgit schema infer STORE``: a JSON Schema inferred from sampled live values (§14)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dsgit.cli.complete import complete_stores
from dsgit.cli.context import AppContext, env_option, format_option, pass_app
from dsgit.errors import DsgitError

if TYPE_CHECKING:
    from dsgit.insight.schema_infer import Inferred

__all__ = ["COMMANDS", "schema_group"]


@click.group("schema", short_help="Work with the JSON Schemas of stores.")
def schema_group() -> None:
    """JSON Schemas of stores: `dsgit schema infer STORE` drafts one from live values."""


@schema_group.command("infer", short_help="Infer a JSON Schema from sampled live values.")
@click.argument("store", shell_complete=complete_stores)
@click.option(
    "--scope", default="global", show_default=True, metavar="SCOPE", help="Scope to sample."
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    metavar="N",
    help="Values to sample (chosen uniformly while listing every key).",
)
@click.option(
    "--required",
    "required_share",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=1.0,
    show_default=True,
    metavar="SHARE",
    help="A property present in at least this share of the sampled objects is required.",
)
@click.option("--no-enums", is_flag=True, help="Never turn small sets of strings into enums.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the schema to FILE (e.g. schemas/player.schema.json) instead of stdout.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@env_option
@format_option("text", "json")
@pass_app
def infer(
    app: AppContext,
    store: str,
    scope: str,
    sample: int,
    required_share: float,
    no_enums: bool,
    output: Path | None,
    quiet: bool,
    env_name: str | None,
    output_format: str,
) -> None:
    """Sample STORE and write a JSON Schema (draft 2020-12) that its values match: types,
    required properties by frequency, small string enums, numeric ranges, nested objects and
    arrays, maps keyed by ids as `additionalProperties`. Then check the sample against it and
    say how much of it conforms.

    \b
    dsgit schema infer PlayerStore -o schemas/player.schema.json
    # then, in datastores/PlayerStore/_store.yaml:  schema: schemas/player.schema.json
    """
    from dsgit.cli.scan import ScanProgress
    from dsgit.insight.infer import InferOptions
    from dsgit.insight.schema_infer import infer_store_schema
    from dsgit.remote.connect import open_client
    from dsgit.repo import load_declaration
    from dsgit.yamlio.atomic import write_atomic

    env = app.environment(env_name)
    declaration = load_declaration(app.root)
    options = InferOptions(required_share=required_share, enums=not no_enums)
    with open_client(env) as client:
        inferred = infer_store_schema(
            client,
            store,
            scope=scope,
            sample=sample,
            options=options,
            declaration=declaration,
            observer=None if quiet else ScanProgress(store),
        )
    if not inferred.sampled:
        raise DsgitError(f"data store {store!r} has no entries in scope {scope!r} to learn from")
    text = json.dumps(inferred.schema, indent=2, ensure_ascii=False) + "\n"
    summary = (
        f"{inferred.sampled:,} of {inferred.keys:,} values sampled; "
        f"{inferred.conformance:.1%} of the sample conforms to the inferred schema"
    )
    if output is not None:
        target = output if output.is_absolute() else app.cwd / output
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, text)
        except OSError as exc:
            raise DsgitError(f"cannot write {output}: {exc.strerror}") from None
        try:
            reference = target.resolve().relative_to(app.root.resolve()).as_posix()
        except ValueError:
            reference = str(output)
        hint = f"reference it from datastores/{store}/_store.yaml as `schema: {reference}`"
        if output_format == "json":
            click.echo(json.dumps(_body(inferred) | {"file": reference}, indent=2))
        else:
            click.echo(f"wrote {reference}: {summary}; {hint}")
        return
    if output_format == "json":
        click.echo(json.dumps(_body(inferred) | {"schema": inferred.schema}, indent=2))
    else:
        click.echo(text, nl=False)
        click.echo(summary, err=True)


def _body(inferred: Inferred) -> dict[str, object]:
    return {
        "store": inferred.store,
        "keys": inferred.keys,
        "sampled": inferred.sampled,
        "conforming": inferred.conforming,
        "conformance": round(inferred.conformance, 4),
    }


COMMANDS = [schema_group]
