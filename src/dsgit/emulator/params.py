"""Query parameter names as the gateways match them, whatever spelling a client uses.

The v1 endpoints are ASP.NET (names match in any letter case) and the v2 gateway takes both the
camelCase and snake_case forms of a field; clients also mix up the two APIs' paging names. So a
name is matched ignoring case and ``_``/``-``, and each page token or page size spelling also
fills the other API's name when that one is absent (``cursor`` <-> ``pageToken``,
``limit`` <-> ``maxPageSize``).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["KNOWN_NAMES", "canonical_query"]

KNOWN_NAMES = (
    # v2 data stores, entries, revisions and ordered entries
    "maxPageSize",
    "pageToken",
    "filter",
    "showDeleted",
    "allowMissing",
    "orderBy",
    "id",
    # v1 standard data stores
    "datastoreName",
    "entryKey",
    "scope",
    "allScopes",
    "prefix",
    "cursor",
    "limit",
    "matchVersion",
    "exclusiveCreate",
    "incrementBy",
    "startTime",
    "endTime",
    "sortOrder",
    "versionId",
)
"""The spec's query parameter names of every data store API, as the handlers read them."""


def _fold(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


_CANONICAL = {_fold(name): name for name in KNOWN_NAMES}
# rblx-open-cloud pages revisions with ``nextPageToken=`` (the response field's name).
_CANONICAL[_fold("nextPageToken")] = "pageToken"
_SYNONYMS = (("pageToken", "cursor"), ("maxPageSize", "limit"))


def canonical_query(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Decoded ``(name, value)`` pairs to ``{spec name: value}``; the first value wins.

    Names the APIs do not define are kept as given (and ignored by every handler).
    """
    params: dict[str, str] = {}
    for name, value in pairs:
        params.setdefault(_CANONICAL.get(_fold(name), name), value)
    for one, other in _SYNONYMS:
        if one in params and other not in params:
            params[other] = params[one]
        elif other in params and one not in params:
            params[one] = params[other]
    return params
