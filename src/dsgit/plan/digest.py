"""Canonical JSON and the sha256 digests plans are built on.

Canonical JSON: keys sorted, no insignificant whitespace, UTF-8, no NaN or infinities. The same
bytes for equal values on every machine, so digests (of plans, of live values in preconditions,
of sensitive placeholders) can be compared by apply, approvals and the ledger.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from dsgit.model.entry import EntryData, JSONValue

__all__ = [
    "canonical_json",
    "entry_digest",
    "sensitive_placeholder",
    "sha256_digest",
]


def canonical_json(value: object) -> bytes:
    """The canonical UTF-8 bytes of a JSON value (no trailing newline)."""
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def entry_json(data: EntryData) -> dict[str, JSONValue]:
    """The JSON object a value digest covers: value and metadata, as one write sets them."""
    attributes: Mapping[str, JSONValue] = data.attributes
    return {"value": data.value, "attributes": dict(attributes), "users": list(data.users)}


def entry_digest(data: EntryData) -> str:
    """``sha256:<hex>`` of the canonical ``{"value", "attributes", "users"}`` of an entry.

    This is what ``Precondition.value_digest`` holds for the live entry.
    """
    return sha256_digest(canonical_json(entry_json(data)))


def sensitive_placeholder(value: JSONValue) -> dict[str, JSONValue]:
    """What a plan's ``after`` holds in place of a sensitive plaintext."""
    return {"$sensitive": sha256_digest(canonical_json(value))}
