"""Roblox's automated right-to-be-forgotten deletion, simulated (emulator only, not an Open
Cloud endpoint): for one user, delete what the published ``user_data_templates`` of the
universe's ``DataStoresConfig`` repository describe, as Roblox does on its own schedule.

- a **key template** deletes its one key (``data_store_name``, ``scope_pattern``, default
  ``global``, and ``key_pattern``, each with ``{UserId}`` replaced by the id), in a standard
  or an ordered store (``data_store_type``);
- a **data store template** (``STANDARD`` only, as Roblox) deletes every entry, in every scope,
  of each standard store whose name matches ``data_store_pattern`` (the id put in, then matched
  as a glob, as ``dsgit erase`` reads it); the store itself stays listed.

The token is case-sensitive (``{userid}`` is text); a template of another shape, or without
the token, is skipped and counted, never guessed at. Standard deletions are ordinary deletes
(tombstones, with the revisions Roblox keeps); ordered ones remove the entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from dsgit.emulator.api_error import ApiError, invalid
from dsgit.emulator.call import Call, State
from dsgit.emulator.standard import Entry, NewRevision
from dsgit.emulator.wire import Response, json_response

__all__ = ["Erased", "erase_user", "user_data_request"]

TOKEN = "{UserId}"
REPOSITORY = "DataStoresConfig"
KEY = "user_data_templates"
_PAGE = 500


@dataclass
class Erased:
    """What one simulated request deleted: ``(kind, store, scope, key)`` per entry."""

    deleted: list[tuple[str, str, str, str]] = field(default_factory=list)
    templates: int = 0
    skipped: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "templates": self.templates,
            "skipped": self.skipped,
            "deleted": [
                {"dataStoreType": kind, "dataStore": store, "scope": scope, "key": key}
                for kind, store, scope, key in self.deleted
            ],
        }


class _Gone(Exception):
    """The entry is absent or already deleted: nothing to write."""


def _delete_standard(state: State, universe: int, names: tuple[str, str, str], now: int) -> bool:
    store, scope, key = names

    def decide(current: Entry | None) -> NewRevision:
        if current is None or not current.active:
            raise _Gone
        return NewRevision(None)

    try:
        state.standard.mutate(universe, store, scope, key, now, decide)
    except (_Gone, ApiError):  # absent, or its store is scheduled for deletion
        return False
    return True


def _key_template(state: State, universe: int, body: Any, user: str, now: int, out: Erased) -> bool:
    if not isinstance(body, dict):
        return False
    kind = body.get("data_store_type")
    names = [body.get("data_store_name"), body.get("scope_pattern") or "global"]
    pattern = body.get("key_pattern")
    parts = (*names, pattern)
    if kind not in ("STANDARD", "ORDERED") or not all(isinstance(n, str) for n in parts):
        return False
    if not any(TOKEN in str(n) for n in parts):
        return False
    store, scope, key = (str(n).replace(TOKEN, user) for n in parts)
    if kind == "ORDERED":
        if state.ordered.get(universe, store, scope, key) is not None:
            state.ordered.delete(universe, store, scope, key, missing_ok=True)
            out.deleted.append(("ORDERED", store, scope, key))
    elif _delete_standard(state, universe, (store, scope, key), now):
        out.deleted.append(("STANDARD", store, scope, key))
    return True


def _store_template(
    state: State, universe: int, body: Any, user: str, now: int, out: Erased
) -> bool:
    if not isinstance(body, dict) or body.get("data_store_type") != "STANDARD":
        return False  # Roblox deletes whole standard stores only
    pattern = body.get("data_store_pattern")
    if not isinstance(pattern, str) or TOKEN not in pattern:
        return False
    glob = pattern.replace(TOKEN, user)
    after: str | None = None
    while True:
        stores = state.standard.list_stores(
            universe, now, prefix=None, show_deleted=False, after=after, limit=_PAGE
        )
        for info in stores:
            if fnmatchcase(info.name, glob):
                _empty_store(state, universe, info.name, now, out)
        if len(stores) < _PAGE:
            return True
        after = stores[-1].name


def _empty_store(state: State, universe: int, store: str, now: int, out: Erased) -> None:
    after: tuple[str, str] | None = None
    while True:
        keys = state.standard.list_keys(
            universe, store, None, now, prefix=None, show_deleted=False, after=after, limit=_PAGE
        )
        for scope, key, deleted in keys:
            if not deleted and _delete_standard(state, universe, (store, scope, key), now):
                out.deleted.append(("STANDARD", store, scope, key))
        if len(keys) < _PAGE:
            return
        after = (keys[-1][0], keys[-1][1])


def erase_user(state: State, universe: int, user: int, now: int) -> Erased:
    """Apply the universe's published templates for ``user`` (see the module docstring)."""
    out = Erased()
    published = state.configs.read(universe, REPOSITORY).published
    entry = (published.get("entries") or {}).get(KEY)
    templates = entry.get("value") if isinstance(entry, dict) else None
    if not isinstance(templates, list):
        return out
    text = str(user)
    for template in templates:
        out.templates += 1
        done = False
        if isinstance(template, dict) and "key_template" in template:
            done = _key_template(state, universe, template["key_template"], text, now, out)
        elif isinstance(template, dict) and "data_store_template" in template:
            done = _store_template(state, universe, template["data_store_template"], text, now, out)
        if not done:
            out.skipped += 1
    return out


def user_data_request(call: Call) -> Response:
    """``POST /_emulator/universes/{u}/user-data-requests`` with ``{"userId": N}``: what
    Roblox does on a right-to-erasure request, answered with what it deleted."""
    body = call.body_object()
    user = body.get("userId")
    if isinstance(user, bool) or not isinstance(user, int) or user <= 0:
        raise invalid("userId must be a positive integer")
    return json_response(200, erase_user(call.state, call.universe, user, call.now).to_json())
