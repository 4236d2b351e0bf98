"""URL builders for emulator tests: every name quoted as one path segment."""

from __future__ import annotations

from urllib.parse import quote

V2 = "/cloud/v2/universes/1"
V1 = "/datastores/v1/universes/1/standard-datastores"
V1_ORDERED = "/ordered-data-stores/v1/universes/1/orderedDataStores"
CONFIGS = "/creator-configs-public-api/v1/configs/universes/1/repositories"


def q(name: str) -> str:
    return quote(name, safe="")


def store_url(store: str) -> str:
    return f"{V2}/data-stores/{q(store)}"


def entries_url(store: str, scope: str | None = "global") -> str:
    middle = "" if scope is None else f"/scopes/{q(scope)}"
    return f"{store_url(store)}{middle}/entries"


def entry_url(store: str, key: str, scope: str | None = "global", suffix: str = "") -> str:
    return f"{entries_url(store, scope)}/{q(key)}{suffix}"


def ordered_url(store: str, scope: str = "global", key: str | None = None, v1: bool = False) -> str:
    base = f"{V1_ORDERED}/{q(store)}" if v1 else f"{V2}/ordered-data-stores/{q(store)}"
    url = f"{base}/scopes/{q(scope)}/entries"
    return url if key is None else f"{url}/{q(key)}"
