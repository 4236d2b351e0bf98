"""URL paths of the Open Cloud resources dsgit uses, every segment quoted.

Names are quoted with ``quote(name, safe="")``, so a store name with ``/`` or a key with ``%``,
``:`` or ``@`` stays one segment. Revision selectors (``@<revision>``, ``@latest``,
``@latest:<time>``) and custom methods (``:increment``) are appended unquoted after the
quoted name, as the API expects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

__all__ = [
    "configs_path",
    "data_store_path",
    "data_stores_path",
    "entries_path",
    "entry_path",
    "experiments_path",
    "format_time",
    "ordered_entries_path",
    "ordered_entry_path",
    "quote_segment",
    "read_selector",
]


def quote_segment(name: str) -> str:
    """One path segment: every reserved character escaped, ``/`` included.

    A name that is only dots (``.``, ``..``) is escaped too: URL normalization would otherwise
    resolve it as a relative path step and address another resource.
    """
    if name and set(name) == {"."}:
        return "%2E" * len(name)
    return quote(name, safe="")


_q = quote_segment


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``; naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def data_stores_path(universe_id: int) -> str:
    return f"/cloud/v2/universes/{universe_id}/data-stores"


def data_store_path(universe_id: int, store: str) -> str:
    return f"{data_stores_path(universe_id)}/{_q(store)}"


def entries_path(universe_id: int, store: str, scope: str) -> str:
    return f"{data_store_path(universe_id, store)}/scopes/{_q(scope)}/entries"


def entry_path(universe_id: int, store: str, scope: str, key: str, selector: str = "") -> str:
    """``selector`` is appended as is: ``@<revision>``, ``@latest…`` or ``:increment``."""
    return f"{entries_path(universe_id, store, scope)}/{_q(key)}{selector}"


def read_selector(key: str, revision: str | None, at: datetime | None) -> str:
    """The suffix that picks what a GET of an entry reads.

    A key that itself contains ``@`` is read as ``key@latest``: otherwise the service would take
    the text after its ``@`` for a revision.
    """
    if revision is not None and at is not None:
        raise ValueError("give either a revision or a time, not both")
    if revision is not None:
        return f"@{_q(revision)}"
    if at is not None:
        return f"@latest:{quote(format_time(at), safe=':')}"
    if "@" in key:
        return "@latest"
    return ""


def ordered_entries_path(universe_id: int, store: str, scope: str) -> str:
    return (
        f"/cloud/v2/universes/{universe_id}/ordered-data-stores/{_q(store)}"
        f"/scopes/{_q(scope)}/entries"
    )


def ordered_entry_path(universe_id: int, store: str, scope: str, key: str, suffix: str = "") -> str:
    return f"{ordered_entries_path(universe_id, store, scope)}/{_q(key)}{suffix}"


def configs_path(universe_id: int, repository: str, suffix: str = "") -> str:
    return (
        f"/creator-configs-public-api/v1/configs/universes/{universe_id}"
        f"/repositories/{_q(repository)}{suffix}"
    )


def experiments_path(universe_id: int, suffix: str = "") -> str:
    return f"/creator-configs-public-api/v1/experimentation/universes/{universe_id}{suffix}"
