"""The text of an entry file or ordered scope file holding live data, new or updated in place.

Each function takes the file's current text (None when it does not exist) and returns the new
text, or None when the file already holds exactly the live data: an unchanged file is not
rewritten at all. Existing files are edited with minimal changes (see ``yamlio.merge``), so
comments, key order, quoting and other members (``moved_from``, ``suppress``) survive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ruamel.yaml.comments import CommentedMap

from dsgit.crypto.errors import EncryptionError, KeyNotAvailable
from dsgit.crypto.keys import Keyring
from dsgit.crypto.walk import encrypt_paths
from dsgit.errors import ConfigError, Location
from dsgit.importer.environments import effective_in, place_in_environment
from dsgit.importer.layout import schema_header
from dsgit.model.entry import Address, JSONValue
from dsgit.model.pointers import expand
from dsgit.yamlio.document import dump_document, from_plain, load_document, to_plain
from dsgit.yamlio.merge import set_member

__all__ = ["ordered_scope_text", "standard_entry_text"]


def _load_mapping(text: str, filename: str, what: str) -> CommentedMap:
    document = load_document(text, filename)
    if document is None:
        return CommentedMap()
    if not isinstance(document, CommentedMap):
        raise ConfigError(
            f"expected a mapping ({what}); fix or remove the file", Location(filename)
        )
    return document


def _sealed_value(
    value: JSONValue,
    encrypted: Sequence[str],
    keyring: Keyring | None,
    address: Address,
    previous: JSONValue,
    filename: str,
) -> JSONValue:
    if not encrypted:
        return value
    if keyring is None:
        matched = [pointer for pattern in encrypted for pointer in expand(value, pattern)]
        if not matched:
            return value
        raise KeyNotAvailable(
            "must be stored encrypted but no encryption key is available "
            "(set DSGIT_ENCRYPTION_KEY or create a key: dsgit secrets keygen)",
            address=str(address),
            pointer=matched[0],
        )
    try:
        return encrypt_paths(
            value, encrypted, keyring.primary, address, previous=previous, keyring=keyring
        )
    except EncryptionError as exc:
        raise exc.at(Location(filename)) from None


def _set_optional(
    document: CommentedMap, name: str, live: JSONValue, empty: JSONValue, after: str
) -> bool:
    """Sync a metadata member that means "empty" when omitted: an existing empty member stays."""
    if name in document:
        if live == empty and to_plain(document[name]) in (empty, None):
            return False
        if live == empty:
            del document[name]
            return True
        return set_member(document, name, live)
    if live == empty:
        return False
    keys = list(document)
    position = keys.index(after) + 1 if after in keys else len(keys)
    document.insert(position, name, from_plain(live))
    return True


def standard_entry_text(
    existing: str | None,
    address: Address,
    value: JSONValue,
    attributes: Mapping[str, JSONValue],
    users: Sequence[int],
    *,
    filename: str,
    encrypted: Sequence[str] = (),
    keyring: Keyring | None = None,
    header: str | None = None,
    environment: str | None = None,
    others: tuple[str, ...] = (),
) -> str | None:
    """The entry file holding the live entry, values under ``encrypted`` pointers sealed.

    ``header`` is the first comment line of a new file (default: the entry schema's ``$id``).
    ``environment`` is the one imported and ``others`` the other environments the store
    exists in: an existing file then changes only what ``environment`` sees
    (:mod:`dsgit.importer.environments`).
    """
    document = _load_mapping(existing, filename, "value, attributes, users") if existing else None
    previous = to_plain(document.get("value")) if document is not None else None
    placed = (
        document is not None
        and environment is not None
        and "value" in document
        and bool(others or "environments" in document)
    )
    if placed:
        assert document is not None and environment is not None
        previous = effective_in(document, environment)
    sealed = _sealed_value(value, encrypted, keyring, address, previous, filename)
    live_attributes: JSONValue = dict(attributes)
    live_users: JSONValue = list(users)
    if document is None:
        fresh = CommentedMap()
        fresh["value"] = from_plain(sealed)
        if live_attributes:
            fresh["attributes"] = from_plain(live_attributes)
        if live_users:
            fresh["users"] = from_plain(live_users)
        return dump_document(fresh, header or schema_header("entry"))
    live: dict[str, JSONValue] = {
        "value": sealed,
        "attributes": live_attributes,
        "users": live_users,
    }
    changed = False
    if placed:
        assert environment is not None
        changed, live = place_in_environment(document, environment, others, live, filename)
    if "value" in live:
        if "value" in document:
            changed |= set_member(document, "value", live["value"])
        else:
            document.insert(0, "value", from_plain(live["value"]))
            changed = True
    if "attributes" in live:
        changed |= _set_optional(document, "attributes", live["attributes"], {}, "value")
    if "users" in live:
        changed |= _set_optional(document, "users", live["users"], [], "attributes")
    return dump_document(document) if changed else None


def ordered_scope_text(
    existing: str | None,
    entries: Sequence[tuple[str, int]],
    *,
    filename: str,
    header: str | None = None,
) -> str | None:
    """The ordered scope file holding ``entries`` (key, value), keys sorted in a new file.

    Keys already in the file keep their place (and their long form ``{value: n, ...}``); new
    keys go after the nearest preceding key in sorted order. Keys in the file that are not in
    ``entries`` are kept: import adopts, it never deletes.
    """
    ordered = sorted(entries)
    if existing is None:
        fresh = CommentedMap()
        for key, number in ordered:
            fresh[key] = number
        return dump_document(fresh, header or schema_header("ordered-scope"))
    document = _load_mapping(existing, filename, "key: integer")
    changed = False
    previous: str | None = None
    for key, number in ordered:
        if key in document:
            node: Any = document[key]
            if isinstance(node, CommentedMap) and "value" in node:
                changed |= set_member(node, "value", number)
            else:
                changed |= set_member(document, key, number)
        else:
            keys = list(document)
            position = keys.index(previous) + 1 if previous is not None else 0
            document.insert(position, key, number)
            changed = True
        previous = key
    return dump_document(document) if changed else None
