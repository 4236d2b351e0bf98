"""``dsgit notify test [SINK]``, and the notification hooks of the commands (docs/notifications.md).

Commands call :func:`notify_cli` (or :func:`notify_apply` around an apply) after they have
printed their result: a sink that fails prints one warning on stderr and the exit code stays
what the command decided.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from dsgit.apply.result import ApplyResult
from dsgit.cli.context import AppContext, env_option, pass_app
from dsgit.config import Environment
from dsgit.errors import DsgitError
from dsgit.notify import Event, deadline_from, sinks_of
from dsgit.notify.events import Context, test_event
from dsgit.notify.hooks import apply_error_event, apply_event, ci_link
from dsgit.plan.model import Plan

__all__ = ["COMMANDS", "cli_context", "has_sinks", "notify_apply", "notify_cli", "notify_group"]


def _warn(text: str) -> None:
    click.echo(text, err=True)


def cli_context(app: AppContext) -> Context:
    """Who runs this command (as the ledger names them, without its warning) and the CI run."""
    from dsgit.ledger.actor import resolve_actor

    actor = resolve_actor(app.root)
    return Context(actor=str(actor) if actor.source != "none" else None, link=ci_link(os.environ))


def has_sinks(app: AppContext) -> bool:
    return bool(sinks_of(app.config.raw))


def notify_cli(app: AppContext, event: Event) -> None:
    """Send ``event`` to the sinks of ``dsgit.yaml``; never raises. A sink that did not take
    it is a warning and a ledger note (DESIGN §15)."""
    from dsgit.ledger.actor import resolve_actor
    from dsgit.notify.ledger_note import notify

    notify(event, app.config, app.root, actor=str(resolve_actor(app.root)), warn=_warn)


@contextmanager
def notify_apply(
    app: AppContext, plan: Plan, env: Environment
) -> Iterator[Callable[[ApplyResult], None]]:
    """Around an apply: yields the call that reports its result (apply or conflict); an error
    that stops it is reported (refused, stale, or an apply error) and raised on unchanged."""

    def report(result: ApplyResult) -> None:
        event = apply_event(plan, result, cli_context(app)) if has_sinks(app) else None
        if event is not None:
            notify_cli(app, event)

    try:
        yield report
    except DsgitError as exc:
        if has_sinks(app):
            notify_cli(app, apply_error_event(env, exc, plan, cli_context(app)))
        raise


@click.group("notify", short_help="Notifications: send a test event to the sinks.")
def notify_group() -> None:
    """Notifications to Discord, Slack and signed webhooks (`notifications:` in dsgit.yaml;
    see docs/notifications.md)."""


@notify_group.command("test", short_help="Send a test event to every sink, or to SINK.")
@click.argument("sink_name", metavar="[SINK]", required=False)
@env_option
@pass_app
def test_command(app: AppContext, sink_name: str | None, env_name: str | None) -> None:
    """Send a test event to every sink of dsgit.yaml (or only SINK, by name), whatever events
    and environments they subscribe to, and say how each went.

    \b
    Exit codes:
      0  every sink tried took the event
      1  a sink failed, or none is configured (or SINK is unknown)"""
    sinks = sinks_of(app.config.raw)
    if not sinks:
        raise DsgitError("dsgit.yaml configures no `notifications:` sinks")
    if sink_name is not None:
        chosen = tuple(sink for sink in sinks if sink.name == sink_name)
        if not chosen:
            known = ", ".join(sink.name for sink in sinks)
            raise DsgitError(f"no notification sink named {sink_name!r} (configured: {known})")
        sinks = chosen
    env = app.environment(env_name)
    from dsgit.notify.send import deliver

    deliveries = deliver(
        test_event(env.name, cli_context(app)),
        sinks,
        os.environ,
        deadline=deadline_from(os.environ, _warn),
    )
    failed = 0
    for sink, delivery in zip(sinks, deliveries, strict=True):
        if delivery.ok:
            click.echo(f"{sink.name} ({sink.type}): delivered")
        else:
            failed += 1
            click.echo(f"{sink.name} ({sink.type}): failed: {delivery.problem}")
    if failed:
        raise DsgitError(f"{failed} of {len(sinks)} notification sinks failed")


COMMANDS = [notify_group]
