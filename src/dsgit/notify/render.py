"""An ``Event`` as each kind of sink wants it; pure.

- Discord: an execute-webhook body (``content`` and one embed with fields), within Discord's
  limits (content 2,000 characters, embed title 256, description 4,096, 25 fields of 256/1,024,
  6,000 in all) and with ``allowed_mentions`` empty, so a key such as ``@everyone`` pings nobody.
- Slack: an incoming-webhook body (``text`` as the notification fallback, then Block Kit blocks:
  header, section, fields, context) within Slack's limits (header 150, section text 3,000, 10
  fields of 2,000), with ``&``, ``<`` and ``>`` escaped so nothing becomes a link or a mention.
- Generic webhook: the event as one JSON object (``type``, ``id``, ``time`` ... ``addresses``).
"""

from __future__ import annotations

from typing import Any

from dsgit import __version__
from dsgit.notify.events import Event, Severity

__all__ = ["MAX_ADDRESSES", "discord_payload", "slack_payload", "webhook_payload"]

MAX_ADDRESSES = 20  # in a chat message; the generic webhook carries up to 1,000
_WEBHOOK_ADDRESSES = 1_000

_DISCORD_COLOURS = {
    Severity.OK: 0x2EA043,
    Severity.INFO: 0x3B82F6,
    Severity.WARNING: 0xD29922,
    Severity.ERROR: 0xCF222E,
}
_SLACK_EMOJI = {
    Severity.OK: ":white_check_mark:",
    Severity.INFO: ":information_source:",
    Severity.WARNING: ":warning:",
    Severity.ERROR: ":x:",
}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _code(text: str) -> str:
    """An inline code span; a backtick inside would end it, so it becomes a look-alike."""
    return "`" + text.replace("`", "ˋ") + "`"


def _facts(event: Event) -> list[tuple[str, str]]:
    """Name and text of every fact a chat message shows, in order."""
    facts = [("Environment", _code(event.environment))]
    if event.universe_id is not None:
        facts.append(("Universe", str(event.universe_id)))
    facts.extend((what.capitalize(), f"{count:,}") for what, count in event.counts.items())
    if event.actor:
        facts.append(("Actor", _code(event.actor)))
    if event.commit:
        facts.append(("Commit", _code(event.commit[:12])))
    if event.plan_digest:
        facts.append(("Plan", _code(event.plan_digest[:19])))
    if event.apply_id:
        facts.append(("Apply id", _code(event.apply_id)))
    return facts


def _address_lines(event: Event) -> list[str]:
    shown = [f"• {_code(address)}" for address in event.addresses[:MAX_ADDRESSES]]
    more = len(event.addresses) - MAX_ADDRESSES
    if more > 0:
        shown.append(f"… and {more:,} more")
    return shown


def discord_payload(event: Event) -> dict[str, Any]:
    description = [event.summary]
    description.extend(f"> {_cut(reason, 900)}" for reason in event.reasons)
    fields: list[dict[str, Any]] = [
        {"name": name, "value": _cut(text, 1024), "inline": True} for name, text in _facts(event)
    ]
    addresses = _address_lines(event)
    if addresses:
        fields.append(
            {"name": "Entries", "value": _cut("\n".join(addresses), 1024), "inline": False}
        )
    fields = fields[:25]
    title = _cut(event.title, 256)
    footer = f"dsgit {__version__} · {event.kind}"
    # Discord refuses a message over 6,000 characters in all: the description gives way.
    used = len(title) + len(footer) + sum(len(f["name"]) + len(f["value"]) for f in fields)
    embed: dict[str, Any] = {
        "title": title,
        "description": _cut("\n".join(description), max(100, min(4096, 6000 - used))),
        "color": _DISCORD_COLOURS[event.severity],
        "timestamp": event.time,
        "fields": fields,
        "footer": {"text": footer},
    }
    if event.link:
        embed["url"] = event.link
    return {
        "username": "dsgit",
        "content": _cut(event.title, 2000),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    }


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(event: Event) -> dict[str, Any]:
    emoji = _SLACK_EMOJI[event.severity]
    body = [_slack_escape(event.summary)]
    body.extend(f"> {_slack_escape(_cut(reason, 900))}" for reason in event.reasons)
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(event.title, 150), "emoji": True},
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut("\n".join(body), 3000)}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": _cut(f"*{name}*\n{_slack_escape(text)}", 2000)}
                for name, text in _facts(event)[:10]
            ],
        },
    ]
    addresses = _address_lines(event)
    if addresses:
        text = "*Entries*\n" + "\n".join(_slack_escape(line) for line in addresses)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, 3000)}})
    context = f"dsgit {__version__} · {event.kind} · {event.time}"
    if event.link:
        # A link Slack renders: <url|text>; the url is dsgit's own (a CI run), escaped.
        context += f" · <{_slack_escape(event.link)}|details>"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": _cut(f"{emoji} {_slack_escape(event.title)}", 3000), "blocks": blocks}


def webhook_payload(event: Event) -> dict[str, Any]:
    """The generic webhook's JSON body (docs/notifications.md describes every field)."""
    return {
        "type": str(event.kind),
        "id": event.event_id,
        "time": event.time,
        "dsgit_version": __version__,
        "environment": event.environment,
        "universe_id": event.universe_id,
        "outcome": event.outcome,
        "severity": str(event.severity),
        "summary": event.summary,
        "reasons": list(event.reasons),
        "counts": dict(event.counts),
        "addresses": list(event.addresses[:_WEBHOOK_ADDRESSES]),
        "addresses_total": len(event.addresses),
        "plan_digest": event.plan_digest,
        "apply_id": event.apply_id,
        "actor": event.actor,
        "commit": event.commit,
        "link": event.link,
    }
