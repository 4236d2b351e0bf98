"""``dsgit doctor``: is an environment ready to use? (docs/doctor.md)"""

from __future__ import annotations

import json
from pathlib import Path

import click

from dsgit.cli.context import AppContext, env_option, format_option, pass_app
from dsgit.doctor import DoctorReport, Status, diagnose
from dsgit.errors import EXIT_ERROR, EXIT_OK, DsgitError
from dsgit.model.configs import CONFIGS_DIR
from dsgit.remote.connect import open_client

__all__ = ["COMMANDS", "doctor_command", "render_text"]


def render_text(report: DoctorReport) -> str:
    """The checks, then every scope and what each command lacks, then the verdict."""
    lines = [
        f"dsgit doctor: environment {report.environment} (universe {report.universe_id}), "
        f"{report.target}"
    ]
    lines += [f"  {c.status.value:<5} {c.name:<7} {c.detail}" for c in report.checks]
    lines.append("Scopes (from the x-roblox-scopes of the operations dsgit sends):")
    width = max(len(scope) for scope, _, _ in report.scopes)
    lines += [
        f"  {state.value:<10}  {scope:<{width}}  {via}" for scope, state, via in report.scopes
    ]
    lines.append("Commands:")
    named = max(len(command.command) for command in report.commands)
    for command in report.commands:
        if command.denied:
            detail = f"denied: {', '.join(command.denied)}"
        elif command.unknown:
            detail = f"not known: {', '.join(command.unknown)}"
        else:
            detail = "every scope it needs is granted"
        lines.append(f"  {command.status.value:<5} {command.command:<{named}} {detail}")
    failed = [c.name for c in report.checks if c.status is Status.FAIL]
    if failed:
        lines.append(f"Not healthy: {', '.join(failed)} failed.")
    else:
        lines.append("Healthy.")
    return "\n".join(lines)


def _declares(app: AppContext) -> tuple[bool, bool]:
    """Whether the repository declares an ordered store, and a configs repository (both True
    when it cannot be read: then every scope counts)."""
    from dsgit.model.entry import StoreKind
    from dsgit.repo import load_declaration

    try:
        declaration = load_declaration(app.root)
    except DsgitError:
        return True, True
    ordered = any(kind is StoreKind.ORDERED for kind, _ in declaration.stores)
    return ordered, _declares_configs(app.root)


def _declares_configs(root: Path) -> bool:
    """A ``configs/<repository>.yaml``, or erasure templates (published to DataStoresConfig)."""
    if any((root / CONFIGS_DIR).glob("*.yaml")):
        return True
    erasure = root / "policies" / "erasure.yaml"
    try:
        return "user_data_templates" in erasure.read_text(encoding="utf-8")
    except OSError:
        return False


@click.command("doctor", short_help="Check an environment: key, scopes, a read, budget.")
@env_option
@format_option("text", "json")
@pass_app
def doctor_command(app: AppContext, env_name: str | None, output_format: str) -> None:
    """Check that an environment is ready to use.

    Reports whether its API key is set (never the key), which Open Cloud scopes the key
    grants against those each dsgit command needs (probed with cheap reads; write scopes
    are not probed, doctor never writes), the result of one real read, and the rate budget
    in effect.

    \b
    Exit codes:
      0  healthy
      1  a check failed (no key, the read failed, a scope plan needs is denied)
    """
    env = app.environment(env_name)
    ordered, configs = _declares(app)
    report = diagnose(env, lambda: open_client(env), ordered_stores=ordered, configs=configs)
    if output_format == "json":
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(report))
    raise click.exceptions.Exit(EXIT_OK if report.healthy else EXIT_ERROR)


COMMANDS = [doctor_command]
