"""Roblox's limit on a value's size, which both the repository checks and the planner enforce
(opencloud/README.md, "Limits"): one definition, so the two cannot disagree."""

from __future__ import annotations

import json

from dsgit.model.entry import JSONValue

__all__ = ["MAX_VALUE_CHARS", "encoded_length"]

MAX_VALUE_CHARS = 4_194_304  # Open Cloud's limit on a value once JSON-encoded


def encoded_length(value: JSONValue) -> int:
    """Characters of the compact JSON encoding, as Roblox counts a value's size."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
