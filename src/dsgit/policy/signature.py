"""What an approver signs, and checking a signature (Ed25519; pure computation, no I/O).

The signed bytes are the canonical JSON of ``{format, digest, environment, universe_id,
approver, time}``: an approval binds one plan digest, in one environment of one universe, by
one named approver, at one time. Changing any of them breaks the signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from dsgit.plan.model import format_time
from dsgit.policy.model import Approval
from dsgit.policy.parse import parse_public_key

__all__ = [
    "SIGNED_FORMAT",
    "approval_bytes",
    "document_digest",
    "signature_valid",
    "signed_bytes",
]

SIGNED_FORMAT = "dsgit-approval/1"


def signed_bytes(
    *, digest: str, environment: str, universe_id: int, approver: str, time: datetime
) -> bytes:
    """The exact bytes an approval's signature covers."""
    body = {
        "format": SIGNED_FORMAT,
        "digest": digest,
        "environment": environment,
        "universe_id": universe_id,
        "approver": approver,
        "time": format_time(time),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def approval_bytes(approval: Approval) -> bytes:
    return signed_bytes(
        digest=approval.digest,
        environment=approval.environment,
        universe_id=approval.universe_id,
        approver=approval.approver,
        time=approval.time,
    )


def document_digest(approval: Approval) -> str:
    """``sha256:<hex>`` of the signed bytes and the signature: the approval's ledger reference."""
    hasher = hashlib.sha256(approval_bytes(approval))
    hasher.update(b"\n" + (approval.signature or "").encode("ascii", "replace"))
    return "sha256:" + hasher.hexdigest()


def signature_valid(approval: Approval, public_key: str) -> bool:
    """True when ``approval.signature`` is an Ed25519 signature of its fields by ``public_key``."""
    raw = parse_public_key(public_key)
    if raw is None or approval.signature is None:
        return False
    try:
        signature = base64.b64decode(approval.signature, validate=True)
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, approval_bytes(approval))
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True
