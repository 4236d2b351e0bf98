"""``dsgit apply PLAN``: run a reviewed plan against its environment (docs/applying.md)."""

from __future__ import annotations

import json
import re
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

import click

from dsgit.apply import stop_points
from dsgit.apply.progress import ApplyPace, choose_progress
from dsgit.apply.result import ApplyResult, ApplyStatus
from dsgit.apply.run import ApplyDeps, ApplyOptions, apply_plan
from dsgit.approvals.check import ApprovalSources, check_plan_approvals
from dsgit.cli.approvals import approvals_paths_option, github_options, github_source
from dsgit.cli.complete import complete_plan_files
from dsgit.cli.context import AppContext, env_option, format_option, pass_app
from dsgit.config import Budget, Environment
from dsgit.crypto import load_keyring
from dsgit.errors import ConfigError, StalePlan
from dsgit.ledger.records import ChangeOutcome
from dsgit.ledger.signing import load_signer
from dsgit.model.declaration import Declaration
from dsgit.model.shard import Shard
from dsgit.plan.model import Plan, PlanKind
from dsgit.planfile import SegmentedPlan, read_any_plan
from dsgit.policy.verdict import Counted, Verdict
from dsgit.render.words import plural

__all__ = ["COMMANDS", "apply_command", "current_actor", "parse_duration"]

_DURATION = re.compile(r"^(\d+)(s|m|h)?$")


def parse_duration(text: str) -> timedelta:
    """``90``, ``90s``, ``2m``, ``1h``."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) <= 0:
        raise click.BadParameter(f"{text!r} is not a duration such as 90s, 2m or 1h")
    unit = {"s": "seconds", "m": "minutes", "h": "hours"}[match.group(2) or "s"]
    return timedelta(**{unit: int(match.group(1))})


def current_actor(root: Path | None = None) -> str:
    """Who is applying: ``DSGIT_ACTOR``, the GitHub actor in Actions, else the git identity of
    the repository at ``root`` (default: the current folder), never the OS user (see
    :func:`dsgit.ledger.actor.resolve_actor`); warns on stderr when that is nobody."""
    from dsgit.ledger.actor import resolve_actor

    actor = resolve_actor(root)
    if actor.source == "none":
        click.echo(
            "warning: the ledger will name nobody for this apply: configure git's user.name and "
            "user.email, or set DSGIT_ACTOR",
            err=True,
        )
    return actor


def _parse_shard(text: str | None) -> Shard | None:
    if text is None:
        return None
    try:
        return Shard.parse(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--shard") from None


def segmented_pace(
    plan: Plan, environment: str, budget: Budget | None, shard: Shard | None
) -> ApplyPace:
    """The ETA of a segmented apply from its manifest's summary (a shard takes 1/N)."""
    from dsgit.remote.budget import Operation

    summary = plan.summary
    share = shard.count if shard is not None else 1
    writes = sum(summary.get(name, 0) for name in ("create", "update", "increment")) // share
    removes = summary.get("delete", 0) // share
    return ApplyPace(environment, budget, {Operation.WRITE: writes, Operation.REMOVE: removes})


def _declaration_for(root: Path, plan: Plan) -> Declaration:
    """The declaration the plan must still match: the working tree, or the plan's commit for
    plans that undo (their source is an older commit)."""
    from dsgit.repo import load_declaration, load_declaration_at
    from dsgit.repo.git_state import commit_source

    commit = plan.source.commit
    if plan.kind is not PlanKind.PLAN and commit is not None and not plan.source.dirty:
        try:
            commit_source(root, commit)
        except ConfigError:
            # History rewritten, or a clone without it: what the plan was checked against
            # cannot be read back, so it cannot be applied (nothing is written).
            raise StalePlan(
                f"the plan's source commit {commit[:12]} is not in this repository (history "
                "rewritten, or a shallow clone); make a new plan"
            ) from None
        return load_declaration_at(root, commit)
    return load_declaration(root)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (a cancelled CI job) stops the apply like Ctrl-C: cleanly, resumable."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (embedded use): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_MAX_PENDING_LINES = 20


def _render_text(result: ApplyResult) -> str:
    lines: list[str] = []
    if result.already_complete:
        lines.append(f"Apply {result.apply_id} of this plan already finished; nothing to do.")
    elif result.resumed:
        lines.append(f"Resumed apply {result.apply_id}.")
    if result.broke_lock:
        lines.append(f"Broke an expired environment lock: {result.broke_lock}.")
    if result.snapshot_time:
        lines.append(f"Snapshot: {result.snapshot_time}.")
    for change in result.conflicts:
        lines.append(f"  conflict: {change.action} {change.address}: {change.message}")
    pending = result.pending
    for change in pending[:_MAX_PENDING_LINES]:
        lines.append(f"  not applied: {change.action} {change.address}")
    if result.count(None) > _MAX_PENDING_LINES:
        # an interrupted apply of thousands of changes must not bury its one-line summary
        lines.append(f"  … and {result.count(None) - _MAX_PENDING_LINES} more not applied")
    counts = (
        f"{result.count(ChangeOutcome.WRITTEN)} written, "
        f"{result.count(ChangeOutcome.SKIPPED)} already as planned, "
        f"{plural(result.count(ChangeOutcome.CONFLICT), 'conflict')}, "
        f"{result.count(None)} not applied"
    )
    match result.status:
        case ApplyStatus.COMPLETE:
            if not result.already_complete:  # else "nothing to do" above says it all
                lines.append(f"Apply complete: {counts}.")
        case ApplyStatus.CONFLICT:
            lines.append(
                f"Apply finished with conflicts: {counts}. The conflicting entries changed "
                "since the plan and were not written; make a new plan."
            )
        case ApplyStatus.PARTIAL:
            lines.append(f"Apply stopped part way: {result.failure}")
            lines.append(f"{counts}. Run `dsgit apply` with the same plan again to resume.")
        case ApplyStatus.INTERRUPTED:
            lines.append(
                f"Apply interrupted: {counts}. The journal is consistent; run `dsgit apply` "
                "with the same plan again to resume."
            )
    lines.append(f"Apply id: {result.apply_id}")
    return "\n".join(lines)


def _render_json(result: ApplyResult, relied: tuple[Counted, ...] = ()) -> str:
    body = {
        "approvals": [
            {
                "approver": c.approver,
                "kind": str(c.approval.kind),
                "reference": c.approval.reference,
            }
            for c in relied
        ],
        "apply_id": result.apply_id,
        "plan_digest": result.plan_digest,
        "environment": result.environment,
        "status": str(result.status),
        "exit_code": result.exit_code,
        "resumed": result.resumed,
        "already_complete": result.already_complete,
        "snapshot_time": result.snapshot_time,
        "failure": result.failure,
        "broke_lock": result.broke_lock,
        "lock_failure": result.lock_failure,
        "changes": [
            {
                "address": str(change.address),
                "action": str(change.action),
                "outcome": str(change.outcome) if change.outcome is not None else "pending",
                "message": change.message,
                "before": change.before.to_json(),
                "after": change.after.to_json(),
            }
            for change in result.changes
        ],
        "summary": {
            outcome: result.count(value)
            for outcome, value in (
                ("written", ChangeOutcome.WRITTEN),
                ("skipped", ChangeOutcome.SKIPPED),
                ("conflict", ChangeOutcome.CONFLICT),
                ("pending", None),
            )
        },
    }
    return json.dumps(body, indent=2, sort_keys=True)


@click.command(
    "apply",
    short_help="Apply a saved plan to its environment.",
    help="""Apply a saved plan (made with `dsgit plan -o PLAN`) to its environment.

Checks first, and writes nothing unless all hold: the plan's digest, expiry, environment and
universe, and that the declaration did not change since the plan (else exit 4); a plan made
from uncommitted changes goes to a remote environment only with --allow-dirty and never to a
protected one; the approvals satisfy policies/approvals.yaml (read from PLAN.approvals/,
--approvals and, with --github-pr, the pull request's reviews); no blocking diagnostic (else
exit 3, naming each unmet rule). The ledger records the approvals the apply relied on.

Then takes the environment lock, takes a snapshot (--snapshot, or always when the environment
is protected), and writes each change only if the live entry is still what the plan saw; a
changed entry is left alone and reported as a conflict (exit 5) while the others are applied.
A journal makes a killed or failed apply resumable: run the same command again.

\b
Exit codes:
  0 applied (or already applied: nothing to do)
  1 error
  3 refused by policy
  4 stale plan
  5 conflicts (the other changes were applied)
  6 partial apply: run it again to resume
  130 interrupted: run it again to resume""",
)
@click.argument(
    "plan_file",
    metavar="PLAN",
    type=click.Path(dir_okay=False, path_type=Path),
    shell_complete=complete_plan_files,
)
@env_option
@click.option("--snapshot", is_flag=True, help="Take an Open Cloud snapshot before writing.")
@format_option("text", "json")
@click.option(
    "--lock-ttl",
    default="2m",
    callback=lambda ctx, param, value: parse_duration(value),
    show_default=True,
    metavar="DURATION",
    help="Lease time of the environment lock (renewed while running), e.g. 90s, 2m.",
)
@click.option(
    "--break-lock",
    is_flag=True,
    help="Take over an environment lock whose lease expired without being released.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=48,
    show_default=True,
    help="Changes in flight at once (the rate budget still bounds the request rate).",
)
@approvals_paths_option
@github_options
@click.option(
    "--allow-dirty",
    is_flag=True,
    help="Apply a plan made from uncommitted changes to a remote environment (never to a "
    "protected one).",
)
@click.option(
    "--shard",
    default=None,
    metavar="K/N",
    help="Apply only shard K of N of a segmented plan (a stable hash of each key): N jobs "
    "apply one plan together, sharing the environment lock.",
)
@pass_app
def apply_command(
    app: AppContext,
    plan_file: Path,
    env_name: str | None,
    snapshot: bool,
    output_format: str,
    lock_ttl: timedelta,
    break_lock: bool,
    workers: int,
    approval_paths: tuple[Path, ...],
    github_pr: int | None,
    github_repo: str | None,
    github_head: str | None,
    allow_dirty: bool,
    shard: str | None,
) -> int:
    if not plan_file.is_absolute():
        plan_file = app.cwd / plan_file  # -C: as if started there
    chosen = _parse_shard(shard)
    found = read_any_plan(plan_file)
    segmented = found if isinstance(found, SegmentedPlan) else None
    plan = found.header if isinstance(found, SegmentedPlan) else found
    if chosen is not None and segmented is None:
        raise click.UsageError(
            f"--shard applies a segmented plan; {plan_file} is one document (write it with "
            "`dsgit plan combine`, or plan with --segment-size below its number of changes)"
        )
    env = app.environment(env_name or plan.environment)
    from dsgit.cli.notify import notify_apply

    with notify_apply(app, plan, env) as notify:
        result = _apply(
            app,
            plan,
            env,
            plan_file,
            env_name,
            snapshot,
            output_format,
            lock_ttl,
            break_lock,
            workers,
            approval_paths,
            (github_pr, github_repo, github_head),
            allow_dirty,
            (segmented, chosen),
        )
        notify(result)
    return result.exit_code


def _apply(
    app: AppContext,
    plan: Plan,
    env: Environment,
    plan_file: Path,
    env_name: str | None,
    snapshot: bool,
    output_format: str,
    lock_ttl: timedelta,
    break_lock: bool,
    workers: int,
    approval_paths: tuple[Path, ...],
    github: tuple[int | None, str | None, str | None],
    allow_dirty: bool,
    segments: tuple[SegmentedPlan | None, Shard | None],
) -> ApplyResult:
    """Everything of ``dsgit apply`` after the plan and its environment are known
    (``segments``: the segmented plan, if it is one, and the shard to apply)."""
    github_pr, github_repo, github_head = github
    segmented, chosen = segments
    root = app.root
    declaration = _declaration_for(root, plan)
    keyring = load_keyring(root)
    stop = stop_points.from_environment()  # test-only; refuses a value it does not know
    options = ApplyOptions(
        snapshot=snapshot,
        lock_ttl=lock_ttl,
        break_lock=break_lock,
        workers=workers,
        allow_dirty=allow_dirty,
    )
    from dsgit.apply.checks import check_preflight

    sources = ApprovalSources(
        plan_file=plan_file,
        paths=tuple(p if p.is_absolute() else app.cwd / p for p in approval_paths),
        github=github_source(github_pr, github_repo, github_head),
    )
    verdicts: list[Verdict] = []

    def approvals(plan: Plan, env: Environment) -> Verdict:
        verdict = check_plan_approvals(plan, root, env, sources, now=datetime.now(UTC))
        verdicts.append(verdict)
        return verdict

    from dsgit.remote.connect import open_client

    # The plan's environment, universe and expiry first: a plan for another environment is
    # refused before its API key is needed (the full checks run again inside apply).
    check_preflight(plan, env, requested_env=env_name, now=datetime.now(UTC))
    budget = None if env.is_embedded else env.budget
    pace = (
        ApplyPace.of(plan, env.name, budget)
        if segmented is None
        else segmented_pace(plan, env.name, budget, chosen)
    )
    with open_client(env) as api, _sigterm_interrupts():
        deps = ApplyDeps(
            root=root,
            env=env,
            api=api,
            declaration=declaration,
            keyring=keyring,
            signer=load_signer(),
            actor=current_actor(),
            progress=choose_progress(sys.stderr, pace=pace),
            approvals=approvals,
            stop=stop,
        )
        if segmented is not None:
            from dsgit.apply.stream import apply_segmented

            result = apply_segmented(segmented, deps, options, requested_env=env_name, shard=chosen)
        else:
            result = apply_plan(plan, deps, options, requested_env=env_name)
    relied = verdicts[-1].relied_on() if verdicts else ()
    if output_format == "json":
        click.echo(_render_json(result, relied))
    else:
        if relied:
            names = ", ".join(f"{c.approver} ({c.approval.kind})" for c in relied)
            click.echo(f"Approved by {names}.")
        click.echo(_render_text(result))
    if result.lock_failure is not None:
        click.echo(f"error: {result.lock_failure}", err=True)
    if result.status is ApplyStatus.INTERRUPTED:
        click.echo("Interrupted.", err=True)  # as every other command says on Ctrl-C
    return result


COMMANDS = [apply_command]
