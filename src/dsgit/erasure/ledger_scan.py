"""The ledger records holding an erased user's data, and what of them to redact.

A change record holds the user when its address is one the erasure plans to erase or edit,
one a template or by-name rule names for the user, or one with the user id in it as a whole
number (``Player_123``, ``123``), or when its ``users`` hold the user's hash: its address, users
and diff are redacted. Otherwise, a change record whose readable diff names the id (a ban list,
a roster) has its diff redacted and keeps its address. An apply record's conflicts and
suppressions are redacted one by one on the same tests. Records an erasure wrote name
addresses by salted hash only and match none of these.

The id is matched as a whole number (not inside a longer one) in the JSON of the diff: a
value that merely equals the id (``"coins": 123``) is redacted too, which loses readable
history, never a record's proof (its hash and digests stay).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from dsgit.erasure.policy import ErasurePolicy
from dsgit.erasure.preimage_scan import names_user
from dsgit.ledger.canonical import canonical_json, user_digest
from dsgit.ledger.redact import Redaction, unredacted
from dsgit.ledger.redactions import every_record
from dsgit.model.entry import Address

__all__ = ["erased_entries", "ledger_holding"]


def erased_entries(root: Path) -> Callable[[Address], bool]:
    """Whether an address is one an erasure apply of this repository deleted or edited (its
    change records name it by salted hash only): ``dsgit restore`` leaves those out."""
    from dsgit.erasure.proof import hashed_address, repository_salt
    from dsgit.ledger.records import ApplyRecord, ChangeOutcome, ChangeRecord

    salt = repository_salt(root, create=False)
    if not salt:
        return lambda address: False
    erasures: set[str] = set()
    written: list[tuple[str, str]] = []
    for item in every_record(root):
        body = item.record.body
        if isinstance(body, ApplyRecord) and body.plan_kind == "erasure":
            erasures.add(body.apply_id)
        elif isinstance(body, ChangeRecord) and body.outcome is ChangeOutcome.WRITTEN:
            written.append((body.apply_id, body.address))
    hashes = frozenset(address for apply_id, address in written if apply_id in erasures)
    return lambda address: hashed_address(salt, str(address)) in hashes


def ledger_holding(
    root: Path, policy: ErasurePolicy, user: int, planned: Iterable[Address] = ()
) -> list[Redaction]:
    """What to redact for ``user`` in every chain of the repository, in ledger order (the
    fields already redacted left out; records with nothing left out entirely)."""
    token = re.compile(rf"(?<![0-9]){int(user)}(?![0-9])")
    wanted = {str(address) for address in planned}
    digest = user_digest(user)

    def holds(address: Any) -> bool:
        if not isinstance(address, str):
            return False
        if address in wanted or token.search(address):
            return True
        try:
            parsed = Address.parse(address)
        except ValueError:
            return False
        return names_user(policy, parsed, user)

    found: list[Redaction] = []
    for item in every_record(root):
        raw = item.record.raw
        if raw is None:
            continue
        fields = _fields(raw, holds, token, digest)
        left = tuple(sorted(unredacted(raw, fields)))  # (sorted: shards' lists join)
        if left:
            record = item.record
            found.append(Redaction(item.file, record.chain, record.seq, record.hash, left))
    return found


def _fields(
    raw: Mapping[str, Any], holds: Callable[[Any], bool], token: re.Pattern[str], digest: str
) -> list[str]:
    kind = raw.get("type")
    if kind == "change":
        users = raw.get("users")
        if holds(raw.get("address")) or (isinstance(users, list) and digest in users):
            return [name for name in ("address", "users", "diff") if name in raw]
        diff = raw.get("diff")
        if isinstance(diff, list) and diff and token.search(canonical_json(diff)):
            return ["diff"]
        return []
    if kind == "apply":
        fields = []
        for i, address in enumerate(raw.get("conflicts") or ()):
            if holds(address):
                fields.append(f"conflicts/{i}")
        for i, item in enumerate(raw.get("suppressions") or ()):
            if isinstance(item, dict) and (
                holds(item.get("address")) or token.search(canonical_json(item))
            ):
                fields.append(f"suppressions/{i}")
        return fields
    return []
