"""Send an event and note each sink that did not take it in the ledger (DESIGN §15: "a failed
delivery is a warning and a ledger note").

Every command that notifies goes through :func:`notify`: the CLI's hooks and the GitHub
Action's. The note is one ``notification`` record per failed sink in the environment's
chain; writing it is best effort, never an error of the command.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dsgit.config import ProjectConfig
from dsgit.notify import Event, _stderr, emit
from dsgit.notify.send import Delivery

__all__ = ["note_failed", "notify"]


def notify(
    event: Event,
    config: ProjectConfig,
    root: Path,
    *,
    actor: str,
    warn: Callable[[str], None] = _stderr,
) -> list[Delivery]:
    """:func:`dsgit.notify.emit`, then a ledger note of every failed sink; never raises."""
    deliveries = emit(event, config, warn=warn)
    failed = [delivery for delivery in deliveries if not delivery.ok]
    if failed:
        note_failed(event, failed, config, root, actor=actor, warn=warn)
    return deliveries


def note_failed(
    event: Event,
    failed: list[Delivery],
    config: ProjectConfig,
    root: Path,
    *,
    actor: str,
    warn: Callable[[str], None] = _stderr,
) -> None:
    """Append one ``notification`` record per failed sink to the environment's chain."""
    from dsgit.ledger import Ledger, NotificationRecord
    from dsgit.ledger.signing import load_signer
    from dsgit.remote.connect import open_client

    records = [
        NotificationRecord(
            environment=event.environment,
            event=str(event.kind),
            event_id=event.event_id,
            sink=delivery.sink,
            problem=delivery.problem or "not delivered",
            attempts=delivery.attempts,
        )
        for delivery in failed
    ]
    try:
        env = config.environment(event.environment)
        with open_client(env) as api:
            Ledger.of_universe(root, env.name, api, load_signer()).append(records, actor=actor)
    except Exception as exc:  # the command's result stands whatever happens here
        warn(
            "warning: the undelivered notification(s) could not be noted in the ledger "
            f"({type(exc).__name__})"
        )
