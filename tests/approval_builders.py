"""Plans, keys, policies and signed approvals for policy tests (no I/O)."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dsgit.model.declaration import SourceInfo
from dsgit.model.entry import Address, EntryData
from dsgit.plan.codes import DiagnosticCode
from dsgit.plan.io import with_digest
from dsgit.plan.model import (
    Action,
    Change,
    Diagnostic,
    Plan,
    PlanKind,
    Severity,
    StandardPrecondition,
    change_of,
    format_time,
    summarize,
)
from dsgit.policy.model import Approval, ApprovalKind, Approver, Policy, Rule
from dsgit.policy.parse import policy_from_document
from dsgit.policy.signature import document_digest, signed_bytes

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
CREATED = NOW - timedelta(hours=1)


def change(address: str, action: Action = Action.UPDATE, *, blocking: bool = False) -> Change:
    store, key = address.split("/", 1)
    diags = ()
    if blocking:
        diags = (
            Diagnostic(
                DiagnosticCode.ENTRY_DELETE, Severity.BLOCKING, "delete", None, address, None, "ok"
            ),
        )
    return change_of(
        action,
        after=EntryData(1),
        amount=1,
        address=Address.standard(store, key),
        reason="test",
        precondition=StandardPrecondition(exists=action is not Action.CREATE, etag="e1"),
        diff=(),
        sensitive=(),
        encrypted=(),
        diagnostics=diags,
    )


def plan(
    changes: tuple[Change, ...] = (),
    *,
    environment: str = "production",
    universe_id: int = 42,
    kind: PlanKind = PlanKind.PLAN,
    policy_digest: str | None = None,
    commit: str = "c" * 40,
) -> Plan:
    if not changes:
        changes = (change("Shop/Sword"),)
    context = {} if policy_digest is None else {"approvals_policy": policy_digest}
    body = Plan(
        format_version=1,
        dsgit_version="0.1.0",
        kind=kind,
        created=format_time(CREATED),
        expires=format_time(CREATED + timedelta(days=1)),
        environment=environment,
        universe_id=universe_id,
        source=SourceInfo(commit, False, "sha256:" + "d" * 64),
        changes=changes,
        diagnostics=(),
        summary=summarize(changes),
        digest="",
        context=context,
    )
    return with_digest(body)


class Person:
    """An approver with a real key pair."""

    def __init__(self, name: str, github: str | None = None, seed: int | None = None) -> None:
        self.name = name
        self.github = github
        if seed is None:
            self.private = Ed25519PrivateKey.generate()
        else:
            self.private = Ed25519PrivateKey.from_private_bytes(bytes([seed % 256]) * 32)
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key = "ed25519:" + base64.b64encode(raw).decode()

    def approver(self) -> Approver:
        return Approver(self.name, self.github, self.key)

    def sign(
        self,
        target: Plan,
        *,
        when: datetime = NOW,
        digest: str | None = None,
        environment: str | None = None,
        universe_id: int | None = None,
        name: str | None = None,
    ) -> Approval:
        fields = {
            "digest": digest or target.digest,
            "environment": environment or target.environment,
            "universe_id": universe_id if universe_id is not None else target.universe_id,
            "approver": name or self.name,
            "time": when,
        }
        signature = base64.b64encode(self.private.sign(signed_bytes(**fields))).decode()  # type: ignore[arg-type]
        approval = Approval(
            kind=ApprovalKind.SIGNATURE,
            approver=str(fields["approver"]),
            digest=str(fields["digest"]),
            environment=str(fields["environment"]),
            universe_id=int(fields["universe_id"]),  # type: ignore[call-overload]
            time=when,
            reference="",
            origin=f"{self.name}.json",
            key=self.key,
            signature=signature,
        )
        return replace(approval, reference=document_digest(approval))


def review(
    login: str,
    target: Plan,
    *,
    when: datetime = NOW,
    problems: tuple[str, ...] = (),
    review_id: int = 1,
) -> Approval:
    return Approval(
        kind=ApprovalKind.GITHUB_REVIEW,
        approver=login,
        digest=target.digest,
        environment=target.environment,
        universe_id=target.universe_id,
        time=when,
        reference=f"github-review:{review_id}",
        origin="https://github.com/o/r/pull/1",
        problems=problems,
    )


def policy_of(
    people: list[Person], rules: list[dict[str, object]] | None = None, **extra: object
) -> Policy:
    document: dict[str, object] = {
        "version": 1,
        "approvers": [
            {"name": p.name, "key": p.key, **({"github": p.github} if p.github else {})}
            for p in people
        ],
        **extra,
    }
    if rules is not None:
        document["rules"] = rules
    policy, issues = policy_from_document(document)
    assert not issues, issues
    return policy


def simple_rule(**fields: object) -> Rule:
    return Rule(name="r", **fields)  # type: ignore[arg-type]
