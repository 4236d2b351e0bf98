"""Events and sinks the notification tests share, and the canaries no payload may hold."""

from __future__ import annotations

from dsgit.notify.events import Event, EventKind, Severity
from dsgit.notify.sinks import Sink, SinkType

SECRET = "CANARY-SIGNING-SECRET-9f86d081"
URL_TOKEN = "CANARY-URL-TOKEN-5d41402a"  # in every receiver URL: the URL is the secret
SENSITIVE = "canary-sensitive-7734@example.com"


def conflict_event(**changes: object) -> Event:
    fields: dict[str, object] = {
        "kind": EventKind.CONFLICT,
        "environment": "production",
        "summary": "Apply finished with conflicts: 3 written, 1 conflicts.",
        "outcome": "conflict",
        "severity": Severity.WARNING,
        "universe_id": 4_242,
        "counts": {"written": 3, "conflicts": 1},
        "addresses": ("PlayerStore/global/7734", "Shop/global/<@everyone>`x`"),
        "plan_digest": "sha256:" + "ab" * 32,
        "apply_id": "20261203T120000Z-abcdef",
        "actor": "octocat",
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "link": "https://github.com/acme/game/actions/runs/1",
    }
    fields.update(changes)
    return Event(**fields)  # type: ignore[arg-type]


def sinks() -> tuple[Sink, ...]:
    return (
        Sink("chat", SinkType.DISCORD, "TEST_DISCORD_URL"),
        Sink("team", SinkType.SLACK, "TEST_SLACK_URL"),
        Sink("hook", SinkType.WEBHOOK, "TEST_HOOK_URL", "TEST_HOOK_SECRET"),
    )
