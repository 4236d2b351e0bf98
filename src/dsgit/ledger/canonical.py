"""Canonical JSON and the digests built on it (records, value digests, hashed user ids)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["ZERO_DIGEST", "canonical_json", "sha256_digest", "user_digest"]

ZERO_DIGEST = "sha256:" + "0" * 64  # the `prev` of the first record of a ledger


def canonical_json(value: Any) -> str:
    """Sorted keys, no insignificant whitespace, UTF-8 kept as is (what every digest hashes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_digest(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return "sha256:" + hashlib.sha256(data).hexdigest()


def user_digest(user_id: int | str) -> str:
    """How a Roblox user id appears in the ledger: hashed, so erasure leaves no id in clear.

    The prefix separates these hashes from every other digest; it is pseudonymisation (user ids
    are small integers), which is what erasure needs: the ledger proves, it does not identify.
    """
    return sha256_digest(f"dsgit-user:{int(user_id)}")
