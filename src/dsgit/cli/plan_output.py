"""What every plan-making command shares: its options, the plan file, rendering and exit code.

``dsgit plan``, ``rollback``, ``revert`` and ``restore`` all take these options and finish the
same way, so the four cannot drift apart.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from dsgit.cli.complete import complete_addresses, complete_plan_files
from dsgit.cli.context import env_option, format_option
from dsgit.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, ConfigError
from dsgit.model.shard import Shard
from dsgit.plan.model import Allowance, Diagnostic, Plan, Severity
from dsgit.plan.segments import DEFAULT_SEGMENT_SIZE, Manifest, change_order
from dsgit.render.json import render_json
from dsgit.render.markdown import render_markdown
from dsgit.render.text import render_text, use_color

__all__ = [
    "PlanOutput",
    "finish_plan",
    "parse_expiry",
    "plan_exit_code",
    "plan_output_options",
    "read_plan_file",
    "render",
    "report_errors",
    "write_plan_file",
]

F = TypeVar("F", bound=Callable[..., Any])

SHOW_LIMIT = 50  # changes per page when a segmented plan is shown

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_expiry(text: str) -> timedelta:
    """``30m``, ``24h``, ``7d``."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) <= 0:
        raise click.BadParameter(f"{text!r} is not a duration such as 30m, 24h or 7d")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _expiry_option(ctx: click.Context, param: click.Parameter, value: str) -> timedelta:
    return parse_expiry(value)


def _allow_option(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[Allowance, ...]:
    from dsgit.plan.allow import parse_allowance

    try:
        return tuple(parse_allowance(text) for text in value)
    except ConfigError as exc:
        raise click.BadParameter(str(exc)) from None


def _shard_option(ctx: click.Context, param: click.Parameter, value: str | None) -> Shard | None:
    if value is None:
        return None
    try:
        return Shard.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@dataclass(frozen=True)
class PlanOutput:
    """The values of :func:`plan_output_options`, handed to a command as ``output``."""

    env_name: str | None
    out: Path | None
    output_format: str
    targets: tuple[str, ...]
    excludes: tuple[str, ...]
    detailed_exitcode: bool
    expires_in: timedelta
    allowances: tuple[Allowance, ...] = ()
    segment_size: int = DEFAULT_SEGMENT_SIZE
    shard: Shard | None = None


def _bundle(function: F) -> F:
    """Collect the shared options' values into one ``output: PlanOutput`` argument."""

    @functools.wraps(function)
    def command(*args: Any, **kwargs: Any) -> Any:
        output = PlanOutput(
            env_name=kwargs.pop("env_name"),
            out=kwargs.pop("out"),
            output_format=kwargs.pop("output_format"),
            targets=kwargs.pop("targets"),
            excludes=kwargs.pop("excludes"),
            detailed_exitcode=kwargs.pop("detailed_exitcode"),
            expires_in=kwargs.pop("expires_in"),
            allowances=kwargs.pop("allowances"),
            segment_size=kwargs.pop("segment_size"),
            shard=kwargs.pop("shard"),
        )
        return function(*args, output=output, **kwargs)

    return command  # type: ignore[return-value]


def plan_output_options(function: F) -> F:
    """The options every plan-making command takes, as ``dsgit plan`` does.

    The command receives them as one ``output: PlanOutput`` keyword argument.
    """
    function = _bundle(function)
    decorators = [
        env_option,
        click.option(
            "-o",
            "--out",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            shell_complete=complete_plan_files,
            help="Write the plan file here (canonical JSON, for `dsgit apply`).",
        ),
        format_option("text", "markdown", "json"),
        click.option(
            "--target",
            "targets",
            multiple=True,
            metavar="ADDR",
            shell_complete=complete_addresses,
            help="Only addresses matching this glob (store/scope/key); repeatable.",
        ),
        click.option(
            "--exclude",
            "excludes",
            multiple=True,
            metavar="ADDR",
            shell_complete=complete_addresses,
            help="Leave out addresses matching this glob; repeatable.",
        ),
        click.option(
            "--detailed-exitcode",
            is_flag=True,
            help="Exit 2 when the plan has changes, 0 when none.",
        ),
        click.option(
            "--allow",
            "allowances",
            multiple=True,
            metavar="CODE=REASON",
            callback=_allow_option,
            help="Let a blocking diagnostic through for this plan only; the plan records "
            "REASON (DSP003:COUNT=REASON for a mass delete). Repeatable.",
        ),
        click.option(
            "--segment-size",
            type=click.IntRange(1, 1_000_000),
            default=DEFAULT_SEGMENT_SIZE,
            show_default=True,
            envvar="DSGIT_SEGMENT_SIZE",
            metavar="N",
            help="A plan of more changes than N is written (-o) as a manifest and JSON Lines "
            "segments of N changes (docs/plan-format.md); env DSGIT_SEGMENT_SIZE.",
        ),
        click.option(
            "--shard",
            callback=_shard_option,
            default=None,
            metavar="K/N",
            help="Keep only the changes of shard K of N (a stable hash of each key), for N "
            "jobs whose plans `dsgit plan combine` joins.",
        ),
        click.option(
            "--expires-in",
            default="24h",
            metavar="DURATION",
            show_default=True,
            callback=_expiry_option,
            help="How long the plan stays applicable (30m, 24h, 7d).",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def render(plan: Plan, output_format: str, *, sample: int | None = None) -> str:
    """The plan in ``text`` (coloured on a terminal; ``sample``: only the first that many
    changes in full), ``markdown`` or ``json``."""
    if output_format == "json":
        return render_json(plan)
    if output_format == "markdown":
        return render_markdown(plan)
    return render_text(plan, color=use_color(sys.stdout), sample=sample)


def write_plan_file(
    path: Path, plan: Plan, *, segment_size: int = DEFAULT_SEGMENT_SIZE
) -> Plan | Manifest:
    """Write atomically (a reader never sees half a plan): one document, or a manifest and
    its segments when the plan has more than ``segment_size`` changes."""
    from dsgit.planfile import write_plan

    return write_plan(path, plan, segment_size=segment_size)


def read_plan_file(path: Path) -> Plan:
    """The saved plan at ``path``, its digest checked (``StalePlan`` if it was edited).

    A segmented plan is read as approvals and checks see it (:meth:`SegmentedPlan.review`:
    its digest, addresses, actions and diagnostics, every segment's digest checked).
    """
    from dsgit.planfile import SegmentedPlan, read_any_plan

    found = read_any_plan(path)
    if isinstance(found, SegmentedPlan):
        found.verify()
        return found.review()
    return found


def plan_exit_code(plan: Plan, detailed: bool) -> int:
    """1 with error diagnostics; 2 with changes under ``--detailed-exitcode``; else 0."""
    if any(diag.severity is Severity.ERROR for diag in plan.all_diagnostics):
        return EXIT_ERROR
    if detailed and plan.has_changes:
        return EXIT_CHANGES
    return EXIT_OK


def finish_plan(plan: Plan, output: PlanOutput, *, sample: int | None = None) -> NoReturn:
    """Save the plan when asked, render it, and exit with the plan exit code.

    ``sample``: the text output shows only the first that many changes in full (the plan
    file holds them all).

    A plan that could not read what it needed (failed listings or reads) is shown but never
    saved: there is nothing to apply, and a file with a digest would look reviewable.
    """
    from dsgit.plan.allow import allow
    from dsgit.plan.codes import READ_FAILURES

    plan = allow(plan, output.allowances)
    for allowance in plan.allowed:
        if allowance.matched == 0:
            click.echo(
                f"warning: --allow {allowance.code} matched no blocking diagnostic of this plan",
                err=True,
            )
    if output.targets and not any(plan.summary.values()):
        patterns = " ".join(output.targets)
        click.echo(
            f"warning: --target {patterns} matched no declared or live entry (addresses read "
            "store/scope/key, e.g. ShopCatalog/global/vip_pass)",
            err=True,
        )
    plan = _stamp_for_approvals(plan)
    out, output_format = output.out, output.output_format
    unread = [d for d in plan.all_diagnostics if d.code in READ_FAILURES]
    if output.shard is not None:
        from dsgit.plan.segments import of_shard

        plan = of_shard(plan, output.shard)
    written: Plan | Manifest = plan
    if out is not None and not unread:
        written = write_plan_file(out, plan, segment_size=output.segment_size)
    if isinstance(written, Manifest):  # never rendered whole: its summary and first page
        from dsgit.render.manifest import Page, render_manifest

        first = tuple(sorted(plan.changes, key=change_order)[:SHOW_LIMIT])
        page = Page(1, SHOW_LIMIT, written.total_changes, first)
        click.echo(render_manifest(written, page, output_format, str(out)), nl=False)
    else:
        click.echo(render(plan, output_format, sample=sample), nl=False)
    if out is not None and not unread and output_format == "text":
        click.echo(f"Saved the plan to {out}; apply it with `dsgit apply {out}`.")
    report_errors([d for d in plan.all_diagnostics if d.severity is Severity.ERROR])
    if out is not None and unread:
        count = len(unread)
        click.echo(
            f"error: the plan was not saved to {out}: it could not read everything it needs "
            f"({count} read {'error' if count == 1 else 'errors'}); fix the cause and plan again",
            err=True,
        )
    raise click.exceptions.Exit(plan_exit_code(plan, output.detailed_exitcode))


def _stamp_for_approvals(plan: Plan) -> Plan:
    """Record the approvals policy digest and the plan's authors (docs/approvals.md)."""
    from dsgit.approvals.stamp import stamp_plan
    from dsgit.cli.context import AppContext

    ctx = click.get_current_context(silent=True)
    app = ctx.find_object(AppContext) if ctx is not None else None
    return stamp_plan(plan, app.root) if app is not None else plan


def report_errors(errors: Sequence[Diagnostic]) -> None:
    """Name the error diagnostics on stderr too, so a script reading only stderr (or only
    the JSON on stdout) still learns why the command exits 1."""
    for diag in errors:
        # Most messages already start with their address: never print it twice.
        named = diag.address and not diag.message.startswith(diag.address)
        where = f"{diag.address}: " if named else ""
        click.echo(f"error: {diag.code} {where}{diag.message}", err=True)
