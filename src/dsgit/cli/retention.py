"""``dsgit retention plan``: plan the deletions ``policies/retention.yaml`` asks for
(docs/lifecycle.md, "Retention")."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from dsgit.cli.context import AppContext, pass_app
from dsgit.cli.plan_output import PlanOutput, finish_plan, plan_output_options

__all__ = ["COMMANDS", "default_checkpoint", "retention_group", "scan_options"]


def scan_options(function: click.decorators.FC) -> click.decorators.FC:
    """The checkpoint options of every command built on the live scan."""
    for decorator in reversed(
        [
            click.option(
                "--checkpoint",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="The scan's checkpoint file (default .dsgit/scans/<command>-<env>.json); "
                "a killed scan started again resumes from it.",
            ),
            click.option(
                "--restart", is_flag=True, help="Discard the checkpoint and scan from the start."
            ),
            click.option(
                "--checkpoint-every",
                "every_entries",
                type=click.IntRange(min=1),
                default=1000,
                show_default=True,
                metavar="N",
                help="Save the checkpoint every N entries…",
            ),
            click.option(
                "--checkpoint-seconds",
                "every_seconds",
                type=click.FloatRange(min=0.1),
                default=30.0,
                show_default=True,
                metavar="S",
                help="…or every S seconds, whichever comes first.",
            ),
        ]
    ):
        function = decorator(function)
    return function


def default_checkpoint(root: Path, command: str, env: str, shard: object) -> Path:
    """``.dsgit/scans/<command>-<env>[-shard-K-of-N].json``."""
    suffix = f"-shard-{str(shard).replace('/', '-of-')}" if shard is not None else ""
    return root / ".dsgit" / "scans" / f"{command}-{env}{suffix}.json"


@click.group("retention", short_help="Plan deletions from policies/retention.yaml.")
def retention_group() -> None:
    """Retention: how long live data lives (policies/retention.yaml)."""


@retention_group.command(
    "plan",
    short_help="Scan live data and plan the deletions the rules choose.",
    help="""Scan the live entries the retention rules select and plan the deletions they choose.

RULE names rules of policies/retention.yaml (default: every rule). The plan is an ordinary plan
(kind `retention`): show, approve, apply and revert it as any other. Entries a game server holds
(ProfileService / ProfileStore session locks) are left out and retried by a later run, unless
--allow DSP005=REASON is given. The scan checkpoints as it goes: run the same command again
after a kill or Ctrl-C to resume. With --shard K/N the scan reads only shard K's entries, with
share/N of the environment's budget; `dsgit plan combine` joins the N shard plans.

\b
Exit codes:
  0  plan made (no changes, or changes without --detailed-exitcode)
  1  error (a rule over max_deletes, a failed listing or read: the scan resumes next run)
  2  changes found, with --detailed-exitcode
  130 interrupted (the checkpoint is saved)
""",
)
@click.argument("rules", nargs=-1, metavar="[RULE]...")
@scan_options
@plan_output_options
@pass_app
def retention_plan_command(
    app: AppContext,
    rules: tuple[str, ...],
    checkpoint: Path | None,
    restart: bool,
    every_entries: int,
    every_seconds: float,
    output: PlanOutput,
) -> None:
    from dsgit.cli.scan_progress import ScanProgress
    from dsgit.plan.targets import AddressFilter
    from dsgit.remote.connect import open_client
    from dsgit.repo import load_declaration
    from dsgit.retention import RetentionRequest, load_retention, plan_retention
    from dsgit.scan import Shard

    # --shard (of the plan options): the scan reads only this shard's entries, with share/N
    # of the budget, so the plan holds exactly this shard's changes.
    shard = Shard.of(output.shard) if output.shard is not None else None
    env = app.environment(output.env_name)
    policy = load_retention(app.root)
    declaration = load_declaration(app.root)
    if shard is not None:
        env = replace(env, budget=shard.budget(env.budget))
    request = RetentionRequest(
        env.name,
        env.universe_id,
        rules=rules,
        allow_locked=any(allowance.code == "DSP005" for allowance in output.allowances),
        shard=shard,
        checkpoint=checkpoint or default_checkpoint(app.root, "retention", env.name, shard),
        restart=restart,
        every_entries=every_entries,
        every_seconds=every_seconds,
        expires_in=output.expires_in,
        select=AddressFilter(output.targets, output.excludes),
    )
    progress = ScanProgress("retention", env.name)
    try:
        with open_client(env) as client:
            run = plan_retention(
                client, policy, request, declaration=declaration, observer=progress
            )
    except KeyboardInterrupt:
        progress.close()
        click.echo(
            f"retention: interrupted; the scan resumes from {request.checkpoint} next run",
            err=True,
        )
        raise
    progress.close()
    try:
        finish_plan(run.plan, output)
    except click.exceptions.Exit:
        run.done()  # the plan is out (saved when asked): the finished scan is not needed
        raise


COMMANDS = [retention_group]
