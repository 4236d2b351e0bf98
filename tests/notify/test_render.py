"""Discord and Slack bodies hold the documented shapes and limits; the generic body its fields.

Discord's execute-webhook (docs.discord.com, Webhook resource, "Execute Webhook"): JSON params
`content` (≤ 2,000), `username`, `embeds` (≤ 10), `allowed_mentions`; an embed's `title` ≤ 256,
`description` ≤ 4,096, ≤ 25 `fields` of `name` ≤ 256 / `value` ≤ 1,024 / `inline`, `footer.text`
≤ 2,048, `timestamp` ISO 8601, `color` an integer, and ≤ 6,000 characters over all of them.
Slack's incoming webhooks (api.slack.com/messaging/webhooks, Block Kit reference): `text` (the
notification fallback) and `blocks`, ≤ 50; a `header` holds `plain_text` ≤ 150; a `section`
`text` ≤ 3,000 or ≤ 10 `fields` of ≤ 2,000; a `context` ≤ 10 `elements`; `&`, `<`, `>` escaped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from dsgit.notify.events import Event, EventKind, Severity
from dsgit.notify.render import discord_payload, slack_payload, webhook_payload
from notify.events import conflict_event

_DISCORD_TOP = {"content", "username", "avatar_url", "tts", "embeds", "allowed_mentions"}
_EMBED = {
    "title",
    "type",
    "description",
    "url",
    "timestamp",
    "color",
    "footer",
    "image",
    "thumbnail",
    "video",
    "provider",
    "author",
    "fields",
}


def _huge() -> Event:
    return conflict_event(
        summary="S" * 5_000,
        reasons=tuple("R" * 3_000 for _ in range(5)),
        addresses=tuple(f"PlayerStore/global/{n}" for n in range(10_000)),
        actor="a" * 2_000,
    )


def _check_discord(body: dict[str, Any]) -> None:
    assert set(body) <= _DISCORD_TOP
    assert len(body["content"]) <= 2_000 and len(body["username"]) <= 80
    assert body["allowed_mentions"] == {"parse": []}  # no @everyone, no role or user pings
    assert 1 <= len(body["embeds"]) <= 10
    total = 0
    for embed in body["embeds"]:
        assert set(embed) <= _EMBED
        assert len(embed["title"]) <= 256 and len(embed["description"]) <= 4_096
        assert isinstance(embed["color"], int)
        datetime.fromisoformat(embed["timestamp"].replace("Z", "+00:00"))
        assert len(embed["fields"]) <= 25
        for item in embed["fields"]:
            assert set(item) == {"name", "value", "inline"}
            assert 0 < len(item["name"]) <= 256 and 0 < len(item["value"]) <= 1_024
        assert len(embed["footer"]["text"]) <= 2_048
        total += len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
        total += sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    assert total <= 6_000


def _check_slack(body: dict[str, Any]) -> None:
    assert set(body) == {"text", "blocks"} and body["text"]
    assert len(body["blocks"]) <= 50
    for block in body["blocks"]:
        match block["type"]:
            case "header":
                assert block["text"]["type"] == "plain_text" and len(block["text"]["text"]) <= 150
            case "section":
                assert ("text" in block) != ("fields" in block)
                if "text" in block:
                    assert block["text"]["type"] == "mrkdwn" and len(block["text"]["text"]) <= 3_000
                else:
                    assert 1 <= len(block["fields"]) <= 10
                    assert all(len(f["text"]) <= 2_000 for f in block["fields"])
            case "context":
                assert 1 <= len(block["elements"]) <= 10
            case other:
                pytest.fail(f"unexpected block {other}")


@pytest.mark.parametrize("event", [conflict_event(), _huge()], ids=["usual", "huge"])
def test_discord_body_keeps_the_documented_shape_and_limits(event: Event) -> None:
    _check_discord(discord_payload(event))


@pytest.mark.parametrize("event", [conflict_event(), _huge()], ids=["usual", "huge"])
def test_slack_body_keeps_the_documented_shape_and_limits(event: Event) -> None:
    _check_slack(slack_payload(event))


def test_discord_shows_facts_entries_and_no_markup_from_keys() -> None:
    body = discord_payload(conflict_event())
    [embed] = body["embeds"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Environment"] == "`production`"
    assert fields["Conflicts"] == "1" and fields["Written"] == "3"
    assert fields["Plan"].startswith("`sha256:abab")
    assert "`Shop/global/<@everyone>ˋxˋ`" in fields["Entries"]  # a backtick cannot end the span
    assert embed["url"] == "https://github.com/acme/game/actions/runs/1"
    assert embed["color"] == 0xD29922  # a warning


def test_slack_escapes_what_could_become_a_mention_or_link() -> None:
    body = slack_payload(conflict_event(summary="<!channel> & <http://evil|x>"))
    text = str(body)
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp; &lt;http://evil|x&gt;" in text
    assert "&lt;@everyone&gt;" in text
    assert body["blocks"][-1]["elements"][0]["text"].endswith(
        "<https://github.com/acme/game/actions/runs/1|details>"
    )


def test_many_addresses_are_cut_with_a_count() -> None:
    body = slack_payload(_huge())
    entries = [b for b in body["blocks"] if b["type"] == "section" and "text" in b][-1]
    assert "… and 9,980 more" in entries["text"]["text"]
    generic = webhook_payload(_huge())
    assert len(generic["addresses"]) == 1_000 and generic["addresses_total"] == 10_000


def test_generic_body_fields() -> None:
    event = Event(EventKind.DRIFT, "staging", "Drift.", severity=Severity.WARNING)
    body = webhook_payload(event)
    assert set(body) == {
        "type",
        "id",
        "time",
        "dsgit_version",
        "environment",
        "universe_id",
        "outcome",
        "severity",
        "summary",
        "reasons",
        "counts",
        "addresses",
        "addresses_total",
        "plan_digest",
        "apply_id",
        "actor",
        "commit",
        "link",
    }
    assert (body["type"], body["severity"], body["id"]) == ("drift", "warning", event.event_id)
