"""``notifications:`` in ``dsgit.yaml``: the sinks, what each wants, and their checks.

The file schema (``schemas/dsgit.schema.json``) checks each sink's shape (DS861) and refuses a
URL or secret written into the file (DS863: they are secrets, read from environment variables);
``dsgit.repo.project_file`` adds what a schema cannot say: duplicate names (DS861) and
environments that are not defined (DS862).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dsgit.notify.events import SUBSCRIBABLE, Event, EventKind

__all__ = ["Sink", "SinkType", "sink_names", "sinks_of"]


class SinkType(StrEnum):
    DISCORD = "discord"
    SLACK = "slack"
    WEBHOOK = "webhook"


@dataclass(frozen=True)
class Sink:
    """One destination; its URL (and a webhook's signing secret) live in environment
    variables named here, never in the repository."""

    name: str
    type: SinkType
    url_env: str
    secret_env: str | None = None
    events: frozenset[EventKind] = frozenset(SUBSCRIBABLE)
    environments: frozenset[str] | None = None  # None: every environment

    def wants(self, event: Event) -> bool:
        if event.kind is EventKind.TEST:
            return True
        if event.kind not in self.events:
            return False
        return self.environments is None or event.environment in self.environments


def sink_names(items: list[Mapping[str, Any]]) -> list[str]:
    """Each sink's name: its ``name``, else its type (``slack-2`` when several share one)."""
    per_type = Counter(str(item.get("type")) for item in items if "name" not in item)
    seen: Counter[str] = Counter()
    names = []
    for item in items:
        if "name" in item:
            names.append(str(item["name"]))
            continue
        kind = str(item.get("type"))
        seen[kind] += 1
        names.append(kind if per_type[kind] == 1 else f"{kind}-{seen[kind]}")
    return names


def _items(raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    value = raw.get("notifications") or []
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def sinks_of(raw: Mapping[str, Any]) -> tuple[Sink, ...]:
    """The sinks of a parsed ``dsgit.yaml`` (already checked: see :func:`check_sinks`)."""
    items = _items(raw)
    sinks = []
    for name, item in zip(sink_names(items), items, strict=True):
        events = item.get("events")
        environments = item.get("environments")
        sinks.append(
            Sink(
                name=name,
                type=SinkType(item["type"]),
                url_env=str(item["url_env"]),
                secret_env=str(item["secret_env"]) if item.get("secret_env") else None,
                events=frozenset(EventKind(e) for e in events)
                if events
                else frozenset(SUBSCRIBABLE),
                environments=frozenset(str(e) for e in environments) if environments else None,
            )
        )
    return tuple(sinks)
