"""``dsgit erase --verify --user ID``: read again, prove nothing of the user is left.

Reads everything the policy's templates and rules select, as the plan did; any entry still
holding the user (session-locked ones included), any pre-image in ``audit/preimages/`` still
holding them, or any ledger record still naming them (a field an erasure did not redact:
:mod:`dsgit.erasure.ledger_scan`) fails the proof. The ledger's erasure records of the user
(found by the salted hash) are listed as the evidence of what was done.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dsgit.erasure.collect import ErasureClient, ScanSettings, collect
from dsgit.erasure.ledger_scan import ledger_holding
from dsgit.erasure.policy import ErasurePolicy
from dsgit.erasure.preimage_scan import preimages_holding
from dsgit.erasure.proof import hashed_user, repository_salt
from dsgit.ledger.records import ErasureRecord, LedgerRecord
from dsgit.ledger.redact import Redaction
from dsgit.model.entry import Address

__all__ = ["Verification", "verify_erased"]


@dataclass(frozen=True)
class Verification:
    left: tuple[str, ...]  # live addresses still holding the user
    preimages: tuple[str, ...]  # pre-image files still holding the user
    read: dict[str, int]
    records: tuple[LedgerRecord, ...]  # the user's erasure records
    ledger: tuple[Redaction, ...] = ()  # ledger records still holding the user

    @property
    def clean(self) -> bool:
        return not self.left and not self.preimages and not self.ledger


def verify_erased(
    api: ErasureClient,
    policy: ErasurePolicy,
    user: int,
    root: Path,
    ledger_records: tuple[LedgerRecord, ...] = (),
    *,
    environment: str = "",
    settings: ScanSettings | None = None,
) -> Verification:
    """Scan as the plan did (its own checkpoint, removed once the proof is made)."""
    salt = repository_salt(root, create=False)
    survey = collect(api, policy, user, salt=salt, environment=environment, settings=settings)
    found = {str(a) for a in survey.direct}
    found.update(str(record["address"]) for record in survey.records())
    read = survey.read
    survey.done()
    left = tuple(sorted(found))
    preimages = tuple(preimages_holding(root, policy, user, [Address.parse(a) for a in left]))
    digest = hashed_user(salt, user) if salt else None
    records = tuple(
        r for r in ledger_records if isinstance(r.body, ErasureRecord) and r.body.user == digest
    )
    holding = tuple(ledger_holding(root, policy, user))
    return Verification(left, preimages, dict(read), records, holding)
