"""A signed approval as a small JSON document, and as a text block for pull-request comments.

The JSON document (``PLAN.approvals/<approver>.json``)::

    {"approver": "alice", "digest": "sha256:…", "environment": "production",
     "format": "dsgit-approval/1", "key": "ed25519:…", "signature": "…",
     "time": "2026-12-03T10:00:00Z", "universe_id": 5830291043}

The text block holds the same fields, one ``name: value`` per line, between ``-----BEGIN DSGIT
APPROVAL-----`` and ``-----END DSGIT APPROVAL-----``; :func:`approvals_in_text` finds every block
in a comment (inside code fences or ``>`` quotes too).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dsgit.approvals.keys import ApproverKey
from dsgit.errors import ConfigError, Location
from dsgit.plan.model import Plan, format_time, parse_time
from dsgit.policy.model import Approval, ApprovalKind
from dsgit.policy.signature import SIGNED_FORMAT, document_digest, signed_bytes

__all__ = [
    "BEGIN",
    "END",
    "approval_from_json",
    "approval_json_text",
    "approval_to_json",
    "approval_to_text",
    "approvals_in_text",
    "sign_plan",
]

BEGIN = "-----BEGIN DSGIT APPROVAL-----"
END = "-----END DSGIT APPROVAL-----"
_FIELDS = ("format", "approver", "digest", "environment", "universe_id", "time", "key", "signature")
_BLOCK = re.compile(re.escape(BEGIN) + r"(.*?)" + re.escape(END), re.DOTALL)
_MAX_BLOCKS = 50


def sign_plan(plan: Plan, key: ApproverKey, approver: str, now: datetime) -> Approval:
    """A signed approval of ``plan`` by ``approver`` (the policy name of ``key``)."""
    moment = parse_time(format_time(now))  # whole seconds: what the document holds
    data = signed_bytes(
        digest=plan.digest,
        environment=plan.environment,
        universe_id=plan.universe_id,
        approver=approver,
        time=moment,
    )
    return _finish(
        Approval(
            kind=ApprovalKind.SIGNATURE,
            approver=approver,
            digest=plan.digest,
            environment=plan.environment,
            universe_id=plan.universe_id,
            time=moment,
            reference="",
            origin="",
            key=key.public,
            signature=key.sign(data),
        ),
        origin="",
    )


def _finish(approval: Approval, origin: str) -> Approval:
    from dataclasses import replace

    return replace(approval, reference=document_digest(approval), origin=origin)


def approval_to_json(approval: Approval) -> dict[str, Any]:
    return {
        "format": SIGNED_FORMAT,
        "approver": approval.approver,
        "digest": approval.digest,
        "environment": approval.environment,
        "universe_id": approval.universe_id,
        "time": format_time(approval.time),
        "key": approval.key,
        "signature": approval.signature,
    }


def approval_to_text(approval: Approval) -> str:
    """The fenced block to paste into a pull-request comment."""
    body = approval_to_json(approval)
    lines = [f"{name}: {body[name]}" for name in _FIELDS]
    return "```dsgit-approval\n" + "\n".join([BEGIN, *lines, END]) + "\n```\n"


def approval_from_json(data: Any, origin: str) -> Approval:
    """Parse a document (``ConfigError`` naming ``origin`` and the field when malformed)."""
    if not isinstance(data, Mapping):
        raise ConfigError("an approval must be a JSON object", Location(origin))

    def text(name: str) -> str:
        value = data.get(name)
        if not isinstance(value, str) or not value:
            raise ConfigError(f"missing or not a string: {name}", Location(origin, field=name))
        return value

    if data.get("format") != SIGNED_FORMAT:
        raise ConfigError(
            f"not a dsgit approval (format must be {SIGNED_FORMAT})",
            Location(origin, field="format"),
        )
    universe = data.get("universe_id")
    if isinstance(universe, str) and universe.isdigit():
        universe = int(universe)
    if not isinstance(universe, int) or isinstance(universe, bool):
        raise ConfigError("universe_id must be a number", Location(origin, field="universe_id"))
    try:
        moment = parse_time(text("time"))
    except ValueError:
        raise ConfigError("time is not an RFC 3339 time", Location(origin, field="time")) from None
    approval = Approval(
        kind=ApprovalKind.SIGNATURE,
        approver=text("approver"),
        digest=text("digest"),
        environment=text("environment"),
        universe_id=universe,
        time=moment,
        reference="",
        origin=origin,
        key=text("key"),
        signature=text("signature"),
    )
    return _finish(approval, origin)


def _block_fields(block: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for raw in block.splitlines():
        line = raw.strip().lstrip(">").strip()
        if not line or line.startswith("```"):
            continue
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def approvals_in_text(text: str, origin: str) -> tuple[list[Approval], list[str]]:
    """Every approval block in ``text`` (a comment, a file); ``(approvals, problems)``."""
    found: list[Approval] = []
    problems: list[str] = []
    for number, match in enumerate(_BLOCK.finditer(text), start=1):
        if number > _MAX_BLOCKS:
            problems.append(f"{origin}: more than {_MAX_BLOCKS} approval blocks; the rest ignored")
            break
        where = f"{origin} (block {number})"
        try:
            found.append(approval_from_json(_block_fields(match.group(1)), where))
        except ConfigError as exc:
            problems.append(f"not an approval: {exc}")
    return found, problems


def approval_json_text(approval: Approval) -> str:
    return json.dumps(approval_to_json(approval), indent=2, sort_keys=True) + "\n"
